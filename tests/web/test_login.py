from app.models import Role
from tests.web.helpers import csrf_token, log_in, post_form


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


def test_repeated_failures_lock_the_account(client, make):
    make.user(Role.TRAINER, email="t@example.org")
    for _ in range(5):
        post_form(client, "/login", {"email": "t@example.org", "password": "wrong"})
    response = post_form(client, "/login", {"email": "t@example.org", "password": "wrong"})
    assert "zu viele Fehlversuche" in response.get_data(as_text=True)
    from tests.conftest import PASSWORD

    response = post_form(client, "/login", {"email": "t@example.org", "password": PASSWORD})
    # Still locked, even with the right password: no session, the form again.
    assert response.status_code == 200
    assert "zu viele Fehlversuche" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


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
    from tests.conftest import PASSWORD

    response = client.post(
        "/login?next=%2Fdashboard",
        data={"csrf_token": token, "email": "t@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/dashboard"


def test_next_never_leads_to_another_site(client, make):
    make.user(Role.TRAINER, email="t@example.org")
    from tests.conftest import PASSWORD

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
