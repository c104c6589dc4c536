"""Attendance in the room: a grid of people and sessions, one tap per mark,
saved at once (with a little script, or as a plain form without it)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from app.extensions import db
from app.i18n import refusal, translator
from app.models import Cohort, CohortState, Enrolment, EnrolmentStatus, Participant, Session
from app.services import attendance as service
from app.views.access import owned_or_404
from app.views.cohorts import PLANNERS
from cohorts.eligibility import Mark

bp = Blueprint("attendance", __name__, url_prefix="/cohorts")


def mark_titles() -> dict[Mark, str]:
    tr = translator()
    return {
        Mark.NOT_RECORDED: tr.gettext("open"),
        Mark.PRESENT: tr.gettext("present"),
        Mark.PARTLY: tr.gettext("partly"),
        Mark.EXCUSED: tr.gettext("excused"),
        Mark.ABSENT: tr.gettext("absent"),
        Mark.DONE: tr.gettext("done"),
        Mark.NOT_DONE: tr.gettext("not done"),
        Mark.NOT_EXPECTED: tr.gettext("not expected"),
    }


# Shapes next to the words, so a mark is never told by colour alone.
SYMBOLS = {
    Mark.NOT_RECORDED: "·",
    Mark.PRESENT: "✓",
    Mark.PARTLY: "◐",
    Mark.EXCUSED: "E",
    Mark.ABSENT: "✗",
    Mark.DONE: "✓",
    Mark.NOT_DONE: "✗",
    Mark.NOT_EXPECTED: "–",
}


@bp.get("/<int:cohort_id>/attendance")
def show(cohort_id: int) -> str:
    cohort = owned_or_404(Cohort, cohort_id)
    board = service.grid(cohort)
    return render_template(
        "attendance/grid.html",
        cohort=cohort,
        board=board,
        decisions=service.decisions(cohort, board),
        guests={s.id: service.guests(s) for s in board.sessions},
        candidates={s.id: service.guest_candidates(s) for s in board.sessions}
        if _can_record(cohort)
        else {},
        titles=mark_titles(),
        symbols=SYMBOLS,
        next_mark=service.next_mark,
        can_record=_can_record(cohort),
        form=FlaskForm(),
    )


def _can_record(cohort: Cohort) -> bool:
    return current_user.role in PLANNERS and cohort.state is not CohortState.CANCELLED


def _cell(
    cohort_id: int, session_id: int, participant_id: int
) -> tuple[Cohort, Session, Participant]:
    cohort = owned_or_404(Cohort, cohort_id)
    session = db.session.get(Session, session_id)
    person = db.session.get(Participant, participant_id)
    if session is None or session.cohort_id != cohort.id or person is None:
        abort(404)
    enrolled = (
        db.session.query(Enrolment.id)
        .filter_by(cohort_id=cohort.id, participant_id=person.id, status=EnrolmentStatus.ENROLLED)
        .first()
    )
    if enrolled is None:
        abort(404)
    if not _can_record(cohort):
        abort(403)
    return cohort, session, person


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/<int:participant_id>")
def record(cohort_id: int, session_id: int, participant_id: int) -> ResponseReturnValue:
    """Set the mark the button showed as next (not "one further"), so a
    second tap on a page someone else changed in between sets what was meant."""
    cohort, session, person = _cell(cohort_id, session_id, participant_id)
    tr = translator()
    wants_json = request.accept_mimetypes.best == "application/json"
    allowed = service.PHASE_CYCLE if session.all_day else service.SESSION_CYCLE
    try:
        mark = Mark(request.form.get("mark", ""))
        minutes = int(request.form.get("minutes") or 0)
    except ValueError:
        mark, minutes = None, 0  # type: ignore[assignment]
    if not FlaskForm().validate_on_submit() or mark not in allowed or not 0 <= minutes <= 600:
        message = tr.gettext("This mark cannot be set here.")
        if wants_json:
            return jsonify(error=message), 400
        flash(refusal(message), "error")
        return redirect(url_for("attendance.show", cohort_id=cohort.id))
    saved = service.set_mark(session, person, mark, current_user, minutes=minutes)
    db.session.commit()
    if wants_json:
        following = service.next_mark(saved.mark, session.all_day)
        titles = mark_titles()
        return jsonify(
            mark=saved.mark.value,
            label=f"{SYMBOLS[saved.mark]} {titles[saved.mark]}",
            minutes=saved.minutes_missed,
            next=following.value,
            aria=f"{person.name}, {session.element.title(tr.language)}: {titles[saved.mark]}; "
            + tr.gettext("set to %(mark)s", mark=titles[following]),
        )
    return redirect(url_for("attendance.show", cohort_id=cohort.id, _anchor=f"person-{person.id}"))


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/guests")
def add_guest(cohort_id: int, session_id: int) -> ResponseReturnValue:
    """Someone of another cohort makes this element up here; it counts there."""
    cohort = owned_or_404(Cohort, cohort_id)
    session = db.session.get(Session, session_id)
    if session is None or session.cohort_id != cohort.id:
        abort(404)
    if not _can_record(cohort):
        abort(403)
    tr = translator()
    wanted = request.form.get("guest", "")
    guest = next(
        (
            g
            for g in service.guest_candidates(session)
            if f"{g.participant.id}:{g.cohort.id}" == wanted
        ),
        None,
    )
    if not FlaskForm().validate_on_submit() or guest is None:
        flash(refusal(tr.gettext("Choose someone from the list.")), "error")
    else:
        mark = Mark.DONE if session.all_day else Mark.PRESENT
        service.set_mark(session, guest.participant, mark, current_user, for_cohort=guest.cohort)
        db.session.commit()
        flash(
            tr.gettext(
                "%(name)s made up %(session)s here; it counts for %(cohort)s.",
                name=guest.participant.name,
                session=session.element.title(tr.language),
                cohort=guest.cohort.name,
            ),
            "success",
        )
    return redirect(
        url_for("attendance.show", cohort_id=cohort.id, _anchor=f"guests-{session.id}")
    )


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/all-present")
def all_present(cohort_id: int, session_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    session = db.session.get(Session, session_id)
    if session is None or session.cohort_id != cohort.id:
        abort(404)
    if not _can_record(cohort):
        abort(403)
    tr = translator()
    if FlaskForm().validate_on_submit():
        board = service.grid(cohort)
        expected = [p for p in board.people if board.expected(session, p)]
        count = service.all_present(session, expected, current_user)
        db.session.commit()
        flash(tr.ngettext("%(num)d mark set.", "%(num)d marks set.", count), "success")
    return redirect(url_for("attendance.show", cohort_id=cohort.id))
