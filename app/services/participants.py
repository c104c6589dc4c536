"""Adding, changing and finding participants, for the forms, the API and the
file import alike.

`add` and `edit` are the use cases of the doors; `add_participant` and
`update_participant` their steps on loaded records (also the import's),
which check no permission.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Change,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    User,
)
from app.services import calendars, history, policy
from app.services.errors import DomainError, expect_version
from app.services.policy import Action, Actor
from app.services.text import one_line
from curricula.messages import msg

# The person's own fields, in the order forms and exports use.
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "department",
    "site",
    "manager_name",
    "manager_email",
    "employee_number",
)
# Searched by `search`, each word of the query in any of them.
SEARCHED = ("first_name", "last_name", "email", "department", "site")


class EmailTaken(DomainError):
    """Someone in the organisation has this e-mail address already."""

    code = "email_taken"

    def __init__(self, email: str) -> None:
        super().__init__(
            msg(
                "someone in this organisation has the e-mail address {email} already", email=email
            ),
            field="email",
        )


class EmployeeNumberTaken(DomainError):
    """Someone in the organisation has this employee number already."""

    code = "employee_number_taken"

    def __init__(self, number: str) -> None:
        super().__init__(
            msg(
                "someone in this organisation has the employee number {number} already",
                number=number,
            ),
            field="employee_number",
        )


def add(actor: Actor, organisation_id: int, values: Mapping[str, str]) -> Participant:
    """A new participant of the organisation (EmailTaken when the address is
    in use there, EmployeeNumberTaken when the number is)."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.KEEP_PEOPLE, organisation.id)
    cleaned = _clean(values)
    email = cleaned.get("email", "")
    if _holder(organisation.id, email) is not None:
        raise EmailTaken(email)
    number = cleaned.get("employee_number", "")
    if _number_holder(organisation.id, number) is not None:
        raise EmployeeNumberTaken(number)
    return add_participant(organisation, values, actor.user)


def edit(
    actor: Actor, participant_id: int, values: Mapping[str, str], *, version: object
) -> Participant:
    """Change the person's fields (all of them: an empty value empties the
    field); StaleEdit when `version` is not the person's current one."""
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.KEEP_PEOPLE, person.organisation_id)
    expect_version(person, version)
    email = _clean(values).get("email", person.email)
    holder = _holder(person.organisation_id, email)
    if holder is not None and holder != person.id:
        raise EmailTaken(email)
    number = _clean(values).get("employee_number", "")
    holder = _number_holder(person.organisation_id, number)
    if holder is not None and holder != person.id:
        raise EmployeeNumberTaken(number)
    update_participant(person, values, actor.user, keep_blank=False)
    return person


