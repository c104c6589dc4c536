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
// someone else set in between is never overwritten by a queued tap. A queued
// tap refused later is named in the queue box ("not taken"), not counted as
// saved.
//
// By keyboard the arrow keys choose within a cell (a radio group) without
// saving each step: the choice is saved with Space or Enter, when the focus
// leaves the cell, or after a short pause; only the mark chosen last is sent.
//
// "all present" / "all done" of a session marks each open cell of its column
// as a tap would (queued and sent again like one), and can be undone: the
// undo takes back the marks it set, except in cells changed since.
(function () {
  "use strict";

  var grid = document.getElementById("attendance-grid");
  if (!grid || !window.fetch || !window.JSON) return;

  var TIMEOUT_MS = 10000;
  var FIRST_PAUSE_MS = 2000;
  var LONGEST_PAUSE_MS = 60000;
  var CHOICE_PAUSE_MS = 1500; // keyboard: saved after this pause
  var MAX_PARALLEL = 3; // requests at once (an "all present" sends many)
  var base = grid.getAttribute("data-base");
  var storeKey = "qualiplan.attendance." + grid.getAttribute("data-cohort");
  var queueBox = document.getElementById("attendance-queue");
  var queueText = queueBox.querySelector("[role=status]");
  var pending = load(); // cell → {mark, minutes, was}
  var sending = {}; // cell → true while its request runs
  var pause = FIRST_PAUSE_MS;
  var timer = null;
  var inFlight = 0;
  var held = []; // cells waiting for a free request
  // Requests that ran beside each other each counted without the others'
  // marks (and their answers may arrive in any order): once the last of them
  // is answered, the counters are read again from the page.
  var overlapped = false;
  var sent = 0; // requests started, so that a recount older than a tap is dropped
  var notTaken = {}; // cell → true: a queued tap refused when it was sent
  var choosing = {}; // cell → timer of a keyboard choice not saved yet
  var arrowed = null; // the cell whose arrow key press comes before a change
  var bulkBox = document.getElementById("attendance-bulk");
  var bulkText = bulkBox ? bulkBox.querySelector("[role=status]") : null;
  var bulk = null; // the last "all present": {title, mark, cells, undone, count, kept}

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

  // A tap: remember it first, then send it. `minutes` is null when none was
  // typed (partly: the server's usual 30 minutes).
  function tapped(group, mark, minutes) {
    var cell = group.getAttribute("data-cell");
    var before = pending[cell];
    var was = before ? before.was : confirmed(group);
    delete notTaken[cell];
    say(group, "");
    if (before && !sending[cell] && mark === was && mark !== "partly") {
      // Back to the mark the server holds before the change was sent.
      delete pending[cell];
      store();
      group.parentNode.classList.remove("saving", "queued");
      showQueue();
      return;
    }
    pending[cell] = { mark: mark, minutes: minutes === null ? "" : String(minutes), was: was };
    store();
    group.parentNode.classList.add("saving");
    showQueue();
    send(cell);
  }

  function send(cell) {
    var change = pending[cell];
    var group = groupOf(cell);
    if (!change || sending[cell]) return;
    if (group && inFlight >= MAX_PARALLEL) {
      if (held.indexOf(cell) < 0) held.push(cell);
      return;
    }
    if (!group) {
      // The cell is not on this page any more (withdrawn, session cancelled).
      delete pending[cell];
      store();
      showQueue();
      return;
    }
    if (inFlight > 0) overlapped = true;
    sending[cell] = true;
    inFlight += 1;
    sent += 1;
    var body = new FormData();
    var token = grid.querySelector("input[name=csrf_token]");
    if (token) body.append("csrf_token", token.value);
    body.append("mark", change.mark);
    body.append("minutes", change.minutes === 0 ? "" : String(change.minutes));
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
        done(cell, true);
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
        done(cell, false);
        failed(cell, false);
      });
  }

  // A request ended: the next cell waiting for one goes. The counters are
  // read again only over a connection that just answered (not while the
  // Wi-Fi is gone: the next answered tap does it then).
  function done(cell, answered) {
    sending[cell] = false;
    inFlight -= 1;
    window.setTimeout(function () {
      while (held.length && inFlight < MAX_PARALLEL) send(held.shift());
      if (overlapped && answered && inFlight === 0) {
        overlapped = false;
        recount();
      }
    }, 0);
  }

  // The session's, the cohort's and each person's counters as the page shows
  // them now. A tap started meanwhile brings its own, newer counters.
  function recount() {
    var asOf = sent;
    fetch(base, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("no page");
        return response.text();
      })
      .then(function (html) {
        if (asOf !== sent || !window.DOMParser) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var shown = fresh.querySelectorAll("[id^=rate-], #cohort-completion, [id^=decision-]");
        Array.prototype.forEach.call(shown, function (element) {
          var here = document.getElementById(element.id);
          if (here) here.replaceWith(document.importNode(element, true));
        });
      })
      .catch(function () {
        // The Wi-Fi went again: the next answered tap counts again.
        overlapped = true;
      });
  }

  function saved(cell, change, data) {
    var group = groupOf(cell);
    wasField(group).value = data.mark;
    show(group, data);
    var now = pending[cell];
    if (now === change || (now && now.mark === change.mark && String(now.minutes) === String(change.minutes))) {
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
    var key = group.getAttribute("data-cell");
    if (!pending[key] && !choosing[key]) check(group, data.mark);
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
    var wasQueued = group.parentNode.classList.contains("queued");
    delete pending[cell];
    store();
    group.parentNode.classList.remove("saving", "queued");
    if (data.current) {
      wasField(group).value = data.current.mark;
      show(group, data.current);
    }
    check(group, confirmed(group));
    say(group, data.error.message);
    if (wasQueued) {
      // Other queued changes may have been saved: the queue box names this one.
      bulkRefused(cell);
      notTaken[cell] = true;
    } else if (!bulkRefused(cell)) {
      showRefusal(data.error.message);
    }
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
    var missed = Object.keys(notTaken)
      .map(groupOf)
      .filter(Boolean)
      .map(function (group) {
        return group.getAttribute("aria-label");
      });
    var retry = queueBox.querySelector("[data-retry]");
    retry.hidden = !waiting;
    queueBox.classList.toggle("refused", missed.length > 0);
    if (!waiting && !missed.length) {
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
    var parts = [];
    if (waiting) {
      parts.push(
        waiting === 1
          ? queueText.getAttribute("data-one")
          : queueText.getAttribute("data-many").replace("{count}", String(waiting))
      );
    }
    if (missed.length) {
      parts.push(
        queueText
          .getAttribute(missed.length === 1 ? "data-refused-one" : "data-refused-many")
          .replace("{count}", String(missed.length))
          .replace("{cells}", missed.join("; "))
      );
    }
    queueText.textContent = parts.join(" ");
  }

  function showRefusal(message) {
    var box = document.getElementById("mark-refusal");
    if (!box) return;
    var reassurance = box.getAttribute("data-nothing-saved");
    box.textContent = sentence(message) + (reassurance ? " " + reassurance : "");
    box.hidden = false;
  }

  // A keyboard choice: kept on the page, saved after a pause unless the
  // person goes on choosing.
  function choose(group) {
    var cell = group.getAttribute("data-cell");
    if (choosing[cell]) window.clearTimeout(choosing[cell]);
    group.parentNode.classList.add("choosing");
    choosing[cell] = window.setTimeout(function () {
      commit(group);
    }, CHOICE_PAUSE_MS);
  }

  // Save the keyboard choice of a cell now, if it differs from its mark.
  function commit(group) {
    var cell = group.getAttribute("data-cell");
    if (!choosing[cell]) return;
    window.clearTimeout(choosing[cell]);
    delete choosing[cell];
    group.parentNode.classList.remove("choosing");
    var chosen = group.querySelector("input[type=radio]:checked");
    if (!chosen) return;
    var current = pending[cell] ? pending[cell].mark : confirmed(group);
    if (chosen.value !== current) tapped(group, chosen.value, null);
  }

  function commitAll() {
    Object.keys(choosing).forEach(function (cell) {
      var group = groupOf(cell);
      if (group) commit(group);
    });
  }

  grid.addEventListener("keydown", function (event) {
    var input = event.target;
    var group = input.closest && input.closest(".segments");
    if (!group || input.type !== "radio") return;
    if (/^Arrow/.test(event.key)) {
      arrowed = group;
    } else if (event.key === " " || event.key === "Enter") {
      if (event.key === "Enter") event.preventDefault(); // not the form's submit
      var cell = group.getAttribute("data-cell");
      if (choosing[cell]) {
        event.preventDefault();
        commit(group);
      } else if (event.key === "Enter" && !input.checked) {
        input.checked = true;
        tapped(group, input.value, null);
      }
    }
  });

  grid.addEventListener("keyup", function () {
    arrowed = null;
  });

  grid.addEventListener("focusout", function (event) {
    var group = event.target.closest && event.target.closest(".segments");
    if (!group) return;
    if (event.relatedTarget && group.contains(event.relatedTarget)) return;
    commit(group);
  });

  window.addEventListener("pagehide", commitAll);

  grid.addEventListener("change", function (event) {
    var input = event.target;
    var group = input.closest(".segments");
    if (input.type === "radio" && group) {
      document.getElementById("mark-refusal").hidden = true;
      if (arrowed === group) {
        arrowed = null;
        choose(group);
        return;
      }
      arrowed = null;
      var cell = group.getAttribute("data-cell");
      if (choosing[cell]) {
        window.clearTimeout(choosing[cell]);
        delete choosing[cell];
        group.parentNode.classList.remove("choosing");
      }
      tapped(group, input.value, null);
      return;
    }
    var td = input.closest("td");
    group = td && td.querySelector(".segments");
    if (group && input.type === "number") {
      // The field allows 1 to 600; anything else is refused here, at the
      // cell, and the mark stays as saved (the server refuses it likewise).
      var minutes = Number(input.value);
      var fits =
        input.value.trim() !== "" &&
        Math.floor(minutes) === minutes &&
        minutes >= Number(input.min) &&
        minutes <= Number(input.max);
      input.setAttribute("aria-invalid", fits ? "false" : "true");
      if (!fits) {
        say(group, grid.getAttribute("data-minutes-range") || "");
        return;
      }
      tapped(group, "partly", minutes);
    }
  });

  // "all present" / "all done": each open cell of the column is tapped.
  function markAll(button) {
    var session = button.getAttribute("data-all");
    var mark = button.getAttribute("data-mark");
    var groups = grid.querySelectorAll('.segments[data-cell^="' + session + '-"]');
    var cells = [];
    commitAll();
    for (var i = 0; i < groups.length; i++) {
      var group = groups[i];
      var cell = group.getAttribute("data-cell");
      if (pending[cell] || confirmed(group) !== "not_recorded") continue;
      check(group, mark);
      tapped(group, mark, null);
      cells.push(cell);
    }
    bulk = {
      title: button.getAttribute("data-title"),
      mark: mark,
      cells: cells,
      undone: false,
      count: cells.length,
      kept: 0,
    };
    showBulk();
  }

  function counted(count, one, many) {
    return (count === 1 ? bulkText.getAttribute(one) : bulkText.getAttribute(many)).replace(
      "{count}",
      String(count)
    );
  }

  function showBulk() {
    var parts = [];
    if (bulk.undone) {
      parts.push(counted(bulk.count, "data-undone-one", "data-undone-many"));
    } else if (!bulk.count && !bulk.kept) {
      parts.push(bulkText.getAttribute("data-none").replace("{session}", bulk.title));
    } else {
      parts.push(counted(bulk.count, "data-one", "data-many").replace("{session}", bulk.title));
    }
    if (bulk.kept) parts.push(counted(bulk.kept, "data-kept-one", "data-kept-many"));
    bulkText.textContent = parts.join(" ");
    bulkBox.querySelector("[data-undo]").hidden = bulk.undone || !bulk.cells.length;
    bulkBox.hidden = false;
  }

  // A cell of the last "all present" (or of its undo) was refused: someone
  // else's mark stays there, and the undo leaves it alone.
  function bulkRefused(cell) {
    var at = bulk ? bulk.cells.indexOf(cell) : -1;
    if (at < 0) return false;
    bulk.cells.splice(at, 1);
    bulk.count -= 1;
    bulk.kept += 1;
    showBulk();
    return true;
  }

  // Undo: the cells still holding the mark "all present" set are open again;
  // a cell changed since (here, or by someone else: refused by the server
  // and said at the cell) keeps its mark.
  function undoBulk() {
    if (!bulk || bulk.undone) return;
    var undone = [];
    var kept = 0;
    commitAll();
    bulk.cells.forEach(function (cell) {
      var group = groupOf(cell);
      if (!group) return;
      var now = pending[cell];
      if ((now ? now.mark : confirmed(group)) !== bulk.mark) {
        kept += 1;
        return;
      }
      check(group, "not_recorded");
      tapped(group, "not_recorded", null);
      undone.push(cell);
    });
    bulk = {
      title: bulk.title,
      mark: "not_recorded",
      cells: undone,
      undone: true,
      count: undone.length,
      kept: kept,
    };
    showBulk();
  }

  if (bulkBox) {
    var buttons = grid.querySelectorAll("button[data-all]");
    for (var b = 0; b < buttons.length; b++) {
      (function (button) {
        var form = document.getElementById(button.getAttribute("form"));
        if (!form) return;
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          markAll(button);
        });
      })(buttons[b]);
    }
    bulkBox.querySelector("[data-undo]").addEventListener("click", undoBulk);
  }

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
