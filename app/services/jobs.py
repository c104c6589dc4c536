"""Jobs: long work that leaves the request (app.models.jobs).

`start` records the job in the request's transaction and asks the queue to
run it once that transaction has committed (never when it rolls back); the
worker's side is `app.job_runner`. A job is seen by the person who started
it and by the admins of its organisation; anyone else gets "not found", as
for a job that does not exist.

A job whose worker died shows as failed: running without a sign of life
for `STALE`, or queued for `LOST` without a worker taking it (the sweep
asks the queue again before that). What came out is kept for `KEEP`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.i18n import Translator
from app.models import Job, JobState, Role
from app.queue import after_commit
from app.services import policy
from app.services.policy import Actor

TANDEMS = "tandems"
CERTIFICATES = "certificates"
IMPORT = "import"
KINDS = (TANDEMS, CERTIFICATES, IMPORT)

# From how many people forming tandems is a job (smaller pools take well
# under a second and stay on the page), from how many certificates printing
# them as one PDF is, and from how many rows an import is.
TANDEMS_FROM = 61
CERTIFICATES_FROM = 61
IMPORT_FROM = 201

STALE = timedelta(minutes=10)
LOST = timedelta(minutes=30)
RETRY_QUEUED = timedelta(minutes=2)
KEEP = timedelta(days=1)


def now() -> datetime:
    return datetime.now(UTC)


def start(
    kind: str,
    actor: Actor,
    *,
    organisation_id: int,
    language: str,
    params: Mapping[str, Any],
    cohort_id: int | None = None,
    total: int = 0,
) -> Job:
    """Records a job (in the current transaction) and queues it after the
    commit. The caller has checked that `actor` may do the work."""
    if kind not in KINDS:
        raise ValueError(f"no such kind of job: {kind}")
    job = Job(
        public_id=secrets.token_urlsafe(18),
        kind=kind,
        organisation_id=organisation_id,
        cohort_id=cohort_id,
        user_id=actor.user.id if actor.user is not None else None,
        language=language if language in ("de", "en") else "de",
        state=JobState.QUEUED,
        params=dict(params),
        total=total,
        done=0,
        created_at=now(),
    )
    db.session.add(job)
    db.session.flush()
    _queue_after_commit(job.id)
    return job


def _queue_after_commit(job_id: int) -> None:
    from app import job_runner

    after_commit(lambda: job_runner.run_job(job_id))


def job_of(actor: Actor, public_id: str) -> Job:
    """The job if `actor` may see it: its starter, or an admin of its
    organisation; else NotFound."""
    job = db.session.scalar(select(Job).where(Job.public_id == public_id))
    if job is None or not visible(actor, job):
        raise policy.NotFound()
    return job


def visible(actor: Actor, job: Job) -> bool:
    if not actor.belongs_to(job.organisation_id):
        return False
    if actor.user is None:
        return True
    return job.user_id == actor.user.id or actor.role is Role.ADMIN


@dataclass(frozen=True)
class Status:
    """What the job page and its JSON say about a job right now."""

    state: JobState
    done: int
    total: int
    message: str | None
    result: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int | None:
        if self.state is JobState.DONE:
            return 100
        if not self.total:
            return None
        return min(100, int(100 * self.done / self.total))


def status(job: Job, at: datetime | None = None) -> Status:
    """The job's state as stored, except that one whose worker died (no
    sign of life for STALE, or never taken for LOST) is failed."""
    at = at or now()
    if abandoned(job, at):
        return Status(JobState.FAILED, job.done, job.total, abandoned_message(job), None)
    return Status(job.state, job.done, job.total, job.message, job.result)


def abandoned(job: Job, at: datetime) -> bool:
    if job.state is JobState.RUNNING:
        seen = job.progressed_at or job.started_at or job.created_at
        return at - seen > STALE
    if job.state is JobState.QUEUED:
        return at - job.created_at > LOST
    return False


def abandoned_message(job: Job) -> str:
    tr = Translator(job.language)
    if job.state is JobState.QUEUED:
        return tr.gettext(
            "No worker took up this job; nothing was changed. Please start it again, "
            "and if this happens again, tell your administrator that the worker is not running."
        )
    return tr.gettext(
        "The worker stopped in the middle of this job; nothing was changed. Please start it again."
    )


# The worker's steps (app.job_runner commits each).


def claim(job_id: int, at: datetime) -> Job | None:
    """The job, now running, if it was waiting; None when another worker
    took it already, or it was given up (the queue may say "look" twice)."""
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, started_at=at, progressed_at=at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    return db.session.get(Job, job_id, populate_existing=True)


def report(job_id: int, done: int, total: int, message: str | None = None) -> None:
    """A sign of life with how far the job got (a short transaction of its own)."""
    values: dict[str, Any] = {"done": done, "total": total, "progressed_at": now()}
    if message is not None:
        values["message"] = message
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def finish(
    job: Job,
    result: Mapping[str, Any],
    *,
    file: bytes | None = None,
    file_name: str | None = None,
    file_type: str | None = None,
) -> None:
    job.state = JobState.DONE
    # What the work needed (an import's rows: people's data) is not kept.
    job.params = {}
    job.result = dict(result)
    job.message = None
    job.done = max(job.done, job.total)
    job.finished_at = job.progressed_at = now()
    if file is not None:
        job.file, job.file_name, job.file_type = file, file_name, file_type


def fail(job_id: int, message: str) -> None:
    """The job failed: `message` says why, in its starter's language."""
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
        .values(state=JobState.FAILED, message=message, finished_at=now(), params={})
        .execution_options(synchronize_session=False)
    )


def file_of(actor: Actor, public_id: str) -> Job:
    """The job whose file `actor` may download: done, with its file kept."""
    job = job_of(actor, public_id)
    if job.state is not JobState.DONE or job.file_name is None:
        raise policy.NotFound()
    if db.session.scalar(select(Job.file.is_not(None)).where(Job.id == job.id)) is not True:
        raise policy.NotFound()
    return job


# The sweep (app.job_runner runs it every few minutes).


def sweep(at: datetime) -> list[int]:
    """Jobs whose worker died are failed; results older than KEEP are
    deleted with their files. Returns the ids of jobs still waiting after
    RETRY_QUEUED, to ask the queue again (a message lost after the commit)."""
    for job in db.session.scalars(
        select(Job).where(Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
    ):
        if abandoned(job, at):
            fail(job.id, abandoned_message(job))
    db.session.execute(
        delete(Job)
        .where(
            or_(
                Job.finished_at < at - KEEP,
                Job.created_at < at - KEEP - LOST,
            )
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        db.session.scalars(
            select(Job.id).where(Job.state == JobState.QUEUED, Job.created_at < at - RETRY_QUEUED)
        )
    )


def of_cohort(actor: Actor, cohort_id: int, kind: str) -> Job | None:
    """The newest unfinished job of this kind on the cohort that `actor`
    may see (the cohort's page links to it instead of offering a second)."""
    found = db.session.scalars(
        select(Job)
        .where(
            Job.cohort_id == cohort_id,
            Job.kind == kind,
            Job.state.in_((JobState.QUEUED, JobState.RUNNING)),
        )
        .order_by(Job.id.desc())
        .limit(5)
    )
    at = now()
    for job in found:
        if visible(actor, job) and not abandoned(job, at):
            return job
    return None
