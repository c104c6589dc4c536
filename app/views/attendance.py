"""Attendance in the room: a grid of people and sessions, one tap per mark,
saved at once (with a little script, or as a plain form without it)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app import transactions
from app.i18n import sentence, translator
from app.services import attendance as service
from app.views.access import actor
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
    page = service.attendance_page(actor(), cohort_id)
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
        next_mark=service.next_mark,
        form=FlaskForm(),
    )


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


@bp.post("/<int:cohort_id>/attendance/<int:session_id>/<int:participant_id>")
@transactions.web
def record(cohort_id: int, session_id: int, participant_id: int) -> ResponseReturnValue:
    """Set the mark the button showed as next (not "one further"), so a
    second tap on a page someone else changed in between sets what was meant."""
    _checked_form()
    try:
        minutes = int(request.form.get("minutes") or 0)
    except ValueError:
        minutes = -1  # refused by the service, once it found the cell
    mark = request.form.get("mark", "")
    saved = service.record_mark(
        actor(), cohort_id, session_id, participant_id, mark, minutes=minutes
    )
    session, person = saved.session, saved.participant
    if not transactions.wants_json_answer():
        return redirect(
            url_for("attendance.show", cohort_id=cohort_id, _anchor=f"person-{person.id}")
        )
    tr = translator()
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
