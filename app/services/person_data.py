"""Everything Qualiplan stores about one participant (GDPR Art. 15), and
every name and address they have had.

The export holds the person's own records in full. Of other people it holds
only what the person saw themselves: the names of their tandem partners, as
the personal page showed them. Who among the staff changed something is
given by role, not by name; a "never together" entry says that one exists,
not with whom (that may be the other person's wish); a proposal of tandems,
which only the staff saw, says that the person was in one, not with whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select

from app import credentials
from app.extensions import db
from app.models import (
    AccessToken,
    AttendanceChange,
    AttendanceRecord,
    Certificate,
    Change,
    Cohort,
    NotTogether,
    Participant,
    Registration,
    Tandem,
    TandemMember,
    TandemState,
    User,
)
from app.services import history, notifications, tokens
from app.services.redaction import Redactor

PERSONAL_PURPOSES = tokens.HELD_BY["participant"]
# A person's record and their enrolments: the changes whose subject id is the person's.
OWN_SUBJECTS = ("participant", "enrolment")

# Every table that holds something about a participant, and the part of the
# export that shows it. A new table that refers to participants must be
# added here (tests/integration/test_gdpr_export.py fails until it is).
PARTS = {
    "participants": "person",
    "enrolments": "enrolments",
    "attendance": "attendance",
    "attendance_changes": "attendance",
    "tandem_members": "tandems",
    "not_together": "not_together",
    "certificates": "certificates",
    "credentials": "certificates",  # the signed credential of each certificate
    "access_tokens": "links",  # subject_id, for the personal purposes
    "changes": "history",  # subject_id, for the subjects above; tandem changes by name
    "notifications": "messages",
    "registrations": "waiting_lists",
}


@dataclass(frozen=True)
class Identity:
    """Every name and address the person has had: now, in the history of
    their record and enrolments, and as printed on their certificates."""

    names: frozenset[str]
    emails: frozenset[str]

    @property
    def mentions(self) -> frozenset[str]:
        reversed_names = set()
        for name in self.names:
            first, _, last = name.rpartition(" ")
            if first:
                reversed_names.add(f"{last}, {first}")  # as lists sort people
        return self.names | self.emails | reversed_names


def identity(person: Participant) -> Identity:
    names, emails = {person.name}, {person.email}
    for change in history.about(person.organisation_id, OWN_SUBJECTS, person.id):
        for snapshot in (change.before or {}, change.after or {}):
            first, last = snapshot.get("first_name"), snapshot.get("last_name")
            if isinstance(first, str) and isinstance(last, str):
                names.add(f"{first} {last}")
            if isinstance(snapshot.get("participant"), str):
                names.add(snapshot["participant"])
            if isinstance(snapshot.get("email"), str):
                emails.add(snapshot["email"])
    names |= {c.name for c in certificates_of(person) if c.name}
    return Identity(
        names=frozenset(" ".join(n.split()) for n in names if n.strip()),
        emails=frozenset(e.strip() for e in emails if e.strip()),
    )


def gather(person: Participant) -> dict[str, Any]:
    """The person and everything about them, as plain JSON values."""
    me = Redactor(identity(person).mentions)
    seen = _partners_seen(person)
    # Free text the staff wrote about the person keeps its words, without
    # anyone else's name in it.
    others = Redactor(_other_people(person) - seen, marker="[…]")
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "person": _record(person),
        "enrolments": [
            {
                "cohort": e.cohort.name,
                "status": e.status.value,
                "enrolled_at": e.enrolled_at.isoformat(),
                "withdrawn_at": _at(e.withdrawn_at),
            }
            for e in sorted(person.enrolments, key=lambda e: (e.enrolled_at, e.id))
        ],
        "waiting_lists": [
            {
                "cohort": r.cohort.name,
                "state": r.state.value,
                "registered_at": r.registered_at.isoformat(),
                "offered_at": _at(r.offered_at),
                "offer_expires_at": _at(r.offer_expires_at),
                "changed_at": r.changed_at.isoformat(),
            }
            for r in db.session.scalars(
                select(Registration)
                .where(Registration.participant_id == person.id)
                .order_by(Registration.registered_at, Registration.id)
            )
        ],
        "attendance": _attendance(person),
        "tandems": _tandems(person),
        "tandem_changes": _tandem_changes(person, me),
        "not_together": [
            {"created_at": entry.created_at.isoformat(), "by": _role(entry.created_by)}
            for entry in db.session.scalars(
                select(NotTogether)
                .where(or_(NotTogether.first_id == person.id, NotTogether.second_id == person.id))
                .order_by(NotTogether.created_at, NotTogether.id)
            )
        ],
        "links": [
            {
                "purpose": t.purpose.value,
                "created_at": t.created_at.isoformat(),
                "revoked_at": _at(t.revoked_at),
            }
            for t in tokens_of(person)
        ],
        "certificates": [
            {
                "serial": c.serial,
                "code": c.code,
                "state": c.state.value,
                "issued_on": c.issued_on.isoformat(),
                "issued_at": c.issued_at.isoformat(),
                "name": c.name,
                "content": c.content,
                "superseded_at": _at(c.superseded_at),
                "revoked_at": _at(c.revoked_at),
                "revoked_reason": others.text(c.revoked_reason) or None,
                "credential": credential.jwt
                if (credential := credentials.credential_of(c))
                else None,
            }
            for c in certificates_of(person)
        ],
        "messages": [
            {
                "created_at": n.created_at.isoformat(),
                "kind": n.kind,
                "subject": n.subject,
                "address": n.address,
                "state": n.state.value,
                "sent_at": _at(n.sent_at),
            }
            for n in notifications.of_participant(person.id, limit=None)
        ],
        "history": [
            {
                "at": c.at.isoformat(),
                "by": _role(c.user),
                "action": f"{c.subject} {c.action}",
                "before": c.before,
                "after": c.after,
            }
            for c in history.about(person.organisation_id, OWN_SUBJECTS, person.id)
        ],
    }


def _record(person: Participant) -> dict[str, Any]:
    """Every field of the person's record (a field added later is in it too)."""
    fields: dict[str, Any] = {}
    for column in Participant.__table__.columns:
        if column.key in _NOT_ABOUT_THE_PERSON:
            continue
        value = getattr(person, column.key)
        fields[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return fields | {"organisation": person.organisation.name}


# Keys and counters of the record, not facts about the person.
_NOT_ABOUT_THE_PERSON = frozenset({"id", "organisation_id", "lock_version"})


def certificates_of(person: Participant) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.participant_id == person.id)
            .order_by(Certificate.issued_at, Certificate.id)
        )
    )


