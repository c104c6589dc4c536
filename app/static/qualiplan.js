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
// A refusal (the cohort was completed meanwhile, the session has not begun…)
// comes back as {"error": {"code", "message"}}: its reason is shown above
// the grid and the cell keeps its mark.
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
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (data) {
          if (response.ok && data) return data;
          if (data && data.error && data.error.message) {
            showRefusal(data.error.message);
            button.disabled = false;
            return null;
          }
          throw new Error(String(response.status));
        });
    })
    .then(function (data) {
      if (!data) return;
      hideRefusal();
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

function showRefusal(message) {
  var box = document.getElementById("mark-refusal");
  if (!box) {
    window.alert(message);
    return;
  }
  var text = message.charAt(0).toUpperCase() + message.slice(1);
  if (!/[.!?]$/.test(text)) text += ".";
  var reassurance = box.getAttribute("data-nothing-saved");
  box.textContent = reassurance ? text + " " + reassurance : text;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

function hideRefusal() {
  var box = document.getElementById("mark-refusal");
  if (box) box.hidden = true;
}
