"""Paper for the seminar room and the HR file: a session's sign-in sheet, a
cohort's schedule and its attendance report, as attachments named after
the cohort (RFC 6266 names, so any name a cohort has reaches the browser).
`?lang=en` prints in English, as for certificates."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from flask import Blueprint, Response

from app.certificate_files import pdf_language
from app.downloads import file_response
from app.exports import Rendered
from app.exports.attendance_report import (
    AttendanceReport,
    render_report_pdf,
    render_report_xlsx,
)
from app.exports.cohort_schedule_pdf import render_schedule
from app.exports.sign_in_sheet import render_sign_in_sheet
from app.i18n import Translator
from app.services import printouts
from app.views.access import actor

bp = Blueprint("printouts", __name__, url_prefix="/cohorts/<int:cohort_id>")


@bp.get("/sessions/<int:session_id>/sign-in-sheet.pdf")
def sign_in_sheet(cohort_id: int, session_id: int) -> Response:
    tr = pdf_language()
    sheet = printouts.sign_in_sheet(actor(), cohort_id, session_id, tr.language)
    name = (
        f"{tr.gettext('Sign-in sheet')} {_part(sheet.session)} – "
        f"{_part(sheet.cohort)} {sheet.day.isoformat()}.pdf"
    )
    return _attachment(render_sign_in_sheet(sheet, tr, filename=name))


@bp.get("/schedule.pdf")
def schedule(cohort_id: int) -> Response:
    tr = pdf_language()
    printed = printouts.schedule(actor(), cohort_id, tr.language, now=datetime.now(UTC))
    name = f"{tr.gettext('Schedule')} {_part(printed.cohort)}.pdf"
    return _attachment(render_schedule(printed, tr, filename=name))


@bp.get("/attendance-report.pdf")
def attendance_pdf(cohort_id: int) -> Response:
    tr = pdf_language()
    report = printouts.attendance_report(actor(), cohort_id, tr.language, now=datetime.now(UTC))
    return _attachment(render_report_pdf(report, tr, filename=_report_name(report, tr, "pdf")))


@bp.get("/attendance-report.xlsx")
def attendance_xlsx(cohort_id: int) -> Response:
    tr = pdf_language()
    report = printouts.attendance_report(actor(), cohort_id, tr.language, now=datetime.now(UTC))
    return _attachment(render_report_xlsx(report, tr, filename=_report_name(report, tr, "xlsx")))


def _report_name(report: AttendanceReport, tr: Translator, suffix: str) -> str:
    title = tr.gettext("Attendance report")
    return f"{title} {_part(report.cohort)} {report.as_of.isoformat()}.{suffix}"


def _part(text: str) -> str:
    """A title or cohort name as part of a file name: letters of any script,
    digits and the punctuation of titles ("Auftakt: Rolle, Lernformate"
    reads "Auftakt Rolle, Lernformate"); nothing a file system refuses."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c if c.isalnum() or c in " -–,.&()'" else " " for c in text)
    return " ".join(kept.split())[:80].strip(" .")


def _attachment(rendered: Rendered) -> Response:
    # An attachment: the app's after-request rule makes it no-store.
    return file_response(rendered.content, rendered.mimetype, rendered.filename)
