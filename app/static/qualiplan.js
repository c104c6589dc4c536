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

// Attendance marks: <form class="mark"> is saved in the background and its
// cell updated, without reloading the grid. Without script it posts as usual.
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form.mark");
  if (!form || !window.fetch) return;
  event.preventDefault();
  var button = form.querySelector("button");
  button.disabled = true;
  fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (data) {
      if (data.mark === "partly") {
        window.location.reload(); // shows the field for the minutes missed
        return;
      }
      form.closest("td").className = "mark mark-" + data.mark;
      form.querySelector("input[name=mark]").value = data.next;
      button.textContent = data.label;
      button.setAttribute("aria-label", data.aria);
      button.disabled = false;
    })
    .catch(function () {
      form.submit(); // the server answers with the page and its message
    });
});
