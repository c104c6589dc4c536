"""When the database cannot be reached, the app says so (503, a page that
needs no database) and recovers by itself once it is back."""

from __future__ import annotations

from app.extensions import db
from app.models import Organisation, Role
from app.services.accounts import create_user
from tests.conftest import PASSWORD, app_for
from tests.web.helpers import log_in

# Pages that need the database, reached without a login.
PUBLIC_PAGES = ("/verify/7KQ2M9XD4TRAHC3P", f"/feeds/{'f' * 43}.ics")


def _logged_in_hr(database_file, organisation_name: str):  # type: ignore[no-untyped-def]
    """An app on its own SQLite file and a client logged in as its HR clerk."""
    app = app_for(f"sqlite:///{database_file}")
    with app.app_context():
        db.create_all()
        organisation = Organisation(name=organisation_name)
        db.session.add(organisation)
        create_user("hr@example.org", "HR", Role.HR, PASSWORD, [organisation])
        db.session.commit()
    client = app.test_client()
    log_in(client, "hr@example.org")
    return app, client


def test_an_unreachable_database_answers_503_and_the_app_recovers(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    app, client = _logged_in_hr(folder / "qualiplan.db", "Ausfall GmbH")
    try:
        assert client.get("/dashboard").status_code == 200

        folder.rename(tmp_path / "away")  # the database is gone
        with app.app_context():
            db.engine.dispose()
        for url in ("/dashboard", *PUBLIC_PAGES):
            down = client.get(url)
            assert down.status_code == 503, url
            assert down.headers["Retry-After"] == "30"
            assert "Qualiplan ist kurz nicht erreichbar" in down.get_data(as_text=True)
        api = client.get("/api/v1/cohorts", headers={"Authorization": "Bearer x" * 2})
        assert api.status_code == 503
        assert api.json["error"]["code"] == "unavailable"
        assert client.get("/health").status_code == 200  # the process itself is fine

        (tmp_path / "away").rename(folder)  # and back
        assert client.get("/dashboard").status_code == 200  # still logged in
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_postgresql_server_that_refuses_connections_answers_503():
    app = app_for("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    client = app.test_client()
    for url in PUBLIC_PAGES:
        response = client.get(url)
        assert response.status_code == 503, url
        assert "Qualiplan ist kurz nicht erreichbar" in response.get_data(as_text=True)


def test_a_connection_lost_after_the_answer_does_not_spoil_it(tmp_path, monkeypatch):
    """PostgreSQL restarting while a page is finished: closing the session
    fails, but the page that was ready is delivered."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    app, client = _logged_in_hr(tmp_path / "q.db", "Neustart GmbH")
    closing = Session.close
    failures = []

    def close_once_failing(self):
        if not failures:
            failures.append(True)
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection"))
        return closing(self)

    monkeypatch.setattr(Session, "close", close_once_failing)
    response = client.get("/dashboard")
    assert failures == [True]
    assert response.status_code == 200
    assert "Neustart GmbH" in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