def tokens_of(person: Participant) -> list[AccessToken]:
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(
                AccessToken.organisation_id == person.organisation_id,
                AccessToken.subject_id == person.id,
                AccessToken.purpose.in_(PERSONAL_PURPOSES),
            )
            .order_by(AccessToken.created_at, AccessToken.id)
        )
    )


def _attendance(person: Participant) -> list[dict[str, Any]]:
    records = db.session.scalars(
        select(AttendanceRecord)
        .where(AttendanceRecord.participant_id == person.id)
        .order_by(AttendanceRecord.id)
    ).all()
    changes: dict[int, list[AttendanceChange]] = {}
    for change in db.session.scalars(
        select(AttendanceChange)
        .where(AttendanceChange.attendance_id.in_([r.id for r in records]))
        .order_by(AttendanceChange.at, AttendanceChange.id)
    ):
        changes.setdefault(change.attendance_id, []).append(change)
    return [
        {
            "cohort": r.for_cohort.name,
            "session": r.session.element.title_en,
            "day": r.session.first_day.isoformat(),
            "mark": r.mark.value,
            "minutes_missed": r.minutes_missed,
            "recorded_at": r.recorded_at.isoformat(),
            "recorded_by": _role(r.recorded_by),
            "changes": [
                {
                    "at": c.at.isoformat(),
                    "by": _role(c.user),
                    "before": c.before_mark.value,
                    "after": c.after_mark.value,
                    "minutes_missed_before": c.before_minutes,
                    "minutes_missed_after": c.after_minutes,
                }
                for c in changes.get(r.id, [])
            ],
        }
        for r in records
    ]


def _own_tandems(person: Participant) -> list[Tandem]:
    return list(
        db.session.scalars(
            select(Tandem)
            .join(TandemMember, TandemMember.tandem_id == Tandem.id)
            .where(TandemMember.participant_id == person.id)
            .order_by(Tandem.created_at, Tandem.id)
        )
    )


def _tandems(person: Participant) -> list[dict[str, Any]]:
    return [
        {
            "cohort": t.cohort.name,
            "state": t.state.value,
            "locked": t.locked,
            "created_at": t.created_at.isoformat(),
            "confirmed_at": _at(t.confirmed_at),
            "ended_at": _at(t.ended_at),
            "reasons": t.reasons,
            # A proposal was the staff's draft: the person never saw it.
            "with": None
            if t.state is TandemState.PROPOSED
            else [p.name for p in t.people if p.id != person.id],
        }
        for t in _own_tandems(person)
    ]


def _tandem_changes(person: Participant, me: Redactor) -> list[dict[str, Any]]:
    """Each confirmation of tandems in the person's cohorts, with the group
    they were in (the confirmation names everyone; only their group is theirs)."""
    cohorts = {e.cohort_id for e in person.enrolments}
    found = []
    for change in db.session.scalars(
        select(Change)
        .where(
            Change.organisation_id == person.organisation_id,
            Change.subject == "tandems",
            Change.cohort_id.in_(cohorts),
        )
        .order_by(Change.at, Change.id)
    ):
        groups = (change.after or {}).get("tandems", [])
        for group in groups:
            if not isinstance(group, list) or not any(
                isinstance(n, str) and me.mentions(n) for n in group
            ):
                continue
            found.append(
                {
                    "at": change.at.isoformat(),
                    "by": _role(change.user),
                    "cohort": db.session.get(Cohort, change.cohort_id).name,  # type: ignore[union-attr]
                    "action": change.action,
                    "with": [n for n in group if isinstance(n, str) and not me.mentions(n)],
                }
            )
    return found


def _partners_seen(person: Participant) -> frozenset[str]:
    return frozenset(
        p.name
        for t in _own_tandems(person)
        if t.state is not TandemState.PROPOSED
        for p in t.people
        if p.id != person.id
    )


def _other_people(person: Participant) -> frozenset[str]:
    """Names and addresses of everyone else in the person's organisation:
    the other participants and the staff."""
    found: set[str] = set()
    for first, last, email in db.session.execute(
        select(Participant.first_name, Participant.last_name, Participant.email).where(
            Participant.organisation_id == person.organisation_id, Participant.id != person.id
        )
    ):
        found |= {f"{first} {last}", email}
    for user in db.session.scalars(select(User)):
        if person.organisation_id in user.organisation_ids:
            found |= {user.name, user.email}
    return frozenset(found)


def _role(user: User | None) -> str | None:
    return user.role.value if user is not None else None


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
