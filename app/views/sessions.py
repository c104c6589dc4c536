"""One session of a cohort: move it, change its details, cancel or restore it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from app import transactions
from app.forms.sessions import DetailsForm, MoveForm, StatusForm
from app.i18n import translator
from app.models import Session
from app.services import sessions
from app.services.errors import DomainError, InvalidInput
from app.services.sessions import MovePreview, MoveWish
from app.views.access import actor, refused_here
from curricula.messages import msg

bp = Blueprint("sessions", __name__, url_prefix="/cohorts/<int:cohort_id>/sessions")


def _forms(session: Session) -> tuple[MoveForm, DetailsForm, StatusForm]:
    move, details, status = (
        MoveForm(prefix="move"),
        DetailsForm(prefix="details"),
        StatusForm(prefix="status"),
    )
    details.trainers.choices = [
        SelectChoice(t.id, t.name) for t in sessions.trainer_choices(session)
    ]
    return move, details, status


def _fill(
    session: Session,
    move: MoveForm | None = None,
    details: DetailsForm | None = None,
    status: StatusForm | None = None,
) -> None:
    """The current state, for forms that were not just submitted."""
    for form in (move, details, status):
        if form is not None:
            form.version.data = str(session.lock_version)
    if move is not None:
        move.day.data = session.first_day
        move.pin.data = True
    if details is None:
        return
    details.venue.data = session.venue or ""
    details.online_link.data = session.online_link or ""
    details.trainers.data = [t.id for t in session.trainers]


def _page(
    session: Session,
    move: MoveForm,
    details: DetailsForm,
    status: StatusForm,
    preview: MovePreview | None = None,
) -> str:
    return render_template(
        "cohorts/session.html",
        session=session,
        cohort=session.cohort,
        move_form=move,
        details_form=details,
        status_form=status,
        preview=preview,
    )


@bp.get("/<int:session_id>")
def edit(cohort_id: int, session_id: int) -> ResponseReturnValue:
    session = sessions.planned_session(actor(), cohort_id, session_id)
    forms = _forms(session)
    _fill(session, *forms)
    return _page(session, *forms)


@bp.post("/<int:session_id>/move/preview")
@transactions.web
def preview(cohort_id: int, session_id: int) -> ResponseReturnValue:
    """What the move in the form would change, and what would make a refused
    one possible; nothing is saved (the service tries it and rolls it back)."""
    session = sessions.planned_session(actor(), cohort_id, session_id)
    move_form, details, status = _forms(session)
    if not move_form.validate_on_submit():
        return _again(session, move=move_form)
    found = sessions.preview_move(
        actor(), cohort_id, session_id, _wish(move_form), now=datetime.now(UTC)
    )
    _fill(session, details=details, status=status)
    return _page(session, move_form, details, status, found)


def _wish(form: MoveForm) -> MoveWish:
    return MoveWish(
        day=form.day.data,
        start_time=form.start_time.data,
        pin=bool(form.pin.data),
        earlier=bool(form.earlier.data),
        pinned_too=bool(form.pinned_too.data),
        held=bool(form.held.data),
    )


@bp.post("/<int:session_id>/move")
@transactions.web
def move(cohort_id: int, session_id: int) -> ResponseReturnValue:
    session = sessions.planned_session(actor(), cohort_id, session_id)  # 404/403 first
    form = MoveForm(prefix="move")
    if not form.validate_on_submit():
        return _again(session, move=form)
    try:
        moved = sessions.move(
            actor(),
            cohort_id,
            session_id,
            _wish(form),
            version=form.version.data,
            now=datetime.now(UTC),
        )
    except DomainError as error:
        if error.field not in form._fields or error.status in (403, 404):
            raise
        # A refusal about the day stands at the day, with the form as it was sent.
        form._fields[error.field].errors = [translator().localize(error.message)]
        return _again(session, move=form)
    tr = translator()
    if not moved:
        return _done(cohort_id, session_id, tr.gettext("Nothing had to move."))
    titles = ", ".join(m.session.element.title(tr.language) for m in moved)
    return _done(
        cohort_id,
        session_id,
        tr.ngettext(
            "%(num)d session moved: %(titles)s",
            "%(num)d sessions moved: %(titles)s",
            len(moved),
            titles=titles,
        ),
    )


@bp.post("/<int:session_id>/details")
@transactions.web
def details(cohort_id: int, session_id: int) -> ResponseReturnValue:
    session = sessions.planned_session(actor(), cohort_id, session_id)
    _, form, _ = _forms(session)
    if not form.validate_on_submit():
        return _again(session, details=form)
    changed = sessions.set_details(
        actor(),
        cohort_id,
        session_id,
        venue=form.venue.data,
        online_link=form.online_link.data,
        trainer_ids=form.trainers.data or [],
        version=form.version.data,
    )
    tr = translator()
    return _done(
        cohort_id,
        session_id,
        tr.gettext("The session was changed.") if changed else tr.gettext("Nothing changed."),
    )


@bp.get("/<int:session_id>/cancel")
def confirm_cancel(cohort_id: int, session_id: int) -> ResponseReturnValue:
    """What cancelling the session will do, to confirm or leave."""
    try:
        preview = sessions.preview_cancel(actor(), cohort_id, session_id)
    except DomainError as error:
        if error.status in (403, 404) or not refused_here():
            raise
        return redirect(url_for("sessions.edit", cohort_id=cohort_id, session_id=session_id))
    form = StatusForm(prefix="status", version=str(preview.session.lock_version), confirmed="yes")
    return render_template(
        "cohorts/confirm_cancel_session.html",
        session=preview.session,
        cohort=preview.session.cohort,
        preview=preview,
        form=form,
    )


@bp.post("/<int:session_id>/cancel")
@transactions.web
def cancel(cohort_id: int, session_id: int) -> ResponseReturnValue:
    sessions.planned_session(actor(), cohort_id, session_id)  # 404/403 before the form
    form = StatusForm(prefix="status")
    if not form.validate_on_submit():
        raise _unreadable(form)
    if form.confirmed.data != "yes":
        # Nothing changes before the planner has seen what will happen.
        return redirect(
            url_for("sessions.confirm_cancel", cohort_id=cohort_id, session_id=session_id), 303
        )
    sessions.cancel(actor(), cohort_id, session_id, version=form.version.data)
    return _done(
        cohort_id,
        session_id,
        translator().gettext(
            "The session was cancelled. If that was a mistake, let it take place again."
        ),
    )


@bp.post("/<int:session_id>/restore")
@transactions.web
def restore(cohort_id: int, session_id: int) -> ResponseReturnValue:
    sessions.planned_session(actor(), cohort_id, session_id)  # 404/403 before the form
    form = StatusForm(prefix="status")
    if not form.validate_on_submit():
        raise _unreadable(form)
    sessions.restore(actor(), cohort_id, session_id, version=form.version.data)
    return _done(cohort_id, session_id, translator().gettext("The session takes place again."))


def _done(cohort_id: int, session_id: int, text: str) -> ResponseReturnValue:
    flash(text, "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort_id, _anchor=f"session-{session_id}"))


def _again(
    session: Session, *, move: MoveForm | None = None, details: DetailsForm | None = None
) -> ResponseReturnValue:
    """The page again with the sent form's problems at their fields, all at
    once (400: nothing is kept). A form broken in a way no person could
    have sent (its CSRF token, its hidden version) is refused as unreadable."""
    sent = move or details
    assert sent is not None  # noqa: S101 -- one of the two is given
    if sent.csrf_token.errors or sent.version.errors:
        raise _unreadable(sent)
    others = _forms(session)
    _fill(
        session,
        move=None if move else others[0],
        details=None if details else others[1],
        status=others[2],
    )
    return _page(session, move or others[0], details or others[1], others[2]), 400


def _unreadable(form: MoveForm | DetailsForm | StatusForm) -> InvalidInput:
    """A form field the browser should have prevented (a date that is none, a
    link that is not one): its reason, as the page would have shown it."""
    for field in form:
        if field.errors:
            return InvalidInput(
                msg("{field}: {problem}", field=str(field.label.text), problem=field.errors[0]),
                field=field.name,
            )
    return InvalidInput(msg("the form could not be read; please load the page and try again"))
