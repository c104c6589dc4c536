"""A user changes their own password: the current one is needed, the new one
follows the length rule, and every other session of the account ends."""

from __future__ import annotations

import pytest

from app import throttle
from app.models import Role
from tests.conftest import PASSWORD
from tests.web.helpers import csrf_token, log_in, post_form

PAGE = "/account/password"
NEW = "a new and long passphrase"


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    throttle.reset(app)
    yield
    throttle.reset(app)


@pytest.fixture
def trainer(make):
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    return "t@example.org"


def change(client, current: str, new: str, confirm: str | None = None):
    data = {"current_password": current, "new_password": new, "confirm": confirm or new}
    return post_form(client, PAGE, data, follow_redirects=True)


def test_the_page_is_german_first_and_reached_from_every_page(client, trainer):
    log_in(client, trainer)
    assert f'href="{PAGE}"' in client.get("/dashboard").get_data(as_text=True)
    page = client.get(PAGE).get_data(as_text=True)
    assert "<h1>Passwort ändern</h1>" in page
    assert "Aktuelles Passwort" in page
    assert 'autocomplete="new-password"' in page
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "<h1>Change password</h1>" in english


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, client, trainer):
    log_in(client, trainer)
    elsewhere = app.test_client()
    log_in(elsewhere, trainer)
    page = change(client, PASSWORD, NEW).get_data(as_text=True)
    assert "Ihr Passwort ist geändert" in page
    assert client.get("/dashboard").status_code == 200  # this session goes on
    ended = elsewhere.get("/dashboard")
    assert ended.status_code == 302
    assert ended.headers["Location"].startswith("/login")
    # The new password logs in, the old one no longer does.
    fresh = app.test_client()
    assert post_form(fresh, "/login", {"email": trainer, "password": PASSWORD}).status_code == 200
    assert log_in(fresh, trainer, NEW).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", NEW, NEW, "Das aktuelle Passwort ist falsch."),
        (PASSWORD, "too short", "too short", "Das Passwort braucht mindestens 12 Zeichen."),
        (PASSWORD, NEW, NEW + "!", "Die beiden neuen Passwörter stimmen nicht überein."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    app, client, trainer, current, new, confirm, message
):
    log_in(client, trainer)
    elsewhere = app.test_client()
    log_in(elsewhere, trainer)
    page = change(client, current, new, confirm).get_data(as_text=True)
    assert message in page
    assert elsewhere.get("/dashboard").status_code == 200  # nothing ended
    assert log_in(app.test_client(), trainer, PASSWORD).status_code == 302


def test_guessing_the_current_password_spends_the_login_budget(app, client, trainer, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2 per minute")
    log_in(client, trainer)
    for _ in range(2):
        change(client, "guess", NEW)
    data = {"current_password": PASSWORD, "new_password": NEW, "confirm": NEW}
    assert post_form(client, PAGE, data).status_code == 429


def test_the_form_needs_its_csrf_token_and_a_login(app, client, trainer):
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    log_in(client, trainer)
    data = {"current_password": PASSWORD, "new_password": NEW, "confirm": NEW}
    assert client.post(PAGE, data=data).status_code == 400
    assert csrf_token(client, PAGE)
