"""An admin sets an organisation's sender address, reminder days and
self-study reminders on its settings page; bad input is refused at its
field, in German, and changes nothing."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from app.models import Organisation, Role
from tests.web.helpers import log_in, post_form


@pytest.fixture
def org(make):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org", name="Ada Admin")
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [other], email="s@example.org", name="Sara Fremd")
    return SimpleNamespace(id=org.id)


def _url(org) -> str:
    return f"/settings/organisations/{org.id}"


def _form(client, org, **changes) -> dict:
    page = client.get(_url(org)).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    values = {
        "name": "Muster AG",
        "region": "DE-BW",
        "timezone": "Europe/Berlin",
        "mail_from": "",
        "reminder_days": ["7", "1"],
        "study_reminders": "y",
        "version": version,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def _stored(db, org) -> Organisation:
    db.session.expire_all()
    return db.session.get(Organisation, org.id)


def _ticked(page: str) -> list[str]:
    inputs = re.findall(r"<input[^>]*name=\"reminder_days\"[^>]*>", page)
    return [re.search(r'value="(\d+)"', i).group(1) for i in inputs if "checked" in i]


def test_the_page_shows_the_settings_with_german_labels(client, org):
    log_in(client, "admin@example.org")
    page = client.get(_url(org)).get_data(as_text=True)
    assert "Erinnerungen per E-Mail vor jedem Termin" in page
    assert "1 Tag vorher" in page
    assert "14 Tage vorher" in page
    assert sorted(_ticked(page), key=int) == ["1", "7"]
    assert "Absenderadresse ihrer E-Mails" in page
    assert 'name="study_reminders" type="checkbox" value="y"' in page
    assert "Erinnerungen zu Beginn und vor dem Ende einer Selbstlernphase" in page


def test_an_admin_saves_sender_days_and_self_study_reminders(client, org, db):
    log_in(client, "admin@example.org")
    done = post_form(
        client,
        _url(org),
        _form(client, org, mail_from=" kurse@muster.example ", reminder_days=["1", "14", "3"]),
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "Gespeichert." in done.get_data(as_text=True)
    stored = _stored(db, org)
    assert (stored.mail_from, stored.reminder_days, stored.study_reminders) == (
        "kurse@muster.example",
        [14, 3, 1],
        True,
    )
    post_form(client, _url(org), _form(client, org, reminder_days=None, study_reminders=None))
    stored = _stored(db, org)
    assert (stored.reminder_days, stored.study_reminders) == ([], False)
    assert _ticked(client.get(_url(org)).get_data(as_text=True)) == []


@pytest.mark.parametrize("sent", [["7", "x"], ["-1"], ["1.5"], ["61"], ["99", "7"]])
def test_days_not_offered_are_refused_at_their_field(client, org, db, sent):
    log_in(client, "admin@example.org")
    refused = post_form(client, _url(org), _form(client, org, reminder_days=sent))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    error = re.search(r'id="reminder_days-error">([^<]*)<', page)
    assert error, page
    assert "Bitte Tage aus der Liste ankreuzen." in error.group(1)
    assert _stored(db, org).reminder_days == [7, 1]


def test_every_problem_at_once_and_nothing_is_kept(client, org, db):
    log_in(client, "admin@example.org")
    refused = post_form(
        client,
        _url(org),
        _form(
            client,
            org,
            name="Andere GmbH",
            mail_from="kurse at muster",
            reminder_days=["99"],
            study_reminders=None,
        ),
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'id="name-error"' in page
    assert 'id="mail_from-error">„kurse at muster“ ist keine E-Mail-Adresse.' in page
    assert 'id="reminder_days-error">Bitte Tage aus der Liste ankreuzen.' in page
    assert "Bitte korrigieren Sie die markierten Felder." in page
    stored = _stored(db, org)
    assert (stored.name, stored.mail_from, stored.reminder_days, stored.study_reminders) == (
        "Muster AG",
        "",
        [7, 1],
        True,
    )


def test_markup_in_the_sender_is_refused_and_shown_escaped(client, org):
    log_in(client, "admin@example.org")
    refused = post_form(client, _url(org), _form(client, org, mail_from="<b>x</b>@example.org"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;@example.org" in page


def test_another_organisations_admin_finds_no_such_page(client, org):
    log_in(client, "s@example.org")
    assert client.get(_url(org)).status_code == 404
    assert client.post(_url(org), data={"reminder_days": "3"}).status_code in (400, 404)


def test_without_the_csrf_token_nothing_changes(client, org, db):
    log_in(client, "admin@example.org")
    form = _form(client, org, reminder_days="3")
    assert client.post(_url(org), data=form).status_code == 400
    assert _stored(db, org).reminder_days == [7, 1]
