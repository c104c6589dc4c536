"""A large file of people is imported by the worker after the check: the
mapping page's button leads to the job's page, which shows the summary when
done, or why nothing was imported."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import queue
from app.models import Cohort, Enrolment, Job, JobState, Participant, Role
from app.services import jobs
from tests.web.helpers import csrf_token, log_in
from tests.web.test_import_files import confirm


@pytest.fixture(autouse=True)
def empty_queue():
    queue.huey.flush()
    yield
    queue.huey.flush()


def organisation(make, capacity: int | None = None):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org", name="Hanna Haas")
    cohort = make.cohort(org, name="Gruppe Groß", region="DE-BW", capacity=capacity)
    return SimpleNamespace(id=org.id, cohort=cohort.id)


def people_file(count: int) -> bytes:
    lines = ["Vorname;Nachname;E-Mail;Abteilung;Gruppe"]
    lines += [
        f"Person{n:04d};Muster;person{n}@example.org;Einkauf;Gruppe Groß" for n in range(count)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def check(client, org_id: int, content: bytes):
    token = csrf_token(client, "/participants/import")
    mapping = client.post(
        "/participants/import",
        data={
            "csrf_token": token,
            "organisation": str(org_id),
            "file": (io.BytesIO(content), "teilnehmende.csv"),
        },
        content_type="multipart/form-data",
    )
    assert mapping.status_code == 200, mapping.get_data(as_text=True)
    return confirm(client, mapping.get_data(as_text=True))


def count(db, model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_a_large_file_is_imported_by_the_worker_and_the_job_page_sums_it_up(client, db, make):
    org = organisation(make)
    log_in(client, "hr@example.org")
    response = check(client, org.id, people_file(jobs.IMPORT_FROM))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[A-Za-z0-9_-]{20,}", location)
    waiting = client.get(location).get_data(as_text=True)
    assert "Teilnehmende importieren" in waiting
    assert f'max="{jobs.IMPORT_FROM}" value="0"' in waiting
    assert count(db, Participant) == 0  # checked, not yet imported

    queue.run_pending()
    done = client.get(location).get_data(as_text=True)
    assert (
        f"Import abgeschlossen: {jobs.IMPORT_FROM} hinzugefügt, 0 geändert, 0 unverändert, "
        f"{jobs.IMPORT_FROM} Einschreibungen." in done
    )
    assert 'href="/participants"' in done
    assert count(db, Participant) == jobs.IMPORT_FROM
    assert count(db, Enrolment) == jobs.IMPORT_FROM
    # The rows (people's data) are not kept with the job once it is done.
    assert db.session.scalar(select(Job.params)) == {}

    # The same file again: everyone is there already.
    again = check(client, org.id, people_file(jobs.IMPORT_FROM)).headers["Location"]
    queue.run_pending()
    assert (
        f"0 hinzugefügt, 0 geändert, {jobs.IMPORT_FROM} unverändert, 0 Einschreibungen"
        in client.get(again).get_data(as_text=True)
    )


def test_a_cohort_that_filled_up_since_the_check_imports_nothing_and_says_why(client, db, make):
    org = organisation(make, capacity=jobs.IMPORT_FROM + 1)
    log_in(client, "hr@example.org")
    location = check(client, org.id, people_file(jobs.IMPORT_FROM)).headers["Location"]
    # Two people are enrolled by hand before the worker gets to the file.
    cohort = db.session.get(Cohort, org.cohort)
    for n in range(2):
        make.participant(cohort.organisation, cohort=cohort, email=f"hand{n}@example.org")

    queue.run_pending()
    page = client.get(location).get_data(as_text=True)
    assert 'role="alert"' in page
    assert "Die Gruppe „Gruppe Groß“ ist voll" in page
    assert "Traceback" not in page
    assert 'href="/participants/import"' in page
    assert count(db, Participant) == 2  # all or nothing
    assert db.session.scalar(select(Job.state)) is JobState.FAILED
    assert db.session.scalar(select(Job.params)) == {}


def test_a_small_file_is_still_imported_at_once(client, db, make):
    org = organisation(make)
    log_in(client, "hr@example.org")
    response = check(client, org.id, people_file(3))
    assert response.headers["Location"] == "/participants"
    assert count(db, Participant) == 3
    assert count(db, Job) == 0
