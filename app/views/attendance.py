"""Attendance in the room: a grid of people and sessions, any mark in one
tap, saved at once by the grid's script (app/static/attendance.js), which
keeps a tap that could not be sent and sends it again; without the script
the grid is one form with a save button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup, escape

from app import transactions
from app.i18n import sentence, translator
from app.marks import SYMBOLS, mark_words
from app.models import AttendanceRecord, Session
from app.services import attendance as service
from app.services.errors import StaleEdit
from app.views.access import actor
from cohorts.eligibility import Mark

bp = Blueprint("attendance", __name__, url_prefix="/cohorts")


def mark_titles() -> dict[Mark, str]:
    return mark_words(translator())


# The segments of a cell, in the order the hint above the grid names them.
SEGMENTS = (Mark.PRESENT, Mark.PARTLY, Mark.EXCUSED, Mark.ABSENT)
PHASE_SEGMENTS = (Mark.DONE, Mark.NOT_DONE)


def segments_for(session: Session) -> tuple[Mark, ...]:
    return PHASE_SEGMENTS if session.all_day else SEGMENTS


def status_text(mark: Mark, minutes: int, titles: dict[Mark, str]) -> str:
    """A cell's mark in words, as the grid shows it under its segments."""
    text = f"{SYMBOLS[mark]} {titles[mark]}"
    if mark is Mark.PARTLY:
        text += " (" + translator().gettext("%(minutes)d min missed", minutes=minutes) + ")"
    return text


def short_titles(sessions: list[Session], language: str) -> dict[int, str]:
    """What a screen reader says for a session's column: the title up to its
    colon ("Seminartag 1"), unless two columns would then sound alike."""
    full = {s.id: s.element.title(language) for s in sessions}
    short = {i: title.split(":", 1)[0].strip() or title for i, title in full.items()}
    if len({short[s.id] for s in sessions}) != len({s.element.key for s in sessions}):
        return full
    return short


def grid_cells(page: service.Page, language: str) -> dict[int, Markup]:
    """The cells of each person's row. Written here rather than in the
    template: a grid of 60 people and 7 sessions has 1,700 segments, and the
    template's escaping of each of their values took most of the page's time."""
    titles = mark_titles()
    board = page.board
    named = short_titles(board.sessions, language)
    words = {mark: escape(word) for mark, word in titles.items()}
    rows = {}
    for person in board.people:
        name = escape(person.name)
        cells = []
        for session in board.sessions:
            mark = board.mark(session, person)
            minutes = board.minutes(session, person)
            status = escape(status_text(mark, minutes, titles))
            if mark is Mark.NOT_EXPECTED or not page.takes_marks(session):
                cells.append(
                    f'<td class="mark mark-{mark.value}"><span class="status">{status}</span></td>'
                )
                continue
            cell = f"{session.id}-{person.id}"
            label = f"{name}, {escape(named[session.id])}: "
            segments = "".join(
                f'<label class="seg"><input type="radio" name="m-{cell}" value="{m.value}"'
                f'{" checked" if m is mark else ""} aria-label="{label}{words[m]}">'
                f"<span>{SYMBOLS[m]}</span></label>"
                for m in segments_for(session)
            )
            minutes_field = (
                f'<label class="minutes">{escape(translator().gettext("minutes missed"))} '
                f'<input type="number" name="min-{cell}" min="1" max="600" value="{minutes}">'
                "</label>"
                if mark is Mark.PARTLY
                else ""
            )
            cells.append(
                f'<td class="mark mark-{mark.value}"><div class="segments" role="radiogroup" '
                f'aria-label="{name}, {escape(named[session.id])}" data-cell="{cell}">'
                f'<input type="hidden" name="was-{cell}" value="{mark.value}">{segments}</div>'
                f'<span class="status">{status}</span>{minutes_field}</td>'
            )
        rows[person.id] = Markup("".join(cells))  # noqa: S704 -- every value escaped above
    return rows


@bp.get("/<int:cohort_id>/attendance")
def show(cohort_id: int) -> str:
    searched = request.args.get("guests", "")
    page = service.attendance_page(
        actor(),
        cohort_id,
        guest_search=(int(searched), request.args.get("q", "")) if searched.isdigit() else None,
    )
    tr = translator()
    return render_template(
        "attendance/grid.html",
        page=page,
        cohort=page.cohort,
        board=page.board,
        closed_text=sentence(tr.localize(page.closed)) if page.closed else None,
        waiting_text={i: sentence(tr.localize(why)) for i, why in page.waiting.items()},
        titles=mark_titles(),
        symbols=SYMBOLS,
        cells=grid_cells(page, tr.language),
        minutes_range=sentence(tr.localize(service.MINUTES_RANGE)),
        form=FlaskForm(),
    )


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _minutes(value: str | None) -> int | None:
    """The minutes missed as typed: None when none were (a tap on partly);
    what a count may be is the service's rule (`minutes_missed`)."""
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # refused by the service, once it found the cell


