import re

import pytest

from app import throttle
from app.models import Role
from tests.conftest import PASSWORD
from tests.web.helpers import csrf_token, log_in, post_form

REFUSED = (
    "E-Mail-Adresse oder Passwort ist falsch, oder die Anmeldung ist nach "
    "mehreren Fehlversuchen für einige Minuten gesperrt"
)
FLASH = re.compile(r'<p class="flash [^"]*"[^>]*>([^<]*)</p>')


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    throttle.reset(app)
    yield
    throttle.reset(app)


def test_the_login_page_is_german_first(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Anmelden" in page
    assert "E-Mail-Adresse" in page
    assert 'autocomplete="current-password"' in page


def test_logging_in_leads_to_the_dashboard(client, make):
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    response = log_in(client, "t@example.org")
    assert response.headers["Location"] == "/dashboard"
    assert "Übersicht" in client.get("/dashboard").get_data(as_text=True)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, make):
    make.user(Role.TRAINER, email="t@example.org")
    response = post_form(client, "/login", {"email": "t@example.org", "password": "wrong"})
    # The form again, answered 200 so that the failed attempt is kept.
    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)
    assert "E-Mail-Adresse oder Passwort ist falsch" in response.get_data(as_text=True)
    response = post_form(client, "/login", {"email": "x@example.org", "password": "wrong"})
    assert "E-Mail-Adresse oder Passwort ist falsch" in response.get_data(as_text=True)


def test_repeated_failures_pause_the_account_with_the_same_answer(client, make):
    make.user(Role.TRAINER, email="t@example.org")
    for _ in range(5):
        post_form(client, "/login", {"email": "t@example.org", "password": "wrong"})
    response = post_form(client, "/login", {"email": "t@example.org", "password": PASSWORD})
    # Paused, even with the right password: no session, the form again, the same words.
    assert response.status_code == 200
    assert REFUSED in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def _answer(response) -> tuple[int, list[str]]:
    """What a refused login tells: its status and its messages."""
    return response.status_code, FLASH.findall(response.get_data(as_text=True))


def test_unknown_wrong_paused_and_deactivated_answer_alike_after_one_hash_check(
    client, make, db, monkeypatch
):
    import werkzeug.security

    from app.models import users
    from app.services import accounts

    make.user(Role.TRAINER, email="wrong@example.org")
    make.user(Role.TRAINER, email="paused@example.org")
    gone = make.user(Role.TRAINER, email="gone@example.org")
    gone.active = False
    db.session.commit()
    for _ in range(5):
        post_form(client, "/login", {"email": "paused@example.org", "password": "guess"})
    checks = []

    def counted(stored: str, password: str) -> bool:
        checks.append(stored)
        return werkzeug.security.check_password_hash(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counted)
    monkeypatch.setattr(users, "check_password_hash", counted)
    answers = {}
    for who, password in (
        ("nobody@example.org", PASSWORD),
        ("wrong@example.org", "not the password"),
        ("paused@example.org", PASSWORD),
        ("gone@example.org", PASSWORD),
    ):
        token = csrf_token(client, "/login")
        checks.clear()
        response = client.post(
            "/login", data={"csrf_token": token, "email": who, "password": password}
        )
        assert len(checks) == 1, who
        assert checks[0].startswith("scrypt:1024:8:1$"), who  # the same cost on every path
        answers[who] = _answer(response)
    assert len(set(map(str, answers.values()))) == 1, answers
    assert answers["nobody@example.org"] == (200, [f"{REFUSED}."])


def test_the_owners_browser_gets_in_while_an_outsider_keeps_failing(app, client, make):
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    log_in(client, "t@example.org")  # this browser is now known to the account
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    outsider = app.test_client()
    outsider.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    for _ in range(12):
        post_form(outsider, "/login", {"email": "t@example.org", "password": "guess"})
    refused = post_form(outsider, "/login", {"email": "t@example.org", "password": PASSWORD})
    assert _answer(refused) == (200, [f"{REFUSED}."])
    assert log_in(client, "t@example.org").headers["Location"] == "/dashboard"
    # A browser that never logged in is still held back by the pause.
    newcomer = app.test_client()
    newcomer.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    refused = post_form(newcomer, "/login", {"email": "t@example.org", "password": PASSWORD})
    assert refused.status_code == 200


