"""The commit point itself, on routes made for this test: what a handler
returns or raises decides whether its writes are kept, and a refusal is
answered in each door's way."""

from __future__ import annotations

import pytest
from flask import Blueprint
from sqlalchemy import select

from app import transactions
from app.extensions import db
from app.models import Organisation, Role
from app.services.accounts import create_user
from app.services.errors import DomainError, NotFound, StaleEdit
from curricula.messages import msg
from tests.conftest import PASSWORD, app_for, separate_database

probe = Blueprint("probe", __name__)
api_probe = Blueprint("api_probe", __name__, url_prefix="/api/probe")


def _add(name: str) -> None:
    db.session.add(Organisation(name=name))
    db.session.flush()


@probe.post("/probe/done")
@transactions.web
def done() -> str:
    _add("kept")
    return "done"


@probe.post("/probe/refused")
@transactions.web
def refused() -> str:
    _add("refused")
    raise DomainError(msg("the probe says no"), code="probe_refused")


@probe.post("/probe/<word>/refused")
@transactions.web(back=lambda word, **_: f"/probe/{word}")
def refused_with_a_page_of_its_own(word: str) -> str:
    raise DomainError(msg("the probe says no"), code="probe_refused")


@probe.post("/probe/invalid")
@transactions.web
def invalid() -> tuple[str, int]:
    _add("invalid")
    return "form with problems", 400


@probe.post("/probe/hidden")
@transactions.web
def hidden() -> str:
    _add("hidden")
    raise NotFound()


@probe.post("/probe/stale")
@transactions.web
def stale() -> str:
    _add("stale")
    raise StaleEdit()


@probe.post("/probe/crash")
@transactions.web
def crash() -> str:
    _add("crash")
    raise RuntimeError("probe")


@probe.get("/probe/read")
def read() -> str:
    _add("read")  # a page that only shows things never keeps a write
    return "read"


@api_probe.post("/refused")
@transactions.api
def api_refused() -> dict[str, str]:
    _add("api refused")
    raise DomainError(msg("the probe says no"), code="probe_refused")


@api_probe.post("/done")
@transactions.api
def api_done() -> tuple[dict[str, str], int]:
    _add("api kept")
    return {"ok": "yes"}, 201


@pytest.fixture
def probe_app(tmp_path):
    with separate_database(tmp_path, "commit_point_probe") as url:
        app = app_for(url, PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=False)
        app.register_blueprint(probe)
        app.register_blueprint(api_probe)
        with app.app_context():
            db.create_all()
            create_user("probe@example.org", "Probe", Role.ADMIN, PASSWORD, [])
            db.session.commit()
        client = app.test_client()
        client.post("/login", data={"email": "probe@example.org", "password": PASSWORD})
        yield app, client
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def _names(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Organisation.name)))


def test_a_successful_post_is_committed_once_after_the_handler(probe_app):
    app, client = probe_app
    assert client.post("/probe/done").status_code == 200
    assert _names(app) == {"kept"}


def test_a_refusal_rolls_back_and_returns_to_the_page_with_its_reason(probe_app):
    app, client = probe_app
    response = client.post(
        "/probe/refused",
        headers={"Referer": "http://localhost/participants?q=x", "Accept-Language": "en"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/participants?q=x"
    with client.session_transaction() as session:
        flashes = session["_flashes"]
    assert flashes == [("error refused-probe_refused", "The probe says no. Nothing was saved.")]
    assert _names(app) == set()


def test_a_refusal_never_redirects_to_another_site(probe_app):
    _, client = probe_app
    response = client.post("/probe/refused", headers={"Referer": "https://evil.example/x"})
    assert response.headers["Location"] == "/dashboard"


def test_without_a_referer_a_refusal_returns_to_the_page_its_route_names(probe_app):
    _, client = probe_app
    assert client.post("/probe/secret/refused").headers["Location"] == "/probe/secret"


def test_a_script_gets_the_refusal_as_json(probe_app):
    app, client = probe_app
    response = client.post("/probe/refused", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "probe_refused"
    assert _names(app) == set()


@pytest.mark.parametrize(
    ("path", "status"),
    [("/probe/invalid", 400), ("/probe/hidden", 404), ("/probe/crash", 500)],
)
def test_error_answers_and_failures_keep_nothing(probe_app, path, status):
    app, client = probe_app
    assert client.post(path).status_code == status
    assert _names(app) == set()


def test_a_stale_edit_is_reported_and_nothing_kept(probe_app):
    app, client = probe_app
    response = client.post("/probe/stale", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "stale"
    assert _names(app) == set()


def test_a_page_that_only_reads_keeps_no_write(probe_app):
    app, client = probe_app
    assert client.get("/probe/read").status_code == 200
    assert _names(app) == set()


def test_the_api_answers_refusals_in_its_error_shape(probe_app):
    app, client = probe_app
    response = client.post("/api/probe/refused")
    assert response.status_code == 409
    assert response.json == {
        "error": {
            "status": 409,
            "code": "probe_refused",
            "message": "The probe says no.",
            "details": {},
        }
    }
    assert client.post("/api/probe/done").status_code == 201
    assert _names(app) == {"api kept"}
