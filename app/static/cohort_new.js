// Planning a cohort: region and time zone follow the organisation chosen
// while they are left at the previous organisation's values, and a fork is
// offered for its own client only. Without this script the server does the
// same when the form is sent (it refuses another client's fork).
document.querySelectorAll("form[data-cohort-new]").forEach(function (form) {
  var organisation = form.querySelector('select[name="organisation"]');
  var region = form.querySelector('select[name="region"]');
  var timezone = form.querySelector('select[name="timezone"]');
  var shown = form.querySelector('input[name="defaults_of"]');
  var version = form.querySelector('select[name="version"]');
  if (!organisation || !region || !timezone || !shown || !version) return;

  function defaultsOf(id) {
    var option = Array.prototype.find.call(organisation.options, function (o) { return o.value === id; });
    return option ? { region: option.dataset.region, timezone: option.dataset.timezone } : null;
  }
  function choose(select, value) {
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    if (known) select.value = value;
  }
  function offerForks() {
    var chosen = organisation.value;
    Array.prototype.forEach.call(version.options, function (option) {
      var owner = option.dataset.organisation;
      var foreign = Boolean(owner) && owner !== chosen;
      option.hidden = foreign;
      option.disabled = foreign;
    });
    var selected = version.options[version.selectedIndex];
    if (selected && selected.disabled) {
      var first = Array.prototype.find.call(version.options, function (o) { return !o.disabled; });
      if (first) version.value = first.value;
    }
  }
  function follow() {
    var before = defaultsOf(shown.value);
    var after = defaultsOf(organisation.value);
    if (before && after) {
      if (region.value === before.region) choose(region, after.region);
      if (timezone.value === before.timezone) choose(timezone, after.timezone);
    }
    shown.value = organisation.value;
    offerForks();
  }
  organisation.addEventListener("change", follow);
  offerForks();
});
