"""Adding and changing participants, for the forms and the file import alike."""

from __future__ import annotations

from collections.abc import Mapping

from app.extensions import db
from app.models import Organisation, Participant, User
from app.services import calendars, history

# The person's own fields, in the order forms and exports use.
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "department",
    "site",
    "manager_name",
    "manager_email",
)


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


def state(person: Participant) -> dict[str, str]:
    return {name: getattr(person, name) for name in PERSON_FIELDS}


def _clean(values: Mapping[str, str]) -> dict[str, str]:
    cleaned = {name: (values.get(name) or "").strip() for name in PERSON_FIELDS if name in values}
    for name in ("email", "manager_email"):
        if name in cleaned:
            cleaned[name] = cleaned[name].lower()
    return cleaned
