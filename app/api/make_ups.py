"""Make-ups in the API: who is at risk of missing the certificate, with the
reasons and the sessions that would save it (app.services.at_risk), and
booking or cancelling a make-up (app.services.make_ups), as the pages do."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app import transactions
from app.api import schemas as s
from app.api.auth import authenticate, caller
from app.api.resources import errors
from app.i18n import Translator
from app.models import AttendanceRecord
from app.services import at_risk, make_ups
from app.services.at_risk import Entry, Missed
from app.services.make_ups import Booking, Offer

blueprint = Blueprint(
    "api_make_ups",
    __name__,
    description="Make-ups and the people at risk of missing the certificate",
)
blueprint.before_request(authenticate)

GERMAN, ENGLISH = Translator("de"), Translator("en")


def _booking(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.record_id,
        "participant_id": booking.participant_id,
        "cohort_id": booking.for_cohort_id,
        "session_id": booking.session_id,
        "host_cohort_name": booking.cohort_name,
        "element_key": booking.element_key,
        "first_day": booking.first_day,
        "awaiting_mark": booking.awaiting_mark,
    }


def _booked(record: AttendanceRecord) -> dict[str, Any]:
    """A make-up just booked: its session is still to come."""
    session = record.session
    return {
        "id": record.id,
        "participant_id": record.participant_id,
        "cohort_id": record.for_cohort_id,
        "session_id": session.id,
        "host_cohort_name": session.cohort.name,
        "element_key": session.element.key,
        "first_day": session.first_day,
        "awaiting_mark": False,
    }


def _offer(offer: Offer) -> dict[str, Any]:
    return {
        "session_id": offer.session_id,
        "cohort_id": offer.cohort_id,
        "cohort_name": offer.cohort_name,
        "element_key": offer.element_key,
        "title_de": offer.title.de,
        "title_en": offer.title.en,
        "first_day": offer.first_day,
        "last_day": offer.last_day,
        "starts_at": offer.starts_at,
        "ends_at": offer.ends_at,
        "all_day": offer.all_day,
        "timezone": offer.timezone,
        "free": offer.free,
    }


def _missed(missed: Missed) -> dict[str, Any]:
    return {
        "element_key": missed.key,
        "title_de": missed.title.de,
        "title_en": missed.title.en,
        "booking": _booking(missed.booking) if missed.booking is not None else None,
        "offers": [_offer(o) for o in missed.offers],
    }


def _entry(entry: Entry) -> dict[str, Any]:
    person = entry.participant
    return {
        "participant": {"id": person.id, "name": person.name, "email": person.email},
        "cohort_id": entry.cohort.id,
        "cohort_name": entry.cohort.name,
        "saved": entry.saved,
        "reasons": [
            {
                "code": lost.part.value,
                "text_de": GERMAN.localize(lost.reason),
                "text_en": ENGLISH.localize(lost.reason),
                "elements": list(lost.elements),
                "needed": lost.needed,
                "booked": list(lost.booked),
                "awaiting": list(lost.awaiting),
                "saved": lost.saved,
            }
            for lost in entry.risk.lost
        ],
        "missed": [_missed(m) for m in entry.missed],
    }


@blueprint.get("/cohorts/<int:cohort_id>/at-risk")
@blueprint.arguments(s.PageArgs, location="query")
@blueprint.response(200, s.page_of(s.AtRiskOut, "AtRiskPage"))
@errors(blueprint, 404, 422)
def of_cohort(args: dict[str, Any], cohort_id: int) -> dict[str, Any]:
    """The cohort's people who can no longer reach the certificate in it, by
    name: each reason as a stable `code` and in words, the elements missed
    with the make-up booked for each, or the sessions that would save it. A
    completed or cancelled cohort has nobody at risk."""
    size = args["per_page"]
    found = at_risk.of_cohort(
        caller().actor, cohort_id, limit=size, offset=(args["page"] - 1) * size
    )
    return s.page([_entry(e) for e in found.entries], args, found.total)


@blueprint.get("/participants/<int:participant_id>/at-risk")
@blueprint.response(200, s.AtRiskOut(many=True))
@errors(blueprint, 404)
def of_participant(participant_id: int) -> list[dict[str, Any]]:
    """The person's planned or running cohorts in which they are at risk."""
    found = at_risk.of_participant(caller().actor, participant_id)
    return [_entry(e) for e in found.entries]


@blueprint.post("/participants/<int:participant_id>/make-ups")
@transactions.api
@blueprint.arguments(s.MakeUpIn)
@blueprint.response(201, s.BookingOut)
@errors(blueprint, 403, 404, 409, 422)
def book(values: dict[str, int], participant_id: int) -> dict[str, Any]:
    """Books the person into another cohort's session (`session_id`) to make
    its element up for their cohort `cohort_id`; they get an invitation.
    Refusals: `not_enrolled`, `own_cohort`, `not_same_element`,
    `already_attended`, `already_booked`, `cohort_closed`,
    `session_cancelled`, `session_begun`, `session_full`."""
    record = make_ups.book(
        caller().actor, participant_id, values["cohort_id"], values["session_id"]
    )
    return _booked(record)


@blueprint.delete("/participants/<int:participant_id>/make-ups/<int:session_id>")
@transactions.api
@blueprint.response(204)
@errors(blueprint, 403, 404, 409)
def cancel(participant_id: int, session_id: int) -> None:
    """Cancels the person's make-up booked in the session, as the page's
    button does (`not_a_booking` when the record is no make-up that can be
    cancelled)."""
    make_ups.cancel(caller().actor, participant_id, session_id)
