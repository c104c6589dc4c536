"""Headers as a browser receives them from a real HTTP server behind a proxy
that terminates HTTPS: Strict-Transport-Security only over HTTPS, and
nothing personal kept in a cache (Cache-Control: no-store), while calendar
feeds keep their revalidation and static files their own rule."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from app.extensions import db
from app.models import Purpose, Role
from app.services import tokens
from tests.conftest import PASSWORD, app_for
from tests.real_server import (
    compact_cohort,
    enrolled,
    fetch,
    organisation_with,
    served,
    session_cookie,
)

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "security_headers", TRUSTED_PROXIES=1) as (app, base):
        with app.app_context():
            org = organisation_with(Role.HR, "hr@example.org", "Hanna Roth")
            start = date.today() + timedelta(days=21)
            person = enrolled(compact_cohort(org, "Gruppe 1", start), "Jörg", "Yılmaz", "j@x.de")
            page = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
            feed = tokens.issue(Purpose.PARTICIPANT_FEED, person.id, org.id, None)
            db.session.commit()
            ids = SimpleNamespace(org=org.id, page=page, feed=feed)
        login = fetch(
            f"{base}/login",
            "POST",
            urlencode({"email": "hr@example.org", "password": PASSWORD}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **HTTPS},
        )
        assert login.status == 302, login.body
        cookie = session_cookie(login)
        yield ids, base, cookie


def test_over_https_browsers_are_told_to_stay_on_https(server):
    _, base, cookie = server
    secure = fetch(f"{base}/dashboard", headers={**HTTPS, **cookie})
    assert secure.status == 200
    assert secure.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert fetch(f"{base}/login", headers=HTTPS).getheader("Strict-Transport-Security")
    plain = fetch(f"{base}/login")
    assert plain.status == 200
    assert plain.getheader("Strict-Transport-Security") is None


def test_pages_exports_and_pdfs_are_not_stored(server):
    ids, base, cookie = server
    signed_in = {**HTTPS, **cookie}
    for path in (
        "/dashboard",
        "/participants/export",
        "/me/calendar.ics",
        f"/organisations/{ids.org}/certificates/preview.pdf",
    ):
        answer = fetch(base + path, headers=signed_in)
        assert answer.status == 200, path
        assert answer.getheader("Cache-Control") == "no-store", path
    personal = fetch(f"{base}/p/{ids.page}", headers=HTTPS)
    assert personal.status == 200
    assert personal.getheader("Cache-Control") == "no-store"
    download = fetch(f"{base}/p/{ids.page}/calendar.ics", headers=HTTPS)
    assert download.getheader("Cache-Control") == "no-store"
    assert fetch(f"{base}/login", headers=HTTPS).getheader("Cache-Control") == "no-store"


def test_feeds_keep_their_revalidation_and_static_files_their_rule(server):
    ids, base, _ = server
    feed = fetch(f"{base}/feeds/{ids.feed}.ics", headers=HTTPS)
    assert feed.status == 200
    assert feed.getheader("Cache-Control") == "private, no-cache"
    etag = feed.getheader("ETag")
    again = fetch(f"{base}/feeds/{ids.feed}.ics", headers={**HTTPS, "If-None-Match": etag})
    assert again.status == 304
    assert again.getheader("Cache-Control") == "private, no-cache"
    style = fetch(f"{base}/static/qualiplan.css", headers=HTTPS)
    assert style.status == 200
    assert "no-store" not in (style.getheader("Cache-Control") or "")


def test_a_forwarded_scheme_from_an_untrusted_client_is_not_https(tmp_path):
    app = app_for(f"sqlite:///{tmp_path / 'q.db'}")
    with app.app_context():
        db.create_all()
    try:
        answer = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in answer.headers
        secure = app.test_client().get("/login", base_url="https://localhost")
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    finally:
        with app.app_context():
            db.engine.dispose()
