// A job's page (templates/jobs/show.html): asks every second how far the
// job is, moves the progress bar, and loads the page again when the job is
// done, to show what came out. Without JavaScript the page has a link to
// reload it by hand.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box || box.getAttribute("data-finished") === "true") return;
  var url = box.getAttribute("data-job-status");
  var bar = document.getElementById("job-progress");
  var count = document.getElementById("job-count");
  var message = document.getElementById("job-message");

  function show(status) {
    if (status.total) {
      bar.max = status.total;
      bar.value = status.done;
    } else {
      bar.removeAttribute("value");
    }
    bar.textContent = status.percent === null ? "" : status.percent + " %";
    count.textContent = status.text;
    // The live region speaks only when the step changes, not every second.
    if (status.message && message.textContent !== status.message) {
      message.textContent = status.message;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        // Gone (cleaned up) or no longer ours: the page itself says so.
        if (response.status === 404 || response.status === 401) {
          window.location.reload();
          return new Promise(function () {});
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (status) {
        if (status.finished) {
          window.location.reload();
          return;
        }
        show(status);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 1000);
})();
