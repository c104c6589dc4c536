"""Links that leave the site are built on QUALIPLAN_PUBLIC_URL, whatever Host
header the request came with: a forged one must not end up in an e-mail, a
calendar address or a certificate (with the secret token in it)."""

from __future__ import annotations

import re

import pytest

from app.models import Participant, Purpose, Role
from app.services import tokens
from tests.conftest import IsolatedClient
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in
from tests.web.test_certificates import pdf_text

PUBLIC = "https://qualiplan.example.org"


class ForgedHostClient(IsolatedClient):
    """A browser whose every request names another host (its cookies too)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "http://evil.example")
        return super().open(*args, **kwargs)


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)


@pytest.fixture
def forged(app, db, monkeypatch):
    monkeypatch.setattr(app, "test_client_class", ForgedHostClient)
    return app.test_client()


@pytest.fixture
def inbox(app):
    with mail_server(app) as server:
        yield server.inbox


def _hr_and_person(make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org)
    person = make.participant(org, cohort=cohort, first_name="Jürgen", email="j@x.example")
    return org, cohort, person.id


def _post(client, page: str, action: str):
    token = csrf_token(client, page)
    return client.post(action, data={"csrf_token": token})


def test_the_personal_link_in_an_email_uses_the_public_address(forged, make, inbox, public_url):
    _, _, person_id = _hr_and_person(make)
    log_in(forged, "hr@example.org")
    page = f"/participants/{person_id}"
    assert _post(forged, page, f"{page}/link/send").status_code in (302, 303)
    [message] = inbox.messages
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(rf"{re.escape(PUBLIC)}/p/[A-Za-z0-9_-]+", body)
    assert "evil.example" not in body


def test_a_link_shown_once_uses_the_public_address(forged, make, public_url):
    _, _, person_id = _hr_and_person(make)
    log_in(forged, "hr@example.org")
    page = f"/participants/{person_id}"
    shown = _post(forged, page, f"{page}/link").get_data(as_text=True)
    assert f'value="{PUBLIC}/p/' in shown
    assert "evil.example" not in shown


def test_calendar_addresses_use_the_public_address(forged, make, db, public_url):
    org, cohort, person_id = _hr_and_person(make)
    org_id, cohort_id = org.id, cohort.id
    page_token = tokens.issue(Purpose.PERSONAL_PAGE, person_id, org_id, None)
    db.session.commit()
    log_in(forged, "hr@example.org")
    mine = _post(forged, "/me", "/me/feed").get_data(as_text=True)
    cohorts = _post(forged, f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/feed")
    _post(forged, f"/p/{page_token}", f"/p/{page_token}/feed")
    personal = forged.get(f"/p/{page_token}")  # the answer's redirect shows it once
    for shown in (mine, cohorts.get_data(as_text=True), personal.get_data(as_text=True)):
        assert f'value="{PUBLIC}/feeds/' in shown
        assert "evil.example" not in shown


def test_a_certificate_prints_the_public_address(forged, make, db, public_url):
    _, cohort, person_id = _hr_and_person(make)
    certificate_id = make.certificate(cohort, db.session.get(Participant, person_id)).id
    log_in(forged, "hr@example.org")
    response = forged.get(f"/certificates/{certificate_id}.pdf")
    assert response.status_code == 200
    (text,) = pdf_text(response.data)
    assert "qualiplan.example.org/verify/" in text.replace("\n", "")
    assert "evil.example" not in text


def test_without_the_setting_the_request_address_is_used(client, make):
    _, _, person_id = _hr_and_person(make)
    log_in(client, "hr@example.org")
    page = f"/participants/{person_id}"
    token = csrf_token(client, page)
    shown = client.post(f"{page}/link", data={"csrf_token": token}).get_data(as_text=True)
    assert 'value="http://localhost/p/' in shown
