// Copy buttons: <button data-copy="input-id">. No inline scripts (see the CSP).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value);
  } else {
    document.execCommand("copy");
  }
  button.setAttribute("aria-live", "polite");
  button.textContent = button.textContent.replace(/…?$/, " ✓");
});

// Print buttons: <button data-print>.
document.addEventListener("click", function (event) {
  if (event.target.closest("button[data-print]")) window.print();
});
