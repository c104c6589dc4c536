"""A job's page: its progress while it runs (polled by static/jobs.js, or
reloaded by hand without JavaScript), then what came out, linked. Only the
person who started it and the organisation's admins see it; anyone else
gets "not found"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, url_for
from werkzeug.routing import BuildError

from app.downloads import file_response
from app.extensions import db
from app.i18n import translator
from app.models import Cohort, Job, JobState
from app.services import jobs as service
from app.views.access import actor

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.get("/<public_id>")
def show(public_id: str) -> str:
    job = service.job_of(actor(), public_id)
    status = service.status(job)
    cohort = db.session.get(Cohort, job.cohort_id) if job.cohort_id is not None else None
    return render_template(
        "jobs/show.html",
        job=job,
        status=status,
        cohort=cohort,
        title=_title(job),
        count=_count(status),
        link=_link(status.result),
    )


@bp.get("/<public_id>.json")
def state(public_id: str) -> Response:
    """How far the job is, for the page's polling; never cached."""
    status = service.status(service.job_of(actor(), public_id))
    response = jsonify(
        state=status.state.value,
        finished=status.finished,
        done=status.done,
        total=status.total,
        percent=status.percent,
        message=status.message or "",
        text=_count(status),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<public_id>/file")
def download(public_id: str) -> Response:
    job = service.file_of(actor(), public_id)
    return file_response(
        job.file or b"", job.file_type or "application/octet-stream", job.file_name or ""
    )


def _title(job: Job) -> str:
    tr = translator()
    return {
        service.TANDEMS: tr.gettext("Forming tandems"),
        service.CERTIFICATES: tr.gettext("Printing certificates"),
        service.IMPORT: tr.gettext("Importing participants"),
    }.get(job.kind, job.kind)


def _count(status: service.Status) -> str:
    tr = translator()
    if status.state is JobState.QUEUED:
        return tr.gettext("Waiting for the worker…")
    if status.state is JobState.RUNNING and status.total:
        return tr.gettext("%(done)d of %(total)d", done=status.done, total=status.total)
    if status.state is JobState.RUNNING:
        return tr.gettext("Under way…")
    return ""


def _link(result: dict[str, Any] | None) -> str | None:
    if not result or "link" not in result:
        return None
    try:
        return url_for(result["link"]["endpoint"], **result["link"].get("values", {}))
    except (BuildError, KeyError, TypeError):
        return None