def test_a_known_browser_that_keeps_failing_counts_as_unknown(app, client, make, db):
    user = make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    user_id = user.id
    log_in(client, "t@example.org")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    for _ in range(5):  # LOGIN_DEVICE_LIMIT: 5 per 15 minutes
        post_form(client, "/login", {"email": "t@example.org", "password": "guess"})
    db.session.expire_all()
    assert db.session.get(type(user), user_id).failed_logins == 0  # its own budget
    post_form(client, "/login", {"email": "t@example.org", "password": "guess"})
    db.session.expire_all()
    assert db.session.get(type(user), user_id).failed_logins == 1  # now the account's


def test_a_forged_or_foreign_device_cookie_is_worth_nothing(app, client, make):
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    for _ in range(5):
        post_form(client, "/login", {"email": "t@example.org", "password": "guess"})
    client.set_cookie("qualiplan_device", "eyJ1IjoxLCJuIjoieCJ9.forged.sig", path="/login")
    refused = post_form(client, "/login", {"email": "t@example.org", "password": PASSWORD})
    assert refused.status_code == 200
    assert client.get("/dashboard").status_code == 302


def test_one_client_address_that_keeps_failing_is_throttled(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    for n in range(3):  # any addresses: guessing across accounts counts too
        refused = post_form(client, "/login", {"email": f"x{n}@example.org", "password": "x"})
        assert refused.status_code == 200
    throttled = post_form(client, "/login", {"email": "t@example.org", "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "60"
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert log_in(other, "t@example.org").status_code == 302  # another client, its own budget


def test_successful_logins_spend_nothing(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2 per minute")
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    for _ in range(4):
        log_in(client, "t@example.org")
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})


def test_a_failed_login_is_counted_in_the_database(client, make, db):
    """The commit point keeps the count of a refused login (it rolls back
    what an answer of 400 or more did)."""
    user = make.user(Role.TRAINER, email="t@example.org")
    user_id = user.id
    db.session.commit()
    post_form(client, "/login", {"email": "t@example.org", "password": "wrong"})
    post_form(client, "/login", {"email": "t@example.org", "password": "wrong"})
    db.session.expire_all()
    assert db.session.get(type(user), user_id).failed_logins == 2


def test_forms_need_a_csrf_token(client, make):
    make.user(Role.TRAINER, email="t@example.org")
    response = client.post("/login", data={"email": "t@example.org", "password": "x"})
    assert response.status_code == 400


def test_logout_is_a_post_and_ends_copied_sessions_too(client, make, app):
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    log_in(client, "t@example.org")
    assert client.get("/logout").status_code == 405
    stolen = client.get_cookie("session").value
    token = csrf_token(client, "/dashboard")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_pages_need_a_login_and_come_back_after_it(client, make):
    make.user(Role.TRAINER, [make.organisation()], email="t@example.org")
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fdashboard"
    token = csrf_token(client, "/login?next=%2Fdashboard")
    response = client.post(
        "/login?next=%2Fdashboard",
        data={"csrf_token": token, "email": "t@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/dashboard"


def test_next_never_leads_to_another_site(client, make):
    make.user(Role.TRAINER, email="t@example.org")
    header_breakers = ("/participants\r\nSet-Cookie: stolen=1", "/dashboard\n", "/\tx")
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        *header_breakers,
    ):
        token = csrf_token(client, "/login")
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"csrf_token": token, "email": "t@example.org", "password": PASSWORD},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/dashboard"
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})


def test_session_cookies_are_secure_unless_plain_http_is_asked_for(monkeypatch):
    import importlib

    import config

    try:
        monkeypatch.delenv("QUALIPLAN_INSECURE_COOKIES", raising=False)
        production = importlib.reload(config).Config
        assert production.SESSION_COOKIE_HTTPONLY is True
        assert production.SESSION_COOKIE_SAMESITE == "Lax"
        assert production.SESSION_COOKIE_SECURE is True
        assert production.REMEMBER_COOKIE_SECURE is True
        # Only QUALIPLAN_INSECURE_COOKIES=1 (plain http on this machine) turns Secure off.
        monkeypatch.setenv("QUALIPLAN_INSECURE_COOKIES", "1")
        assert importlib.reload(config).Config.SESSION_COOKIE_SECURE is False
    finally:
        monkeypatch.undo()
        importlib.reload(config)
