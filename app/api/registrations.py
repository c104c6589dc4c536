"""HR's side of registering, in the API: a cohort's registrations, accepting,
declining and inviting, through app.services.registrations as the cohort's
registrations page does, with the same roles and the same refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from app import transactions
from app.api import schemas as s
from app.api.auth import authenticate, caller
from app.api.errors import error_response
from app.api.resources import errors
from app.i18n import sentence
from app.models.registrations import Registration
from app.services import enrolments, policy, registrations, waiting_lists
from app.services.errors import DomainError

blueprint = Blueprint(
    "api_registrations", __name__, description="Registrations: HR accepts, declines, invites"
)
blueprint.before_request(authenticate)

# The service's form field names, as the API's requests name them.
_FIELDS = {"participant": "participant_id"}


def _out(registration: Registration, position: int | None) -> dict[str, Any]:
    person = registration.participant
    decider = registration.decided_by
    return {
        "id": registration.id,
        "cohort_id": registration.cohort_id,
        "participant": {"id": person.id, "name": person.name, "email": person.email},
        "state": registration.state.value,
        "decidable": registration.decidable(registration.cohort.organisation.manager_step),
        "invited": registration.invited,
        "registered_at": registration.registered_at,
        "manager_name": registration.manager_name,
        "manager_email": registration.manager_email,
        "manager_answered_at": registration.manager_answered_at,
        "weekly_minutes": registration.weekly_minutes,
        "decided_at": registration.decided_at,
        "decided_by": decider.name if decider is not None else None,
        "decline_reason": registration.decline_reason,
        "changed_at": registration.changed_at,
        "position": position,
        "offer_expires_at": registration.offer_expires_at,
    }


def _answer(registration: Registration) -> dict[str, Any]:
    return _out(registration, waiting_lists.position_of(registration))


@contextmanager
def _api_fields() -> Iterator[None]:
    """A refusal names its field as the request does."""
    try:
        yield
    except DomainError as error:
        if error.field in _FIELDS:
            error.field = _FIELDS[error.field]
        raise


@blueprint.get("/cohorts/<int:cohort_id>/registrations")
@blueprint.arguments(s.PageArgs, location="query")
@blueprint.response(200, s.page_of(s.RegistrationOut, "RegistrationPage"))
@errors(blueprint, 404, 422)
def list_registrations(args: dict[str, Any], cohort_id: int) -> dict[str, Any]:
    """The registrations HR's page of the cohort shows, in its order: those
    waiting for a decision (oldest first), the waiting list in its order
    (offers first, `position` 1, 2, … after them), then those decided
    (newest first). Every role of the organisation sees them."""
    overview = registrations.of_cohort(caller().actor, cohort_id, date.today())
    rows = [
        *((r, None) for r in overview.pending),
        *((w.registration, w.position) for w in overview.waiting),
        *((r, None) for r in overview.decided),
    ]
    start = (args["page"] - 1) * args["per_page"]
    shown = rows[start : start + args["per_page"]]
    return s.page([_out(r, position) for r, position in shown], args, len(rows))


@blueprint.post("/registrations/<int:registration_id>/accept")
@transactions.api
@blueprint.arguments(s.AcceptIn)
@blueprint.response(200, s.RegistrationOut)
@errors(blueprint, 403, 404, 409, 422)
def accept(values: dict[str, Any], registration_id: int) -> dict[str, Any] | Response:
    """Accepts the registration: the person is enrolled, or put on the
    waiting list of a full cohort that keeps one (`state` waiting or
    offered). Someone the enrolment warns about (`already_certified`,
    `enrolled_elsewhere`, `with_manager`) is refused with the first
    warning's code and every warning in `details.warnings`, unless
    `acknowledge` is true."""
    actor = caller().actor
    found = policy.get(actor, Registration, registration_id)
    try:
        done = registrations.accept(
            actor, found.cohort_id, found.id, acknowledge=values["acknowledge"]
        )
    except enrolments.EnrolmentError as error:
        if error.code not in enrolments.WARNINGS:
            raise
        warned = enrolments.warnings(found.cohort, found.participant)
        details = {
            "warnings": [{"code": w.code, "message": sentence(str(w.message))} for w in warned]
        }
        return error_response(409, sentence(str(error.message)), details, code=error.code)
    return _answer(done)


@blueprint.post("/registrations/<int:registration_id>/decline")
@transactions.api
@blueprint.arguments(s.DeclineIn)
@blueprint.response(200, s.RegistrationOut)
@errors(blueprint, 403, 404, 409, 422)
def decline(values: dict[str, str], registration_id: int) -> dict[str, Any]:
    """Declines the registration with a reason the person is told (required,
    at most 1000 characters: 422 named at `reason` otherwise)."""
    actor = caller().actor
    found = policy.get(actor, Registration, registration_id)
    done = registrations.decline(actor, found.cohort_id, found.id, values["reason"])
    return _answer(done)


@blueprint.post("/cohorts/<int:cohort_id>/invitations")
@transactions.api
@blueprint.arguments(s.InvitationIn)
@blueprint.response(201, s.RegistrationOut)
@errors(blueprint, 403, 404, 409, 422)
def invite(values: dict[str, int], cohort_id: int) -> dict[str, Any]:
    """Invites a person of the organisation to register for a cohort open for
    registration: they get a message with a link to the form, filled in
    (`registration_closed`, `registered_already` otherwise)."""
    with _api_fields():
        done = registrations.invite(caller().actor, cohort_id, values["participant_id"])
    return _answer(done)
