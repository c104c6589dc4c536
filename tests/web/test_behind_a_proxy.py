"""Behind a reverse proxy the app sees the client's address, not the proxy's:
each client has its own budget on the certificate check."""

from __future__ import annotations

from app import throttle
from app.extensions import db
from tests.conftest import app_for


def test_clients_behind_a_trusted_proxy_are_throttled_one_by_one(tmp_path):
    app = app_for(
        f"sqlite:///{tmp_path / 'q.db'}", TRUSTED_PROXIES=1, VERIFY_RATE_LIMIT="3/minute"
    )
    with app.app_context():
        db.create_all()
    client = app.test_client()

    def check(address: str) -> int:
        headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
        return client.get("/verify/" + "0" * 16, headers=headers).status_code

    try:
        assert [check("203.0.113.7") for _ in range(4)] == [404, 404, 404, 429]
        assert check("198.51.100.23") == 404  # another client, its own budget
    finally:
        throttle.reset(app)
        with app.app_context():
            db.engine.dispose()


def test_without_trusted_proxies_forwarded_addresses_are_ignored(tmp_path):
    app = app_for(f"sqlite:///{tmp_path / 'q.db'}", VERIFY_RATE_LIMIT="2/minute")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    try:
        codes = [
            client.get(
                "/verify/" + "0" * 16, headers={"X-Forwarded-For": f"192.0.2.{n}"}
            ).status_code
            for n in range(3)
        ]
        assert codes == [404, 404, 429]  # a forged header does not buy a new budget
    finally:
        throttle.reset(app)
        with app.app_context():
            db.engine.dispose()
