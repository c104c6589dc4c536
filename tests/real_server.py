"""A real HTTP server on a free port of 127.0.0.1, for answers whose bytes on
the wire matter (headers with people's names, calendar files): Flask's test
client neither encodes headers nor refuses what a WSGI server would.

`served(tmp_path, name)` yields `(app, base_url)`: an app on an empty database
of its own (the request threads cannot share a test's transaction), served
until the block ends. Set up data inside `with app.app_context(): … commit()`,
for instance with `organisation_with`, `compact_cohort` and `enrolled`.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Cohort, CurriculumRecord, Enrolment, Organisation, Participant, Role
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from tests.conftest import PASSWORD, app_for, separate_database

TIMEOUT_SECONDS = 10


@contextmanager
def served(folder: Path, name: str, **settings: object) -> Iterator[tuple[object, str]]:
    with separate_database(folder, name) as url:
        app = app_for(url, TESTING=False, WTF_CSRF_ENABLED=False, **settings)
        with app.app_context():
            db.create_all()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=TIMEOUT_SECONDS)
            with app.app_context():
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


def fetch(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    """One request with a timeout (a server that cannot encode a header hangs
    or drops the connection instead of answering). The body is read."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def session_cookie(response: http.client.HTTPResponse) -> dict[str, str]:
    """The `Cookie` header that carries the login session a response set
    (a login also sets other cookies, such as the browser's device cookie)."""
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("session="):
            return {"Cookie": value.split(";", 1)[0]}
    raise AssertionError("the response set no session cookie")


def organisation_with(role: Role, email: str, name: str) -> Organisation:
    """The shipped curricula, an organisation and one member of it, who logs
    in with the tests' password."""
    import_standards()
    organisation = Organisation(name="Muster AG", default_region="DE-BW")
    db.session.add(organisation)
    create_user(email, name, role, PASSWORD, [organisation])
    return organisation


def compact_cohort(organisation: Organisation, name: str, start: date) -> Cohort:
    """A cohort of the shipped compact format, planned in Baden-Württemberg."""
    version = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
        )
    ).versions[-1]
    cohort, _ = create_cohort(
        NewCohort(
            organisation=organisation, version=version, name=name, start=start, region="DE-BW"
        ),
        actor=None,
    )
    return cohort


def enrolled(cohort: Cohort, first_name: str, last_name: str, email: str) -> Participant:
    person = Participant(
        organisation=cohort.organisation, first_name=first_name, last_name=last_name, email=email
    )
    db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
    db.session.flush()
    return person
