"""Staff put a person on a full cohort's waiting list (app.services.waiting_lists):
offered where an enrolment is refused because the cohort is full."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app import transactions
from app.i18n import translator
from app.models import Participant
from app.services import waiting_lists
from app.views.access import actor, owned_or_404

bp = Blueprint("waiting_lists", __name__)


class JoinForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


@bp.post("/participants/<int:participant_id>/waiting-lists/<int:cohort_id>")
@transactions.web
def join(participant_id: int, cohort_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    if not JoinForm().validate_on_submit():
        abort(400)
    registration = waiting_lists.join_list(actor(), cohort_id, person.id)
    tr = translator()
    position = waiting_lists.position_of(registration)
    if position is None:
        text = tr.gettext(
            "%(name)s is on the waiting list of %(cohort)s and has been offered a place.",
            name=person.name,
            cohort=registration.cohort.name,
        )
    else:
        text = tr.gettext(
            "%(name)s is on the waiting list of %(cohort)s, position %(position)s.",
            name=person.name,
            cohort=registration.cohort.name,
            position=position,
        )
    flash(text, "success")
    return redirect(url_for("participants.edit", participant_id=participant_id))
