// The attendance grid: a tap on a segment saves that mark at once, and the
// session's and the cohort's counters follow the answer. Without this script
// the grid is a form with a save button (see attendance/grid.html).
//
// A tap that cannot be sent (no network, a server error, no answer within
// the timeout) waits in a queue that is kept in localStorage, shown above the
// grid and sent again with growing pauses and when the browser is online
// again; it survives a reload. A refusal by a rule (the cohort was completed,
// the session has not begun, someone else changed the mark meanwhile) comes
// back as {"error": {"code", "message"}} and is shown at the cell; it is not
// sent again. Each tap carries the mark the cell showed ("was"), so a mark
// someone else set in between is never overwritten by a queued tap.
(function () {
  "use strict";

  var grid = document.getElementById("attendance-grid");
  if (!grid || !window.fetch || !window.JSON) return;

  var TIMEOUT_MS = 10000;
  var FIRST_PAUSE_MS = 2000;
  var LONGEST_PAUSE_MS = 60000;
  var base = grid.getAttribute("data-base");
  var storeKey = "qualiplan.attendance." + grid.getAttribute("data-cohort");
  var queueBox = document.getElementById("attendance-queue");
  var queueText = queueBox.querySelector("[role=status]");
  var pending = load(); // cell → {mark, minutes, was}
  var sending = {}; // cell → true while its request runs
  var pause = FIRST_PAUSE_MS;
  var timer = null;

  grid.classList.add("live");

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {};
    } catch (error) {
      return {};
    }
  }

  function store() {
    try {
      if (Object.keys(pending).length) {
        window.localStorage.setItem(storeKey, JSON.stringify(pending));
      } else {
        window.localStorage.removeItem(storeKey);
      }
    } catch (error) {
      // Private mode or a full store: the queue still lives on this page.
    }
  }

  function groupOf(cell) {
    return grid.querySelector('.segments[data-cell="' + cell + '"]');
  }

  function wasField(group) {
    return group.querySelector("input[type=hidden]");
  }

  function statusOf(group) {
    return group.parentNode.querySelector(".status");
  }

  // The mark the server holds, as far as this page knows.
  function confirmed(group) {
    return wasField(group).value;
  }

  function check(group, mark) {
    var radios = group.querySelectorAll("input[type=radio]");
    for (var i = 0; i < radios.length; i++) radios[i].checked = radios[i].value === mark;
  }

  function say(group, text) {
    var note = group.parentNode.querySelector(".cell-note");
    if (!text) {
      if (note) note.parentNode.removeChild(note);
      return;
    }
    if (!note) {
      note = document.createElement("span");
      note.className = "cell-note";
      group.parentNode.appendChild(note);
    }
    note.textContent = sentence(text);
  }

  function sentence(text) {
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function minutesField(group, mark, minutes) {
    var cell = group.parentNode;
    var label = cell.querySelector("label.minutes");
    if (mark !== "partly") {
      if (label) label.parentNode.removeChild(label);
      return;
    }
    if (!label) {
      var template = document.getElementById("minutes-field");
      label = template.content.firstElementChild.cloneNode(true);
      cell.appendChild(label);
    }
    var input = label.querySelector("input");
    input.name = "min-" + group.getAttribute("data-cell");
    if (minutes) input.value = minutes;
  }

  // A tap: remember it first, then send it.
  function tapped(group, mark, minutes) {
    var cell = group.getAttribute("data-cell");
    var before = pending[cell];
    pending[cell] = {
      mark: mark,
      minutes: minutes || 0,
      was: before ? before.was : confirmed(group),
    };
    store();
    say(group, "");
    group.parentNode.classList.add("saving");
    showQueue();
    send(cell);
  }

  function send(cell) {
    var change = pending[cell];
    var group = groupOf(cell);
    if (!change || sending[cell]) return;
    if (!group) {
      // The cell is not on this page any more (withdrawn, session cancelled).
      delete pending[cell];
      store();
      showQueue();
      return;
    }
    sending[cell] = true;
    var body = new FormData();
    var token = grid.querySelector("input[name=csrf_token]");
    if (token) body.append("csrf_token", token.value);
    body.append("mark", change.mark);
    body.append("minutes", String(change.minutes));
    body.append("was", change.was);
    var parts = cell.split("-");
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = window.setTimeout(function () {
      if (controller) controller.abort();
    }, TIMEOUT_MS);
    fetch(base + "/" + parts[0] + "/" + parts[1], {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return (json ? response.json() : Promise.resolve(null)).then(function (data) {
          return { status: response.status, data: data };
        });
      })
      .then(function (answer) {
        window.clearTimeout(timeout);
        sending[cell] = false;
        if (answer.status === 200 && answer.data && answer.data.mark) {
          saved(cell, change, answer.data);
        } else if (answer.data && answer.data.error && answer.status >= 403 && answer.status < 500) {
          refused(cell, answer.data);
        } else if (answer.status === 400 || !answer.data) {
          // An expired form token, or a login page after the session ended:
          // take a fresh token from the page and keep the tap.
          failed(cell, true);
        } else {
          failed(cell, false);
        }
      })
      .catch(function () {
        window.clearTimeout(timeout);
        sending[cell] = false;
        failed(cell, false);
      });
  }

  function saved(cell, change, data) {
    var group = groupOf(cell);
    wasField(group).value = data.mark;
    show(group, data);
    var now = pending[cell];
    if (now === change || (now && now.mark === change.mark && now.minutes === change.minutes)) {
      delete pending[cell];
      group.parentNode.classList.remove("saving", "queued");
      say(group, "");
    } else if (now) {
      now.was = data.mark; // a later tap on the same cell follows this one
      send(cell);
    }
    store();
    pause = FIRST_PAUSE_MS;
    showQueue();
    if (Object.keys(pending).length) retrySoon(0);
  }

  function show(group, data) {
    var cell = group.parentNode;
    cell.className = cell.className.replace(/\bmark-[a-z_]+/, "mark-" + data.mark);
    statusOf(group).textContent = data.status;
    if (!pending[group.getAttribute("data-cell")]) check(group, data.mark);
    minutesField(group, data.mark, data.minutes);
    counters(group.getAttribute("data-cell"), data);
  }

  function counters(cell, data) {
    var parts = cell.split("-");
    var rate = document.getElementById("rate-" + parts[0]);
    if (rate && data.session) {
      var meter = rate.querySelector("meter");
      meter.max = data.session.expected || 1;
      meter.value = data.session.present;
      rate.querySelector(".count").textContent =
        data.session.present + "/" + data.session.expected;
      rate.title = data.session.title;
    }
    var completion = document.getElementById("cohort-completion");
    if (completion && data.cohort) {
      var whole = completion.querySelector("meter");
      whole.max = data.cohort.people || 1;
      whole.value = data.cohort.eligible;
      completion.querySelector(".count").textContent = data.cohort.text;
    }
    var decision = document.getElementById("decision-" + parts[1]);
    if (decision && data.person) {
      var name = decision.querySelector("strong");
      while (name.nextSibling) decision.removeChild(name.nextSibling);
      decision.appendChild(document.createTextNode(": "));
      if (data.person.eligible) {
        var tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = data.person.text;
        decision.appendChild(tag);
      } else {
        decision.appendChild(document.createTextNode(data.person.text));
      }
    }
  }

  function refused(cell, data) {
    var group = groupOf(cell);
    delete pending[cell];
    store();
    group.parentNode.classList.remove("saving", "queued");
    if (data.current) {
      wasField(group).value = data.current.mark;
      show(group, data.current);
    }
    check(group, confirmed(group));
    say(group, data.error.message);
    showRefusal(data.error.message);
    showQueue();
  }

  function failed(cell, freshToken) {
    var group = groupOf(cell);
    if (group) {
      group.parentNode.classList.remove("saving");
      group.parentNode.classList.add("queued");
    }
    if (group) say(group, queueBox.getAttribute("data-queued"));
    showQueue();
    if (timer) return; // one pause for all cells of this round
    if (freshToken) {
      renewToken().then(function () {
        retrySoon(pause);
      });
    } else {
      retrySoon(pause);
    }
    pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
  }

  function renewToken() {
    return fetch(base, { credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (page) {
        var match = /name="csrf_token"[^>]*value="([^"]+)"/.exec(page);
        var token = grid.querySelector("input[name=csrf_token]");
        if (match && token) token.value = match[1];
      })
      .catch(function () {});
  }

  function retrySoon(after) {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(retryAll, after);
  }

  function retryAll() {
    timer = null;
    Object.keys(pending).forEach(send);
  }

  function showQueue() {
    var waiting = Object.keys(pending).filter(function (cell) {
      var group = groupOf(cell);
      return group && group.parentNode.classList.contains("queued");
    }).length;
    if (!waiting) {
      if (!queueBox.hidden && !queueBox.classList.contains("done")) {
        // The queue was shown: say that it is empty now, for a moment.
        queueBox.classList.add("done");
        queueText.textContent = queueText.getAttribute("data-done");
        window.setTimeout(function () {
          if (!queueBox.classList.contains("done")) return;
          queueBox.hidden = true;
          queueBox.classList.remove("done");
        }, 4000);
      }
      return;
    }
    queueBox.classList.remove("done");
    queueBox.hidden = false;
    queueText.textContent =
      waiting === 1
        ? queueText.getAttribute("data-one")
        : queueText.getAttribute("data-many").replace("{count}", String(waiting));
  }

  function showRefusal(message) {
    var box = document.getElementById("mark-refusal");
    if (!box) return;
    var reassurance = box.getAttribute("data-nothing-saved");
    box.textContent = sentence(message) + (reassurance ? " " + reassurance : "");
    box.hidden = false;
  }

  grid.addEventListener("change", function (event) {
    var input = event.target;
    var group = input.closest(".segments");
    if (input.type === "radio" && group) {
      document.getElementById("mark-refusal").hidden = true;
      tapped(group, input.value, 0);
      return;
    }
    var cell = input.closest("td");
    group = cell && cell.querySelector(".segments");
    if (group && input.type === "number") {
      var minutes = parseInt(input.value, 10);
      tapped(group, "partly", isNaN(minutes) ? -1 : minutes);
    }
  });

  // Enter in a minutes field, or the save button: everything is sent already.
  grid.addEventListener("submit", function (event) {
    event.preventDefault();
    retryAll();
  });

  queueBox.querySelector("[data-retry]").addEventListener("click", function () {
    pause = FIRST_PAUSE_MS;
    retryAll();
  });

  window.addEventListener("online", function () {
    pause = FIRST_PAUSE_MS;
    retryAll();
  });

  // Taps kept from before a reload: shown as chosen, and sent again.
  Object.keys(pending).forEach(function (cell) {
    var group = groupOf(cell);
    if (!group) return;
    check(group, pending[cell].mark);
    group.parentNode.classList.add("queued");
  });
  showQueue();
  retryAll();
})();
