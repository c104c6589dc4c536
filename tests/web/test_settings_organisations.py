"""An admin keeps their organisations in the settings area: name, region,
time zone and closure days by year; bad input is refused at its field and
changes nothing."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.models import ClosureDay, Organisation, Role
from tests.web.helpers import csrf_token, log_in, post_form


@pytest.fixture
def team(make, db):
    org = make.organisation()
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [org], email="admin@example.org", name="Ada Admin")
    make.user(Role.HR, [org], email="hr@example.org", name="Hanna Personal")
    make.user(Role.ADMIN, [other], email="s@example.org", name="Sara Fremd")
    return SimpleNamespace(org=org.id, other=other.id)


def _version(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)


def _organisation(db, organisation_id: int) -> Organisation:
    db.session.expire_all()
    return db.session.get(Organisation, organisation_id)


def test_an_admin_adds_an_organisation_and_belongs_to_it(client, team, db):
    log_in(client, "admin@example.org")
    form = client.get("/settings/organisations/new").get_data(as_text=True)
    assert '<option selected value="DE-BW">Baden-Württemberg</option>' in form
    assert '<option selected value="Europe/Berlin">Berlin (Deutschland)</option>' in form
    done = post_form(
        client,
        "/settings/organisations/new",
        {"name": " Neckar Logistik GmbH ", "region": "DE-BY", "timezone": "Europe/Vienna"},
        follow_redirects=True,
    )
    assert "Die Organisation Neckar Logistik GmbH wurde angelegt." in done.get_data(as_text=True)
    made = db.session.scalar(
        select(Organisation).where(Organisation.name == "Neckar Logistik GmbH")
    )
    assert (made.default_region, made.default_timezone) == ("DE-BY", "Europe/Vienna")
    listed = client.get("/settings").get_data(as_text=True)
    assert "Neckar Logistik GmbH" in listed
    assert "<td>Bayern</td>" in listed  # by name, not DE-BY
    assert client.get(f"/settings/organisations/{made.id}").status_code == 200


def test_every_bad_value_is_refused_at_its_field_and_nothing_changes(client, team, db):
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{team.org}"
    refused = post_form(
        client,
        url,
        {
            "name": "Andere GmbH",  # taken
            "region": "DE-XX",
            "timezone": "Europe/Atlantis",
            "version": _version(client, url),
        },
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'id="name-error">Eine Organisation „Andere GmbH“ gibt es bereits.' in page
    assert 'id="region-error"' in page
    assert 'id="timezone-error"' in page
    org = _organisation(db, team.org)
    assert (org.name, org.default_region, org.default_timezone) == (
        "Muster AG",
        "DE-BW",
        "Europe/Berlin",
    )

    made = post_form(
        client,
        "/settings/organisations/new",
        {"name": "Neu\nGmbH", "region": "XX", "timezone": "Mars/Olympus"},
    )
    assert made.status_code == 400
    page = made.get_data(as_text=True)
    for field in ("name", "region", "timezone"):
        assert f'id="{field}-error"' in page, field
    assert db.session.scalar(select(func.count(Organisation.id))) == 2


def test_name_region_and_time_zone_are_changed_and_a_stale_edit_is_refused(client, team, db):
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{team.org}"
    old = _version(client, url)
    done = post_form(
        client,
        url,
        {"name": "Muster SE", "region": "DE-NW", "timezone": "Europe/Berlin", "version": old},
        follow_redirects=True,
    )
    assert "Gespeichert." in done.get_data(as_text=True)
    assert _organisation(db, team.org).default_region == "DE-NW"
    stale = post_form(
        client,
        url,
        {"name": "Muster KG", "region": "DE-BY", "timezone": "Europe/Berlin", "version": old},
        follow_redirects=True,
    )
    assert "Jemand anderes hat das inzwischen geändert" in stale.get_data(as_text=True)
    org = _organisation(db, team.org)
    assert (org.name, org.default_region) == ("Muster SE", "DE-NW")


def test_another_organisation_is_not_found_and_other_roles_are_refused(client, team):
    log_in(client, "admin@example.org")
    assert client.get(f"/settings/organisations/{team.other}").status_code == 404
    assert client.get(f"/settings/organisations/{team.other}/closures/2027").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "hr@example.org")
    assert client.get(f"/settings/organisations/{team.org}/closures/2027").status_code == 403
    added = post_form(
        client,
        f"/settings/organisations/{team.org}/closures/2027",
        {"first": "06.01.2027", "reason": "x"},
        form_url="/dashboard",
    )
    assert added.status_code == 403


def _closures(db, organisation_id: int) -> dict[date, str]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(ClosureDay).where(ClosureDay.organisation_id == organisation_id)
    ).all()
    return {c.day: c.reason for c in rows}


def test_closure_days_are_added_typed_or_picked_and_removed(client, team, db):
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{team.org}/closures/2027"
    assert "Keine Schließtage im Jahr 2027." in client.get(url).get_data(as_text=True)
    done = post_form(
        client,
        url,
        {"first": "24.12.2027", "last": "2027-12-31", "reason": "Betriebsruhe"},
        follow_redirects=True,
    )
    assert "8 Schließtage wurden eingetragen." in done.get_data(as_text=True)
    post_form(client, url, {"first": "6.1.2027", "reason": ""})
    closed = _closures(db, team.org)
    assert len(closed) == 9
    assert closed[date(2027, 12, 24)] == "Betriebsruhe"
    assert closed[date(2027, 1, 6)] == ""

    page = client.get(url).get_data(as_text=True)
    assert "06.01.2027" in page
    first = re.search(r'name="remove" value="(\d+)"', page).group(1)  # 06.01., the earliest
    gone = client.post(
        f"{url}/remove",
        data={"csrf_token": csrf_token(client, url), "remove": first},
        follow_redirects=True,
    )
    assert "06.01.2027" in gone.get_data(as_text=True)  # "… is no longer a closure day"
    assert date(2027, 1, 6) not in _closures(db, team.org)
    # Another year shows its own days only.
    assert "Betriebsruhe" not in client.get(
        f"/settings/organisations/{team.org}/closures/2028"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"first": "06.01.2026"}, "first", "06.01.2026 liegt nicht im Jahr 2027"),
        ({"first": "31.12.2027", "last": "02.01.2028"}, "last", "liegt nicht im Jahr 2027"),
        ({"first": "10.03.2027", "last": "09.03.2027"}, "last", "Der letzte Tag liegt vor dem"),
        ({"first": "31.02.2027"}, "first", "06.01.2027"),
        ({"first": "morgen"}, "first", "06.01.2027"),
        ({"first": ""}, "first", ""),
        ({"first": "23.12.2027", "last": "25.12.2027"}, "first", "schon ein Schließtag"),
        ({"first": "05.05.2027", "reason": "a\x1bb"}, "reason", ""),
        ({"first": "05.05.2027", "reason": "x" * 201}, "reason", ""),
    ],
)
def test_bad_closure_days_are_refused_at_their_field(client, team, db, data, field, text):
    db.session.add(ClosureDay(organisation_id=team.org, day=date(2027, 12, 24), reason="Ruhe"))
    db.session.commit()
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{team.org}/closures/2027"
    refused = post_form(client, url, {"reason": "", **data})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    error = re.search(rf'<span class="error" id="{field}-error">([^<]*)</span>', page)
    assert error, page
    assert text in error.group(1).replace("&#34;", '"')
    assert _closures(db, team.org) == {date(2027, 12, 24): "Ruhe"}


def test_a_closure_day_of_another_organisation_cannot_be_removed(client, team, db):
    theirs = ClosureDay(organisation_id=team.other, day=date(2027, 5, 5), reason="Fremd")
    db.session.add(theirs)
    db.session.commit()
    theirs_id = theirs.id
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{team.org}/closures/2027"
    response = client.post(
        f"{url}/{theirs_id}/remove", data={"csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 404
    assert _closures(db, team.other) == {date(2027, 5, 5): "Fremd"}


def test_the_data_protection_hint_speaks_to_people(client, team):
    log_in(client, "admin@example.org")
    page = client.get(f"/organisations/{team.org}/privacy").get_data(as_text=True)
    assert "qualiplan retention run" not in page
    assert "Gelöscht wird täglich automatisch" in page
    assert f'href="/settings/organisations/{team.org}"' in page
