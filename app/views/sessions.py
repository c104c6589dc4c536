"""One session of a cohort: move it, change its details, cancel or restore it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.forms.sessions import DetailsForm, MoveForm, StatusForm
from app.i18n import translator
from app.models import Cohort, Organisation, Role, Session, User
from app.services.cohorts import TrainerConflict
from app.services.sessions import (
    ConcurrentEdit,
    cancel_session,
    change_details,
    move_session,
    restore_session,
)
from app.views.access import owned_or_404
from app.views.cohorts import PLANNERS
from cohorts.errors import PlanningError

bp = Blueprint("sessions", __name__, url_prefix="/cohorts/<int:cohort_id>/sessions")


def _load(cohort_id: int, session_id: int) -> Session:
    cohort = owned_or_404(Cohort, cohort_id)
    session = db.session.get(Session, session_id)
    if session is None or session.cohort_id != cohort.id:
        abort(404)
    return session


def _planner_only() -> None:
    if current_user.role not in PLANNERS:
        abort(403)


def _forms(session: Session) -> tuple[MoveForm, DetailsForm, StatusForm]:
    move, details, status = (
        MoveForm(prefix="move"),
        DetailsForm(prefix="details"),
        StatusForm(prefix="status"),
    )
    trainers = db.session.scalars(
        select(User)
        .where(User.role == Role.TRAINER, User.active.is_(True))
        .where(User.organisations.any(Organisation.id == session.cohort.organisation_id))
        .order_by(User.name)
    ).all()
    details.trainers.choices = [SelectChoice(t.id, t.name) for t in trainers]
    return move, details, status


def _fill(session: Session, move: MoveForm, details: DetailsForm, status: StatusForm) -> None:
    """The current state, for forms that were not just submitted."""
    for form in (move, details, status):
        form.version.data = str(session.lock_version)
    move.day.data = session.first_day
    move.pin.data = True
    details.venue.data = session.venue or ""
    details.online_link.data = session.online_link or ""
    details.trainers.data = [t.id for t in session.trainers]


def _page(session: Session, move, details, status, code: int = 200) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    return render_template(
        "cohorts/session.html",
        session=session,
        cohort=session.cohort,
        move_form=move,
        details_form=details,
        status_form=status,
    ), code


@bp.get("/<int:session_id>")
def edit(cohort_id: int, session_id: int) -> ResponseReturnValue:
    session = _load(cohort_id, session_id)
    _planner_only()
    forms = _forms(session)
    _fill(session, *forms)
    return _page(session, *forms)


@bp.post("/<int:session_id>/move")
def move(cohort_id: int, session_id: int) -> ResponseReturnValue:
    session = _load(cohort_id, session_id)
    _planner_only()
    move_form, details, status = _forms(session)
    if not move_form.validate_on_submit():
        _fill_others(session, details, status)
        return _page(session, move_form, details, status, 400)

    def work() -> str:
        moved = move_session(
            session,
            move_form.day.data,
            move_form.start_time.data,
            pin=move_form.pin.data,
            actor=current_user,
            today=datetime.now(UTC).date(),
            expected_version=int(move_form.version.data),
        )
        tr = translator()
        if not moved:
            return tr.gettext("Nothing had to move.")
        titles = ", ".join(m.session.element.title(tr.language) for m in moved)
        return tr.ngettext(
            "%(num)d session moved: %(titles)s",
            "%(num)d sessions moved: %(titles)s",
            len(moved),
            titles=titles,
        )

    return _attempt(session, work, move_form, details, status)


@bp.post("/<int:session_id>/details")
def details(cohort_id: int, session_id: int) -> ResponseReturnValue:
    session = _load(cohort_id, session_id)
    _planner_only()
    move_form, details_form, status = _forms(session)
    if not details_form.validate_on_submit():
        _fill_others(session, move_form, status)
        return _page(session, move_form, details_form, status, 400)
    allowed = {choice.value for choice in details_form.trainers.choices}

    def work() -> str:
        trainers = [
            t
            for t in db.session.scalars(
                select(User).where(User.id.in_(details_form.trainers.data))
            )
            if t.id in allowed
        ]
        changed = change_details(
            session,
            venue=details_form.venue.data,
            online_link=details_form.online_link.data,
            trainers=trainers,
            actor=current_user,
            expected_version=int(details_form.version.data),
        )
        tr = translator()
        return (
            tr.gettext("The session was changed.") if changed else tr.gettext("Nothing changed.")
        )

    return _attempt(session, work, move_form, details_form, status)


@bp.post("/<int:session_id>/cancel")
def cancel(cohort_id: int, session_id: int) -> ResponseReturnValue:
    return _status_change(cohort_id, session_id, cancel=True)


@bp.post("/<int:session_id>/restore")
def restore(cohort_id: int, session_id: int) -> ResponseReturnValue:
    return _status_change(cohort_id, session_id, cancel=False)


def _status_change(cohort_id: int, session_id: int, *, cancel: bool) -> ResponseReturnValue:
    session = _load(cohort_id, session_id)
    _planner_only()
    move_form, details, status = _forms(session)
    if not status.validate_on_submit():
        _fill_others(session, move_form, details)
        return _page(session, move_form, details, status, 400)

    def work() -> str:
        action = cancel_session if cancel else restore_session
        action(session, actor=current_user, expected_version=int(status.version.data))
        tr = translator()
        return (
            tr.gettext("The session was cancelled.")
            if cancel
            else tr.gettext("The session takes place again.")
        )

    return _attempt(session, work, move_form, details, status)


def _fill_others(session: Session, *forms) -> None:  # type: ignore[no-untyped-def]
    for form in forms:
        form.version.data = str(session.lock_version)
        if isinstance(form, MoveForm):
            form.day.data, form.pin.data = session.first_day, True
        if isinstance(form, DetailsForm):
            form.venue.data = session.venue or ""
            form.online_link.data = session.online_link or ""
            form.trainers.data = [t.id for t in session.trainers]


def _attempt(session: Session, work, move_form, details, status) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    """Run `work`, commit, and go back to the cohort; on a broken rule or a
    concurrent change roll back and explain, with nothing saved."""
    tr = translator()
    cohort_id, session_id = session.cohort_id, session.id
    try:
        done = work()
        db.session.commit()
    except (PlanningError, TrainerConflict, ConcurrentEdit) as error:
        db.session.rollback()
        code = 409 if isinstance(error, ConcurrentEdit) else 400
        flash(tr.localize(error.message) + " " + tr.gettext("Nothing was saved."), "error")
    except StaleDataError:
        db.session.rollback()
        flash(
            tr.localize(ConcurrentEdit().message) + " " + tr.gettext("Nothing was saved."), "error"
        )
        code = 409
    else:
        flash(done, "success")
        return redirect(
            url_for("cohorts.show", cohort_id=cohort_id, _anchor=f"session-{session_id}")
        )
    session = _load(cohort_id, session_id)
    move_form, details, status = _forms(session)
    _fill(session, move_form, details, status)
    return _page(session, move_form, details, status, code)
