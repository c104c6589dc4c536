"""Enrolling participants in cohorts and withdrawing them; history is kept.

`enrol_participant` and `withdraw_participant` are the use cases every door
calls (page, API): permission, the cohort's rules and the warnings about a
person who is qualified already or busy in another cohort of the curriculum.
`enrol` and `withdraw` are their steps on loaded records, for the file import
and for setting up data; they hold the cohort's own rules (organisation,
closed, full) and check no permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Certificate,
    Cohort,
    CohortState,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Participant,
    User,
)
from app.models.certificates import serial_label
from app.services import history, policy
from app.services.errors import DomainError
from app.services.policy import Action, Actor
from curricula.messages import Message, msg

OPEN_STATES = (CohortState.PLANNED, CohortState.RUNNING)
# The refusals that an "enrol anyway" can pass (see enrol_participant).
WARNINGS = frozenset({"already_certified", "enrolled_elsewhere"})


class EnrolmentError(DomainError):
    """An enrolment is refused (closed or full cohort, another organisation,
    or a warning not acknowledged)."""

    code = "enrolment_refused"


@dataclass(frozen=True)
class EnrolmentWarning:
    code: str  # one of WARNINGS
    message: Message


def enrolled_count(cohort: Cohort) -> int:
    return (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
        or 0
    )


def enrol_participant(
    actor: Actor, cohort_id: int, participant_id: int, *, acknowledge: bool = False
) -> Enrolment:
    """Enrol the person in the cohort (enrolled already: the enrolment as it
    is). A person who holds a certificate in force for the cohort's curriculum,
    or is enrolled in another open cohort of it, is refused with the reason
    (codes `already_certified`, `enrolled_elsewhere`) unless `acknowledge`."""
    cohort = policy.get(actor, Cohort, cohort_id)
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    if _active(cohort, person) is None and not acknowledge:
        found = warnings(cohort, person)
        if found:
            raise EnrolmentError(found[0].message, code=found[0].code)
    return enrol(cohort, person, actor.user)


def withdraw_participant(actor: Actor, cohort_id: int, enrolment_id: int) -> Enrolment:
    """Withdraw an enrolment of the cohort (withdrawn already: nothing changes)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.cohort_id != cohort.id:
        raise policy.NotFound()
    withdraw(enrolment, actor.user)
    return enrolment


def open_cohorts(person: Participant) -> list[Cohort]:
    """Planned and running cohorts of the person's organisation that they
    are not enrolled in, by start."""
    enrolled = {e.cohort_id for e in person.enrolments if e.status is EnrolmentStatus.ENROLLED}
    cohorts = db.session.scalars(
        select(Cohort)
        .where(Cohort.organisation_id == person.organisation_id, Cohort.state.in_(OPEN_STATES))
        .order_by(Cohort.start_date, Cohort.id)
    )
    return [c for c in cohorts if c.id not in enrolled]


def warnings(cohort: Cohort, person: Participant) -> list[EnrolmentWarning]:
    """What speaks against enrolling `person` in `cohort`, though it is allowed.

    The same curriculum is any version of the cohort's curriculum and of every
    curriculum of the same lineage (a fork and the standard it was forked
    from, and the standard's other forks): they lead to the same qualification.
    A certificate counts while it is in force (not revoked, not superseded).
    """
    family = same_curriculum(cohort.version.curriculum)
    found = []
    certificate = db.session.scalar(
        select(Certificate)
        .join(Cohort, Cohort.id == Certificate.cohort_id)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .where(
            Certificate.participant_id == person.id,
            Certificate.revoked_at.is_(None),
            Certificate.superseded_at.is_(None),
            CurriculumVersion.curriculum_id.in_(family),
        )
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        .limit(1)
    )
    if certificate is not None:
        serial = serial_label(certificate.serial)
        found.append(
            EnrolmentWarning(
                "already_certified",
                msg(
                    "{name} already holds a certificate in force for this curriculum "
                    "(no. {serial} of {day}, cohort '{cohort}')",
                    name=person.name,
                    serial=serial,
                    day=certificate.issued_on,
                    cohort=certificate.cohort.name if certificate.cohort else "?",
                ),
            )
        )
    elsewhere = db.session.scalar(
        select(Cohort)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .where(
            Enrolment.participant_id == person.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Cohort.id != cohort.id,
            Cohort.state.in_(OPEN_STATES),
            CurriculumVersion.curriculum_id.in_(family),
        )
        .order_by(Cohort.start_date, Cohort.id)
        .limit(1)
    )
    if elsewhere is not None:
        found.append(
            EnrolmentWarning(
                "enrolled_elsewhere",
                msg(
                    "{name} is enrolled in the cohort '{cohort}' of this curriculum already",
                    name=person.name,
                    cohort=elsewhere.name,
                ),
            )
        )
    return found


def same_curriculum(record: CurriculumRecord) -> set[int]:
    """The ids of every curriculum of `record`'s lineage: those with the same
    first upstream curriculum."""
    rows = db.session.execute(select(CurriculumRecord.id, CurriculumRecord.upstream_id))
    upstream: dict[int, int | None] = {i: parent for i, parent in rows}

    def root(curriculum_id: int) -> int:
        seen = {curriculum_id}
        while (parent := upstream.get(curriculum_id)) is not None and parent not in seen:
            seen.add(parent)
            curriculum_id = parent
        return curriculum_id

    mine = root(record.id)
    return {i for i in upstream if root(i) == mine}


def enrol(cohort: Cohort, participant: Participant, actor: User | None) -> Enrolment:
    """The enrolment step (see the module's text)."""
    if participant.organisation_id != cohort.organisation_id:
        raise EnrolmentError(
            msg("the person belongs to another organisation"), code="other_organisation"
        )
    if cohort.state in (CohortState.COMPLETED, CohortState.CANCELLED):
        raise EnrolmentError(
            msg("the cohort '{name}' is closed", name=cohort.name), code="cohort_closed"
        )
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.participant_id == participant.id
        )
    )
    if enrolment is not None and enrolment.status is EnrolmentStatus.ENROLLED:
        return enrolment
    if cohort.capacity is not None and enrolled_count(cohort) >= cohort.capacity:
        raise EnrolmentError(
            msg(
                "the cohort '{name}' is full ({capacity} places)",
                name=cohort.name,
                capacity=cohort.capacity,
            ),
            code="cohort_full",
        )
    if enrolment is None:
        enrolment = Enrolment(cohort=cohort, participant=participant)
        db.session.add(enrolment)
    else:
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.withdrawn_at = None
    db.session.flush()
    _record(enrolment, actor, "enrolled")
    return enrolment


def withdraw(enrolment: Enrolment, actor: User | None) -> None:
    """The withdrawal step (see the module's text)."""
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        return
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_at = datetime.now(UTC)
    _record(enrolment, actor, "withdrawn")


def _active(cohort: Cohort, person: Participant) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.participant_id == person.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    )


def _record(enrolment: Enrolment, actor: User | None, action: str) -> None:
    history.record(
        user=actor,
        organisation_id=enrolment.cohort.organisation_id,
        cohort_id=enrolment.cohort_id,
        subject="enrolment",
        subject_id=enrolment.participant_id,
        action=action,
        after={"participant": enrolment.participant.name},
    )
