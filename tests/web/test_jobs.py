"""Long work as jobs, through the pages: a large pool's tandems, many
certificates as one PDF, a large import. The button leads to the job's page
with its progress; the worker (here: app.queue.run_pending) does the work;
the page then links what came out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import queue
from app.models import (
    Cohort,
    Enrolment,
    Job,
    JobState,
    Organisation,
    Participant,
    Role,
    Tandem,
    TandemState,
)
from app.services import jobs
from tests.web.helpers import csrf_token, log_in

DEPARTMENTS = ("Einkauf", "Vertrieb", "Technik", "Personal")
SITES = ("Stuttgart", "Ulm")


@pytest.fixture(autouse=True)
def empty_queue():
    queue.huey.flush()
    yield
    queue.huey.flush()


def pool(db, make, size: int, name: str = "Gruppe Groß"):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org", name="Tina Trainerin")
    cohort = make.cohort(org, name=name, region="DE-BW")
    for number in range(size):
        person = Participant(
            organisation=org,
            first_name=f"Person{number:03d}",
            last_name="Muster",
            email=f"person{number}@example.org",
            department=DEPARTMENTS[number % len(DEPARTMENTS)],
            site=SITES[number % len(SITES)],
        )
        db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
    db.session.commit()
    # Just ids: the test's own objects go stale while requests run.
    return SimpleNamespace(id=org.id), SimpleNamespace(id=cohort.id)


def press(client, cohort_id: int, action: str):
    page_url = f"/cohorts/{cohort_id}/tandems"
    page = client.get(page_url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = csrf_token(client, page_url)
    return client.post(
        f"/cohorts/{cohort_id}/tandems/{action}", data={"csrf_token": token, "version": version}
    )


def job_page(client, response) -> tuple[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[A-Za-z0-9_-]{20,}", location), location
    return location, client.get(location).get_data(as_text=True)


def state_of(client, location: str) -> dict:
    response = client.get(f"{location}.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.data)


def test_forming_tandems_of_a_large_pool_runs_as_a_job_and_links_the_proposal(client, db, make):
    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    log_in(client, "trainerin@example.org")

    location, page = job_page(client, press(client, cohort.id, "propose"))
    assert "<progress" in page
    assert 'aria-live="polite"' in page
    assert "jobs.js" in page
    assert "Aktualisieren" in page
    assert state_of(client, location)["state"] == "queued"
    # Nothing is formed yet: the request only asked for it.
    assert db.session.scalars(select(Tandem).where(Tandem.cohort_id == cohort.id)).all() == []

    assert queue.run_pending() == 1
    status = state_of(client, location)
    assert status["state"] == "done"
    assert status["finished"] is True
    assert status["percent"] == 100
    page = client.get(location).get_data(as_text=True)
    assert "Vorschlag mit 30 Tandems" in page
    assert f'href="/cohorts/{cohort.id}/tandems"' in page
    tandems_page = client.get(f"/cohorts/{cohort.id}/tandems").get_data(as_text=True)
    assert "Diese Tandems bestätigen" in tandems_page
    proposed = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id, Tandem.state == TandemState.PROPOSED)
    ).all()
    assert sum(len(t.members) for t in proposed) == jobs.TANDEMS_FROM


def test_the_page_shows_progress_while_the_worker_forms_the_tandems(client, db, make):
    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    log_in(client, "trainerin@example.org")
    location, _ = job_page(client, press(client, cohort.id, "shuffle"))
    job = db.session.scalar(select(Job).where(Job.cohort_id == cohort.id))
    # A worker that has read the pool and is forming it (as run_job reports).
    jobs.claim(job.id, datetime.now(UTC))
    jobs.report(job.id, 1, 3, "Tandems aus 61 Personen werden gebildet …")
    db.session.commit()

    status = state_of(client, location)
    assert (status["state"], status["done"], status["total"]) == ("running", 1, 3)
    assert status["percent"] == 33
    assert status["finished"] is False
    page = client.get(location).get_data(as_text=True)
    assert 'max="3" value="1"' in page
    assert "Tandems aus 61 Personen werden gebildet" in page
    # The tandem page links the job instead of forming a second one.
    assert location in client.get(f"/cohorts/{cohort.id}/tandems").get_data(as_text=True)


def test_a_small_pool_is_still_formed_at_once(client, db, make):
    org, cohort = pool(db, make, 6)
    log_in(client, "trainerin@example.org")
    response = press(client, cohort.id, "propose")
    assert response.headers["Location"] == f"/cohorts/{cohort.id}/tandems"
    assert db.session.scalar(select(Job)) is None
    assert "Vorschlag mit 3 Tandems" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_job_that_is_refused_shows_why_in_the_users_language(client, db, make):
    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    log_in(client, "trainerin@example.org")
    location, _ = job_page(client, press(client, cohort.id, "propose"))
    # Someone changes the tandems after the job was asked for.
    db.session.get(Cohort, cohort.id).name = "Gruppe Groß (neu)"
    db.session.commit()

    queue.run_pending()
    status = state_of(client, location)
    assert status["state"] == "failed"
    page = client.get(location).get_data(as_text=True)
    assert 'role="alert"' in page
    assert "jemand anderes hat die tandems dieser gruppe inzwischen geändert" in page.lower()
    assert "Traceback" not in page
    assert (
        db.session.scalars(select(Tandem).where(Tandem.state == TandemState.PROPOSED)).all() == []
    )


def test_a_job_whose_worker_died_shows_as_failed(client, db, make):
    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    log_in(client, "trainerin@example.org")
    location, _ = job_page(client, press(client, cohort.id, "propose"))
    job = db.session.scalar(select(Job).where(Job.cohort_id == cohort.id))
    long_ago = datetime.now(UTC) - jobs.STALE - timedelta(minutes=1)
    jobs.claim(job.id, long_ago)
    db.session.commit()

    status = state_of(client, location)
    assert status["state"] == "failed"
    assert "mitten in diesem Auftrag aufgehört" in status["message"]
    # The sweep records it as failed, and a message the queue delivers late finds it so.
    jobs.sweep(datetime.now(UTC))
    db.session.commit()
    queue.run_pending()
    assert db.session.get(Job, job.id, populate_existing=True).state is JobState.FAILED
    assert db.session.scalars(select(Tandem)).all() == []


def test_another_organisations_staff_and_colleagues_get_not_found(client, db, make):
    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [other], email="admin@andere.example.org")
    home = db.session.get(Organisation, org.id)
    make.user(Role.TRAINER, [home], email="kollege@example.org")
    make.user(Role.ADMIN, [home], email="admin@example.org")
    log_in(client, "trainerin@example.org")
    location, _ = job_page(client, press(client, cohort.id, "propose"))
    queue.run_pending()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    for email, status in (
        ("admin@andere.example.org", 404),
        ("kollege@example.org", 404),
        ("admin@example.org", 200),
    ):
        log_in(client, email)
        assert client.get(location).status_code == status, email
        assert client.get(f"{location}.json").status_code == status, email
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/jobs/nichtda").status_code in (302, 404)


def test_starting_a_job_needs_the_forms_token(client, db, make):
    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    log_in(client, "trainerin@example.org")
    page = client.get(f"/cohorts/{cohort.id}/tandems").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = client.post(f"/cohorts/{cohort.id}/tandems/propose", data={"version": version})
    assert response.status_code in (302, 400)
    assert db.session.scalar(select(Job)) is None


def test_a_job_whose_queue_message_was_lost_is_taken_up_by_the_sweep(client, db, make):
    from app import job_runner

    org, cohort = pool(db, make, jobs.TANDEMS_FROM)
    log_in(client, "trainerin@example.org")
    location, _ = job_page(client, press(client, cohort.id, "propose"))
    # The process died after the commit, before the queue heard of the job.
    queue.huey.flush()
    job = db.session.scalar(select(Job).where(Job.cohort_id == cohort.id))
    job.created_at = datetime.now(UTC) - jobs.RETRY_QUEUED - timedelta(seconds=5)
    db.session.commit()
    assert state_of(client, location)["state"] == "queued"

    job_runner.sweep_jobs.call_local()
    db.session.commit()
    queue.run_pending()
    assert state_of(client, location)["state"] == "done"
    # Asked twice, the job still runs once.
    job_runner.run_job(job.id)
    queue.run_pending()
    proposed = db.session.scalars(select(Tandem).where(Tandem.state == TandemState.PROPOSED))
    assert sum(len(t.members) for t in proposed) == jobs.TANDEMS_FROM
