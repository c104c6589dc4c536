// The participants list: a box in the table's head ticks everyone on the
// page, and the cohort choice shows only for the actions that need it.
// Without this script the page works the same, box by box.
document.querySelectorAll("input[data-pick-all]").forEach(function (all) {
  var form = all.form;
  var boxes = form.querySelectorAll('input[name="' + all.getAttribute("data-pick-all") + '"]');
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  form.addEventListener("change", function (event) {
    if (event.target === all || event.target.name !== all.getAttribute("data-pick-all")) return;
    var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  });
});

document.querySelectorAll('select[name="action"]').forEach(function (action) {
  var field = action.form.querySelector("[data-cohort-field]");
  if (!field) return;
  function show() { field.hidden = action.value === "links"; }
  action.addEventListener("change", show);
  show();
});
