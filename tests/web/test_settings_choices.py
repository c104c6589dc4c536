"""An organisation's settings offer plain choices: time zones by city and
country (the frequent ones first, no old aliases), region names in the
reader's language, and reminder days as boxes to tick."""

from __future__ import annotations

import re

from app.models import Organisation, Role
from tests.web.helpers import log_in, post_form


def _setup(make):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org")
    return org.id


def _select(page: str, name: str) -> str:
    return page.split(f'name="{name}"')[1].split("</select>")[0]


def _version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)


def test_time_zones_are_named_by_city_the_frequent_first(client, make):
    org_id = _setup(make)
    log_in(client, "admin@example.org")
    zones = _select(
        client.get(f"/settings/organisations/{org_id}").get_data(as_text=True), "timezone"
    )
    assert '<optgroup label="Häufig gewählt">' in zones
    assert '<option selected value="Europe/Berlin">Berlin (Deutschland)</option>' in zones
    frequent, rest = zones.split('<optgroup label="Alle Zeitzonen">')
    assert "Wien (Österreich)" in frequent
    assert "Zürich (Schweiz)" in frequent
    assert rest.index("Abidjan") < rest.index("Zagreb")  # by name in German
    for alias in ("Africa/Asmera", "America/Buenos_Aires", "US/Eastern", "Europe/Kiev"):
        assert f'value="{alias}"' not in zones, alias
    assert 'value="America/Argentina/Buenos_Aires">Buenos Aires (Argentinien)<' in zones
    assert "Koordinierte Weltzeit (UTC)" in zones


def test_a_stored_old_alias_stays_choosable(client, make, db):
    org_id = _setup(make)
    db.session.get(Organisation, org_id).default_timezone = "Europe/Kiev"
    db.session.commit()
    log_in(client, "admin@example.org")
    zones = _select(
        client.get(f"/settings/organisations/{org_id}").get_data(as_text=True), "timezone"
    )
    assert re.search(r'<option selected value="Europe/Kiev">[^<]+</option>', zones)


def test_region_names_are_in_one_language(client, make):
    org_id = _setup(make)
    log_in(client, "admin@example.org")
    german = _select(
        client.get(f"/settings/organisations/{org_id}").get_data(as_text=True), "region"
    )
    for name in ("Genf", "Tessin", "Waadt", "Wallis", "Neuenburg", "Freiburg", "Bayern"):
        assert f">{name}</option>" in german, name
    for name in ("Genève", "Ticino", "Vaud", "Valais", "Neuchâtel"):
        assert f">{name}</option>" not in german, name
    # Sorted by the German names: Genf before Glarus, Tessin before Thurgau.
    assert german.index(">Genf<") < german.index(">Glarus<")
    english = _select(
        client.get(f"/settings/organisations/{org_id}?lang=en").get_data(as_text=True), "region"
    )
    for name in ("Geneva", "Ticino", "Bavaria", "Lower Saxony", "Vienna", "Tyrol"):
        assert f">{name}</option>" in english, name
    assert ">Genf</option>" not in english


def test_reminder_days_are_ticked(client, make, db):
    org_id = _setup(make)
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{org_id}"
    page = client.get(url).get_data(as_text=True)
    assert "<legend>Erinnerungen per E-Mail vor jedem Termin</legend>" in page
    for n, text in (
        (1, "1 Tag vorher"),
        (2, "2 Tage vorher"),
        (7, "7 Tage vorher"),
        (14, "14 Tage vorher"),
    ):
        assert re.search(rf'value="{n}"[^>]*>\s*<label for="[^"]+">{text}</label>', page), n
    data = {
        "name": "Muster AG",
        "region": "DE-BW",
        "timezone": "Europe/Berlin",
        "version": _version(page),
        "mail_from": "",
        "reminder_days": ["1", "7"],
    }
    assert post_form(client, url, data).status_code == 303
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).reminder_days == [7, 1]
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'checked[^>]*value="7"|value="7"[^>]*checked', page)
    assert not re.search(r'checked[^>]*value="14"|value="14"[^>]*checked', page)
    # A value stored before that the boxes lack is shown and kept.
    db.session.get(Organisation, org_id).reminder_days = [5]
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'checked[^>]*value="5"|value="5"[^>]*checked', page)
    assert "5 Tage vorher" in page
    # A day that is not offered is refused, and nothing changes.
    refused = post_form(client, url, {**data, "version": _version(page), "reminder_days": ["9"]})
    assert refused.status_code == 400
    error = refused.get_data(as_text=True).split('id="reminder_days-error">')[1].split("<")[0]
    assert error == "Bitte Tage aus der Liste ankreuzen."
    for wrong in (["x"], ["7", "-1"]):
        refused = post_form(
            client, url, {**data, "version": _version(page), "reminder_days": wrong}
        )
        assert refused.status_code == 400
        assert "Bitte Tage aus der Liste ankreuzen." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).reminder_days == [5]