def search(
    actor: Actor,
    query: str,
    page: int = 1,
    per_page: int = 50,
    organisation_id: int | None = None,
) -> tuple[list[Participant], int]:
    """The participants the actor may see whose names, e-mail address,
    department or site contain every word of `query` (any case), ordered by
    last name, first name and id: one page of them, and how many match."""
    statement = select(Participant)
    if actor.organisation_ids is not None:
        statement = statement.where(Participant.organisation_id.in_(actor.organisation_ids))
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    # Names are stored composed; a query typed decomposed finds them too.
    for word in unicodedata.normalize("NFC", query).lower().split():
        like = f"%{_escaped(word)}%"
        statement = statement.where(
            or_(
                *(
                    func.lower(getattr(Participant, name)).like(like, escape="\\")
                    for name in SEARCHED
                )
            )
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = db.session.scalars(
        statement.options(selectinload(Participant.organisation))
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(items), total


def export_rows(actor: Actor, organisation_id: int | None = None) -> list[tuple[Any, ...]]:
    """Every person the actor may see (of one organisation, when given) with
    the cohorts they are enrolled in: a row per person and cohort. Plain
    columns in one query, so an export of thousands of rows builds no objects."""
    policy.require(actor, Action.KEEP_PEOPLE, organisation_id)
    active = and_(
        Enrolment.participant_id == Participant.id,
        Enrolment.status == EnrolmentStatus.ENROLLED,
    )
    statement = (
        select(*(getattr(Participant, name) for name in PERSON_FIELDS), Cohort.name)
        .outerjoin(Enrolment, active)
        .outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
        .order_by(Participant.last_name, Participant.first_name, Participant.id, Cohort.start_date)
    )
    if actor.organisation_ids is not None:
        statement = statement.where(Participant.organisation_id.in_(actor.organisation_ids))
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    return [tuple(value or "" for value in row) for row in db.session.execute(statement)]


def of_cohort(actor: Actor, cohort_id: int) -> tuple[Cohort, list[Participant]]:
    """The cohort and the people enrolled in it, alphabetically."""
    cohort = policy.get(actor, Cohort, cohort_id)
    people = db.session.scalars(
        select(Participant)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    return cohort, list(people)


def add_participant(
    organisation: Organisation, values: Mapping[str, str], actor: User | None
) -> Participant:
    person = Participant(organisation=organisation, **_clean(values))
    db.session.add(person)
    db.session.flush()
    history.record(
        user=actor,
        organisation_id=organisation.id,
        subject="participant",
        subject_id=person.id,
        action="created",
        after=state(person),
    )
    return person


def update_participant(
    person: Participant, values: Mapping[str, str], actor: User | None, *, keep_blank: bool
) -> bool:
    """Set the given fields; with `keep_blank` an empty value leaves a field as
    it is (an import column the HR system left empty). True when anything changed."""
    before = state(person)
    for name, value in _clean(values).items():
        if value or not keep_blank:
            setattr(person, name, value)
    after = state(person)
    if after == before:
        return False
    if any(before[name] != after[name] for name in ("first_name", "last_name")):
        # Tandem partners see this name in their calendars.
        calendars.names_changed(e.cohort_id for e in person.enrolments)
    history.record(
        user=actor,
        organisation_id=person.organisation_id,
        subject="participant",
        subject_id=person.id,
        action="updated",
        before=before,
        after=after,
    )
    return True


def add_participants(
    organisation: Organisation, people: Sequence[Mapping[str, str]], actor: User | None
) -> list[int]:
    """`add_participant` for many people at once (the import's step): one
    INSERT for the people, one for their history entries; their ids in order."""
    if not people:
        return []
    rows = []
    for values in people:
        cleaned = {name: "" for name in PERSON_FIELDS} | _clean(values)
        rows.append(cleaned | {"employee_number": cleaned["employee_number"] or None})
    # Matched back by address (unique in the organisation), so that the
    # INSERT need not keep the rows' order, which costs a statement per row.
    inserted = db.session.execute(
        insert(Participant).returning(Participant.id, Participant.email),
        [row | {"organisation_id": organisation.id} for row in rows],
    )
    by_email = {email: person_id for person_id, email in inserted}
    ids = [by_email[row["email"]] for row in rows]
    db.session.execute(
        insert(Change),
        [
            {
                "user_id": actor.id if actor is not None else None,
                "organisation_id": organisation.id,
                "subject": "participant",
                "subject_id": person_id,
                "action": "created",
                "after": row | {"employee_number": row["employee_number"] or ""},
            }
            for person_id, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def state(person: Participant) -> dict[str, str]:
    # An absent employee number is NULL in the table, "" like any empty field here.
    return {name: getattr(person, name) or "" for name in PERSON_FIELDS}


def _holder(organisation_id: int, email: str) -> int | None:
    if not email:
        return None
    return db.session.scalar(
        select(Participant.id).where(
            Participant.organisation_id == organisation_id,
            func.lower(Participant.email) == email,
        )
    )


def _number_holder(organisation_id: int, number: str) -> int | None:
    if not number:
        return None
    return db.session.scalar(
        select(Participant.id).where(
            Participant.organisation_id == organisation_id,
            Participant.employee_number == number,
        )
    )


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clean(values: Mapping[str, str]) -> dict[str, str]:
    """The person's fields as stored: one line each (else NotOneLine, at the
    field), trimmed, in Unicode NFC — a decomposed "Nguyễn" would print with
    misplaced accents and not be found by a search for the composed form."""
    cleaned = {}
    for name in PERSON_FIELDS:
        if name in values:
            cleaned[name] = one_line(values.get(name), field=name)
    for name in ("email", "manager_email"):
        if name in cleaned:
            cleaned[name] = cleaned[name].lower()
    return cleaned
