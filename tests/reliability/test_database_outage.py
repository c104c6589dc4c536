"""When the database cannot be reached, the app says so (503, a page that
needs no database) and recovers by itself once it is back."""

from __future__ import annotations

from app.extensions import db
from tests.conftest import app_for


def test_an_unreachable_database_answers_503_and_the_app_recovers(tmp_path):
    folder = tmp_path / "not-yet"
    app = app_for(f"sqlite:///{folder / 'qualiplan.db'}")
    client = app.test_client()
    try:
        down = client.get("/verify/7KQ2M9XD4TRAHC3P")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "30"
        assert "Qualiplan ist kurz nicht erreichbar" in down.get_data(as_text=True)
        assert client.get("/health").status_code == 200  # the process itself is fine

        folder.mkdir()  # the database is back
        with app.app_context():
            db.create_all()
        up = client.get("/verify/7KQ2M9XD4TRAHC3P")
        assert up.status_code == 404  # an unknown code, answered from the database
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_postgresql_server_that_refuses_connections_answers_503():
    app = app_for("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    client = app.test_client()
    response = client.get("/verify/7KQ2M9XD4TRAHC3P")
    assert response.status_code == 503
    assert "Qualiplan ist kurz nicht erreichbar" in response.get_data(as_text=True)