@bp.post("/<int:cohort_id>/attendance")
@transactions.web
def save(cohort_id: int) -> ResponseReturnValue:
    """The grid sent as one form (without its script): the cells whose mark
    was changed on the page, and the minutes of partly marks."""
    _checked_form()
    changes = []
    for name, chosen in request.form.items():
        cell = name.removeprefix("m-")
        session_id, _, participant_id = cell.partition("-")
        if name == cell or not (session_id.isdigit() and participant_id.isdigit()):
            continue
        seen = request.form.get(f"was-{cell}", "")
        minutes = request.form.get(f"min-{cell}")
        if chosen == seen and (chosen != Mark.PARTLY or minutes is None):
            continue
        changes.append(
            service.MarkChange(
                int(session_id), int(participant_id), chosen, _minutes(minutes), seen
            )
        )
    saved, not_saved = service.record_marks(actor(), cohort_id, changes)
    tr = translator()
    if saved or not not_saved:
        flash(tr.ngettext("%(num)d mark saved.", "%(num)d marks saved.", saved), "success")
    for cell in not_saved:
        flash(
            sentence(
                f"{cell.participant.name}, {cell.session.element.title(tr.language)}: "
                + tr.localize(cell.reason)
            ),
            "error",
        )
    return redirect(url_for("attendance.show", cohort_id=cohort_id), 303)


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/<int:participant_id>")
@transactions.web
def record(cohort_id: int, session_id: int, participant_id: int) -> ResponseReturnValue:
    """One tap: the mark chosen, and (from the grid's script) the mark the
    cell showed, so that a mark someone else set meanwhile is not
    overwritten. The script gets the cell and the counters it changed."""
    _checked_form()
    seen = request.form.get("was") or None
    try:
        saved = service.record_mark(
            actor(),
            cohort_id,
            session_id,
            participant_id,
            request.form.get("mark", ""),
            minutes=_minutes(request.form.get("minutes")),
            expected=seen,
        )
    except StaleEdit as stale:
        if not transactions.wants_json_answer():
            raise
        return _changed_meanwhile(stale, session_id, participant_id)
    if not transactions.wants_json_answer():
        return redirect(
            url_for("attendance.show", cohort_id=cohort_id, _anchor=f"person-{participant_id}")
        )
    return jsonify(mark=saved.mark.value, minutes=saved.minutes_missed, **_cell(saved))


def _cell(record: AttendanceRecord) -> dict[str, Any]:
    """What the grid's script shows after a tap: the cell, and the counters."""
    tr = translator()
    titles = mark_titles()
    counted = service.tally(record)
    reasons = "; ".join(tr.localize(reason) for reason in counted.decision.reasons)
    return {
        "status": status_text(record.mark, record.minutes_missed, titles),
        "session": {
            "present": counted.present,
            "expected": counted.expected,
            "title": tr.gettext(
                "%(present)d of %(expected)d present",
                present=counted.present,
                expected=counted.expected,
            ),
        },
        "cohort": {
            "eligible": counted.eligible,
            "people": counted.people,
            "text": tr.gettext(
                "%(eligible)d of %(people)d meet the rule so far",
                eligible=counted.eligible,
                people=counted.people,
            ),
        },
        "person": {
            "eligible": counted.decision.eligible,
            "text": tr.gettext("eligible") if counted.decision.eligible else reasons,
        },
    }


def _changed_meanwhile(
    stale: StaleEdit, session_id: int, participant_id: int
) -> ResponseReturnValue:
    """Someone else's mark stays; the script shows it at the cell, with who set it."""
    current = service.current_mark(session_id, participant_id)
    body: dict[str, Any] = {
        "error": {"code": stale.code, "message": translator().localize(stale.message)}
    }
    if current is not None:
        body["current"] = {"mark": current.mark.value, "minutes": current.minutes_missed}
        body["current"].update(_cell(current))
    return jsonify(body), 409


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/guests")
@transactions.web
def add_guest(cohort_id: int, session_id: int) -> ResponseReturnValue:
    """Someone of another cohort makes this element up here; it counts there."""
    _checked_form()
    person_id, _, for_cohort_id = request.form.get("guest", "").partition(":")
    if not (person_id.isdigit() and for_cohort_id.isdigit()):
        person_id = for_cohort_id = "0"  # nobody: the service says to choose from the list
    made_up = service.record_make_up(
        actor(), cohort_id, session_id, int(person_id), int(for_cohort_id)
    )
    tr = translator()
    flash(
        tr.gettext(
            "%(name)s made up %(session)s here; it counts for %(cohort)s.",
            name=made_up.participant.name,
            session=made_up.session.element.title(tr.language),
            cohort=made_up.for_cohort.name,
        ),
        "success",
    )
    return redirect(
        url_for("attendance.show", cohort_id=cohort_id, _anchor=f"guests-{session_id}")
    )


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/all-present")
@transactions.web
def all_present(cohort_id: int, session_id: int) -> ResponseReturnValue:
    _checked_form()
    count = service.mark_all_present(actor(), cohort_id, session_id)
    flash(translator().ngettext("%(num)d mark set.", "%(num)d marks set.", count), "success")
    return redirect(url_for("attendance.show", cohort_id=cohort_id))
