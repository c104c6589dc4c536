"""Enrolling participants in cohorts and withdrawing them; history is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Cohort, CohortState, Enrolment, EnrolmentStatus, Participant, User
from app.services import history
from curricula.messages import MessageError, msg


class EnrolmentError(MessageError):
    """An enrolment is refused (closed or full cohort, another organisation)."""


def enrolled_count(cohort: Cohort) -> int:
    return (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
        or 0
    )


def enrol(cohort: Cohort, participant: Participant, actor: User | None) -> Enrolment:
    if participant.organisation_id != cohort.organisation_id:
        raise EnrolmentError(msg("the person belongs to another organisation"))
    if cohort.state in (CohortState.COMPLETED, CohortState.CANCELLED):
        raise EnrolmentError(msg("the cohort '{name}' is closed", name=cohort.name))
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
            )
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
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        return
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_at = datetime.now(UTC)
    _record(enrolment, actor, "withdrawn")


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
