"""`/ready` says whether the database answers (503 and a short JSON body
when not, for a load balancer or monitoring); `/health` only says that the
process answers."""

from __future__ import annotations

from app.extensions import db
from tests.conftest import app_for
from tests.real_server import fetch, served


def test_ready_while_the_database_answers(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_while_the_database_is_gone_and_ready_again_after(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    app = app_for(f"sqlite:///{folder / 'qualiplan.db'}")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    try:
        assert client.get("/ready").status_code == 200
        folder.rename(tmp_path / "away")
        with app.app_context():
            db.engine.dispose()
        down = client.get("/ready")
        assert down.status_code == 503
        assert down.json == {"status": "unavailable", "database": "unreachable"}
        assert down.headers["Retry-After"] == "30"
        assert client.get("/health").status_code == 200  # the process itself answers
        (tmp_path / "away").rename(folder)
        assert client.get("/ready").json == {"status": "ok", "database": "ok"}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_postgresql_server_that_refuses_connections_is_not_ready():
    app = app_for("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_ready_through_a_real_server_needs_no_login(tmp_path):
    with served(tmp_path, "readiness") as (_, base):
        answer = fetch(base + "/ready")
        assert answer.status == 200
        assert answer.getheader("Content-Type") == "application/json"
        assert answer.body == b'{"database":"ok","status":"ok"}\n'
