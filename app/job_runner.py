"""The worker's side of jobs (app.services.jobs): claims a job, runs its
work, and keeps the result or says why it failed.

Each step is a short transaction of its own, so the job's page sees the
progress while the work goes on, and the heavy part (the pairing, drawing
the PDF pages) runs with no transaction open: on SQLite a transaction of
the worker would otherwise hold the write lock that every form post of the
web server waits for. What the work changes (a tandem proposal, imported
people) is kept in one transaction with the job's "done", or not at all.

A refusal (a rule of the domain, a changed cohort) fails the job with its
reason in the starter's language; anything else with a plain sentence,
and the traceback goes to the log only.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from flask import current_app

from app.certificate_files import name_part, printed
from app.exports.certificate_pdf import MIMETYPE, write_pdf
from app.extensions import db
from app.i18n import Translator, sentence
from app.models import Cohort, Job, User
from app.queue import crontab, periodic, task
from app.services import certificate_years, jobs, policy
from app.services import certificates as certificate_service
from app.services import tandems as tandem_service
from app.services.participant_import import Row, import_participants
from app.services.policy import Action, Actor
from curricula.messages import MessageError, msg

log = logging.getLogger(__name__)
T = TypeVar("T")

# How many certificates are drawn between two reports of progress.
REPORT_EVERY = 25


class JobRefused(MessageError):
    """The job cannot run (its cohort or its starter is gone)."""


@task()
def run_job(job_id: int) -> None:
    job = jobs.claim(job_id, jobs.now())
    db.session.commit()
    if job is None:
        return  # taken by another worker, or given up already
    tr = Translator(job.language)
    try:
        WORK[job.kind](job, tr)
    except MessageError as error:
        db.session.rollback()
        jobs.fail(job_id, sentence(tr.localize(error.message)))
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        db.session.rollback()
        jobs.fail(
            job_id,
            tr.gettext(
                "The job failed unexpectedly; nothing was changed. Please try again, "
                "and if it fails again, tell your administrator."
            ),
        )
    db.session.commit()


@periodic(crontab(minute="*/5"))
def sweep_jobs() -> None:
    """Fails jobs whose worker died, deletes results older than a day, and
    asks the queue again for jobs still waiting (claiming is once only)."""
    for job_id in jobs.sweep(jobs.now()):
        run_job(job_id)


def _progress(job_id: int, done: int, total: int, message: str | None = None) -> None:
    jobs.report(job_id, done, total, message)
    db.session.commit()


def _starter(job: Job) -> Actor:
    """The person who started the job, as they are now (an account made
    inactive since, or moved out of the organisation, is refused)."""
    user = db.session.get(User, job.user_id) if job.user_id is not None else None
    if user is None or not user.active:
        raise JobRefused(msg("the account that started this job is no longer active"))
    return Actor.of_user(user)


def _cohort(actor: Actor, job: Job) -> Cohort:
    if job.cohort_id is None:
        raise JobRefused(msg("the cohort of this job no longer exists"))
    try:
        return policy.get(actor, Cohort, job.cohort_id)
    except policy.NotFound:
        raise JobRefused(msg("the cohort of this job no longer exists")) from None


def _job(job_id: int) -> Job:
    return db.session.get(Job, job_id, populate_existing=True)  # type: ignore[return-value]


# Forming tandems


def _tandems(job: Job, tr: Translator) -> None:
    job_id, params = job.id, dict(job.params)
    actor = _starter(job)
    cohort = _cohort(actor, job)
    policy.require(actor, Action.FORM_TANDEMS, cohort.organisation_id)
    given = tandem_service.pairing_input(cohort, shuffle=bool(params.get("shuffle")))
    people = len(given.people)
    _progress(
        job_id,
        1,
        3,
        tr.ngettext(
            "Forming tandems of %(num)d person…", "Forming tandems of %(num)d people…", people
        ),
    )
    result = tandem_service.compute(given)  # no transaction open meanwhile
    _progress(job_id, 2, 3, tr.gettext("Saving the proposal…"))
    cohort = _cohort(actor, job)
    tandem_service.store_computed(
        cohort, result, expected_version=params.get("version"), seed=given.seed
    )
    jobs.finish(
        _job(job_id),
        {
            "tandems": len(result.tandems),
            "people": people,
            "warnings": [sentence(tr.localize(w)) for w in result.warnings],
            "link": {"endpoint": "tandems.show", "values": {"cohort_id": cohort.id}},
        },
    )


# Printing certificates


def _certificates(job: Job, tr: Translator) -> None:
    job_id, params = job.id, dict(job.params)
    actor = _starter(job)
    language = params.get("lang") if params.get("lang") in ("de", "en") else job.language
    pdf = Translator(language)
    if params.get("year") is not None:
        year = int(params["year"])
        organisation, certificates = certificate_years.printable_of_year(
            actor, job.organisation_id, year
        )
        title = f"{organisation.name} {year}"
        link = {"endpoint": "certificates.years", "values": {"organisation_id": organisation.id}}
    else:
        cohort = _cohort(actor, job)
        cohort, certificates = certificate_service.printable_of_cohort(actor, cohort.id)
        organisation, title = cohort.organisation, cohort.name
        link = {"endpoint": "certificates.cohort", "values": {"cohort_id": cohort.id}}
    logo = organisation.logo_png
    # The addresses under the QR codes are those a download from the page prints.
    with current_app.test_request_context(base_url=params.get("base_url") or None):
        pages = [printed(c, pdf) for c in certificates]
    total = len(pages)
    _progress(job_id, 0, total, tr.gettext("Drawing the certificates…"))
    out = io.BytesIO()
    write_pdf(_counted(pages, job_id, total), out, pdf, logo_png=logo, title=title)
    name = pdf.gettext("Certificates") + f" {name_part(title)}.pdf"
    jobs.finish(
        _job(job_id),
        {"certificates": total, "link": link},
        file=out.getvalue(),
        file_name=name,
        file_type=MIMETYPE,
    )


def _counted(items: Iterable[T], job_id: int, total: int) -> Iterator[T]:
    for done, item in enumerate(items):
        if done and done % REPORT_EVERY == 0:
            _progress(job_id, done, total)
        yield item


# Importing participants


def _import(job: Job, tr: Translator) -> None:
    job_id, params = job.id, dict(job.params)
    actor = _starter(job)
    rows = [
        Row(number=int(r["number"]), values=dict(r["values"]), person_id=r.get("person_id"))
        for r in params.get("rows", [])
    ]
    _progress(
        job_id,
        0,
        len(rows),
        tr.ngettext("Importing %(num)d row…", "Importing %(num)d rows…", len(rows)),
    )
    # All or nothing: the rows go in one transaction with the job's end.
    summary = import_participants(actor, job.organisation_id, rows)
    jobs.finish(
        _job(job_id),
        {
            "rows": len(rows),
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "enrolled": summary.enrolled,
            "link": {"endpoint": "participants.index", "values": {}},
        },
    )


WORK: dict[str, Callable[[Job, Translator], Any]] = {
    jobs.TANDEMS: _tandems,
    jobs.CERTIFICATES: _certificates,
    jobs.IMPORT: _import,
}
