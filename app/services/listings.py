"""Lists of records as an actor may read them, a page at a time: what the
API lists, with the same rule as every page (records of the actor's
organisations only; the shipped curricula for everyone)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select

from app.extensions import db
from app.models import (
    AttendanceRecord,
    Cohort,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    Session,
    Tandem,
    TandemState,
)
from app.services import policy
from app.services.errors import NotFound
from app.services.policy import Actor
from curricula.messages import msg

T = TypeVar("T")


def paged(statement: Select[tuple[T]], page: int, per_page: int) -> tuple[list[T], int]:
    """One page of the statement's rows, and how many there are in all."""
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = db.session.scalars(statement.limit(per_page).offset((max(page, 1) - 1) * per_page))
    return list(rows), total or 0


def _readable_curricula(actor: Actor) -> Select[tuple[CurriculumRecord]]:
    statement = select(CurriculumRecord)
    if actor.organisation_ids is not None:
        statement = statement.where(
            or_(
                CurriculumRecord.organisation_id.is_(None),
                CurriculumRecord.organisation_id.in_(actor.organisation_ids),
            )
        )
    return statement.options(selectinload(CurriculumRecord.versions)).order_by(CurriculumRecord.id)


def curricula(actor: Actor, page: int, per_page: int) -> tuple[list[CurriculumRecord], int]:
    """The shipped standards and the curricula of the actor's organisations."""
    return paged(_readable_curricula(actor), page, per_page)


def published_version(actor: Actor, curriculum_id: int, version_id: int) -> CurriculumVersion:
    """A published version of a curriculum the actor may read; drafts are not
    found."""
    record = db.session.scalar(
        _readable_curricula(actor).where(CurriculumRecord.id == curriculum_id)
    )
    version = db.session.get(CurriculumVersion, version_id)
    if record is None or version is None or version.curriculum_id != record.id:
        raise NotFound()
    if version.is_draft:
        raise NotFound(msg("drafts are not part of the API"))
    return version


def cohorts(actor: Actor, page: int, per_page: int) -> tuple[list[Cohort], int]:
    """The cohorts of the actor's organisations, by start."""
    statement = select(Cohort)
    if actor.organisation_ids is not None:
        statement = statement.where(Cohort.organisation_id.in_(actor.organisation_ids))
    return paged(statement.order_by(Cohort.start_date, Cohort.id), page, per_page)


def sessions(actor: Actor, cohort_id: int) -> list[Session]:
    """Every session of the cohort, cancelled ones too, by date."""
    cohort = policy.get(actor, Cohort, cohort_id)
    return list(
        db.session.scalars(
            select(Session)
            .where(Session.cohort_id == cohort.id)
            .options(selectinload(Session.element))
            .order_by(Session.first_day, Session.id)
        )
    )


def enrolments(actor: Actor, cohort_id: int) -> list[Enrolment]:
    """Every enrolment of the cohort, withdrawn ones too."""
    cohort = policy.get(actor, Cohort, cohort_id)
    return list(
        db.session.scalars(
            select(Enrolment).where(Enrolment.cohort_id == cohort.id).order_by(Enrolment.id)
        )
    )


def confirmed_tandems(actor: Actor, cohort_id: int) -> list[Tandem]:
    cohort = policy.get(actor, Cohort, cohort_id)
    return list(
        db.session.scalars(
            select(Tandem)
            .where(Tandem.cohort_id == cohort.id, Tandem.state == TandemState.CONFIRMED)
            .options(selectinload(Tandem.members))
            .order_by(Tandem.id)
        )
    )


def marks(actor: Actor, cohort_id: int) -> list[AttendanceRecord]:
    """Recorded marks that count for the cohort (make-ups elsewhere too)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    return list(
        db.session.scalars(
            select(AttendanceRecord)
            .where(AttendanceRecord.for_cohort_id == cohort.id)
            .order_by(AttendanceRecord.session_id, AttendanceRecord.participant_id)
        )
    )
