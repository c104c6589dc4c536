"""Make-ups booked in one step, and the at-risk list (app.services.make_ups,
app.services.at_risk).

The cohort page, the person's page and the overview show the list through
the template globals below (each page includes one template of
templates/make_ups/); a cohort with more people at risk than its page shows
has a page of its own for all of them. The buttons post here and return to
the page they were on."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app import transactions
from app.i18n import translator
from app.lists import page_numbers
from app.models import Cohort, Participant, Role
from app.services import at_risk, make_ups, policy
from app.views.access import actor

bp = Blueprint("make_ups", __name__)


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _number(name: str) -> int:
    """A record id from the form; anything else is no record (the service
    answers that it is not found)."""
    value = request.form.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else 0


def _back(participant_id: int, cohort_id: int) -> str:
    if request.form.get("back") == "at-risk":
        page = _number("page") or 1
        return url_for("make_ups.of_cohort", cohort_id=cohort_id, page=page, _anchor="at-risk")
    if request.form.get("back") == "cohort":
        return url_for("cohorts.show", cohort_id=cohort_id, _anchor="at-risk")
    if request.form.get("back") == "overview":
        return url_for("dashboard.index", _anchor="at-risk")
    return url_for("participants.edit", participant_id=participant_id, _anchor="make-ups")


@bp.post("/participants/<int:participant_id>/make-ups")
@transactions.web
def book(participant_id: int) -> ResponseReturnValue:
    _checked_form()
    cohort_id = _number("cohort")
    record = make_ups.book(actor(), participant_id, cohort_id, _number("session"))
    tr = translator()
    session = record.session
    flash(
        tr.gettext(
            "%(name)s makes up %(session)s on %(day)s in %(cohort)s; an invitation is on its way.",
            name=record.participant.name,
            session=session.element.title(tr.language),
            day=tr.date(session.first_day),
            cohort=session.cohort.name,
        ),
        "success",
    )
    return redirect(_back(participant_id, cohort_id))


@bp.post("/participants/<int:participant_id>/make-ups/<int:session_id>/cancel")
@transactions.web
def cancel(participant_id: int, session_id: int) -> ResponseReturnValue:
    _checked_form()
    booking = make_ups.cancel(actor(), participant_id, session_id)
    tr = translator()
    flash(
        tr.gettext(
            "The make-up on %(day)s in %(cohort)s is cancelled.",
            day=tr.date(booking.first_day),
            cohort=booking.cohort_name,
        ),
        "success",
    )
    return redirect(_back(booking.participant_id, booking.for_cohort_id))


@bp.get("/cohorts/<int:cohort_id>/at-risk")
def of_cohort(cohort_id: int) -> ResponseReturnValue:
    """All of the cohort's people at risk, a page at a time."""
    asked = request.args.get("page", "1")
    page = int(asked) if asked.isdigit() and 0 < len(asked) < 7 else 1
    size = at_risk.PAGE_SIZE
    found = at_risk.of_cohort(actor(), cohort_id, limit=size, offset=(page - 1) * size)
    cohort = policy.get(actor(), Cohort, cohort_id)
    pages = max(1, -(-found.total // size))
    missing = page > pages
    return render_template(
        "make_ups/cohort.html",
        cohort=cohort,
        found=found,
        page=page,
        pages=pages,
        page_missing=missing,
        page_numbers=page_numbers(page, pages),
        first=(page - 1) * size + 1,
    ), (404 if missing else 200)


@bp.app_template_global("at_risk_of_cohort")
def at_risk_of_cohort(cohort: Cohort) -> at_risk.AtRisk:
    return at_risk.of_cohort(actor(), cohort.id, limit=at_risk.OVERVIEW_LIMIT)


@bp.app_template_global("at_risk_of_person")
def at_risk_of_person(person: Participant) -> at_risk.AtRisk:
    return at_risk.of_participant(actor(), person.id)


@bp.app_template_global("at_risk_of_organisations")
def at_risk_of_organisations() -> at_risk.AtRisk:
    """A trainer's overview lists the people of the cohorts they train;
    everyone else's, those of all their organisations' current cohorts."""
    acting = actor()
    trainer = acting.user.id if acting.user is not None and acting.role is Role.TRAINER else None
    return at_risk.of_organisations(acting, trainer_id=trainer)
