"""A year's certificates of an organisation, printed as one PDF (a job):
every certificate in force issued that year, of people still on record, in
alphabetical order, as the cohort's printout has them."""

from __future__ import annotations

from sqlalchemy import extract, func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Certificate, Organisation
from app.services import policy
from app.services.policy import Action, Actor


def _in_force(organisation_id: int):  # type: ignore[no-untyped-def]
    return (
        Certificate.organisation_id == organisation_id,
        Certificate.participant_id.is_not(None),
        Certificate.in_force,
    )


def organisation_to_print(actor: Actor, organisation_id: int) -> Organisation:
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.PRINT_CERTIFICATES, organisation.id)
    return organisation


def years(actor: Actor, organisation_id: int) -> tuple[Organisation, list[tuple[int, int]]]:
    """The organisation and, newest first, each year it issued certificates
    in with how many of them are in force."""
    organisation = organisation_to_print(actor, organisation_id)
    year = extract("year", Certificate.issued_on)
    rows = db.session.execute(
        select(year, func.count())
        .where(*_in_force(organisation.id))
        .group_by(year)
        .order_by(year.desc())
    )
    return organisation, [(int(y), int(n)) for y, n in rows]


def count_of_year(organisation_id: int, year: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(*_in_force(organisation_id), extract("year", Certificate.issued_on) == year)
        )
        or 0
    )


def printable_of_year(
    actor: Actor, organisation_id: int, year: int
) -> tuple[Organisation, list[Certificate]]:
    organisation = organisation_to_print(actor, organisation_id)
    found = db.session.scalars(
        select(Certificate)
        .where(*_in_force(organisation.id), extract("year", Certificate.issued_on) == year)
        .options(selectinload(Certificate.participant))
    )
    return organisation, sorted(found, key=lambda c: c.participant.sort_key)
