"""Cohorts: plan them with the core, store their sessions, keep trainers in
one place at a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Cohort,
    CohortClosure,
    CohortState,
    CurriculumElement,
    CurriculumVersion,
    Organisation,
    Session,
    SessionStatus,
    User,
)
from app.models.cohorts import session_trainers
from app.services import history
from cohorts.calendar import WorkingCalendar
from cohorts.scheduling import Note, plan
from cohorts.scheduling import Session as PlannedSession
from curricula.messages import Message, MessageError, msg
from curricula.model import Mode


class TrainerConflict(MessageError):
    """A trainer would be in two overlapping sessions."""


@dataclass
class NewCohort:
    organisation: Organisation
    version: CurriculumVersion
    name: str
    start: date
    region: str
    timezone: str = "Europe/Berlin"
    delivery: Mode | None = None
    venue: str | None = None
    online_link: str | None = None
    capacity: int | None = None
    trainers: list[User] = field(default_factory=list)
    closures: Mapping[date, str] = field(default_factory=dict)


def working_calendar(cohort: Cohort) -> WorkingCalendar:
    closed = {c.day: c.reason for c in cohort.organisation.closure_days}
    closed.update({c.day: c.reason for c in cohort.closures})
    return WorkingCalendar(cohort.region, closed)


def create_cohort(data: NewCohort, actor: User | None) -> tuple[Cohort, tuple[Note, ...]]:
    """Plan and add a cohort (the caller commits). Raises the core's planning
    errors and TrainerConflict; nothing is added then."""
    cohort = Cohort(
        organisation=data.organisation,
        version=data.version,
        name=data.name.strip(),
        start_date=data.start,
        region=data.region.strip().upper(),
        timezone=data.timezone,
        delivery=data.delivery.value if data.delivery else None,
        venue=data.venue or None,
        online_link=data.online_link or None,
        capacity=data.capacity,
        trainers=list(data.trainers),
        closures=[CohortClosure(day=d, reason=r) for d, r in sorted(data.closures.items())],
    )
    schedule = plan(
        data.version.model,
        data.start,
        working_calendar(cohort),
        tz=data.timezone,
        delivery=data.delivery,
    )
    # The cohort starts when its first session does (a start on a closed day
    # moved to the next working day, with a note).
    cohort.start_date = schedule.first_day
    for planned in schedule.sessions:
        element = data.version.element_by_key(planned.element)
        cohort.sessions.append(new_session(element, planned, data.trainers))
    check_trainers(cohort.sessions)
    db.session.add(cohort)
    db.session.flush()
    history.record(
        user=actor,
        organisation_id=cohort.organisation_id,
        cohort_id=cohort.id,
        subject="cohort",
        subject_id=cohort.id,
        action="created",
        after={
            "name": cohort.name,
            "start": cohort.start_date.isoformat(),
            "region": cohort.region,
        },
    )
    return cohort, schedule.notes


def new_session(
    element: CurriculumElement, planned: PlannedSession, trainers: Iterable[User]
) -> Session:
    """A stored session for a planned one."""
    timed = isinstance(planned.start, datetime) and isinstance(planned.end, datetime)
    return Session(
        element=element,
        all_day=planned.all_day,
        starts_at=planned.start if timed else None,
        ends_at=planned.end if timed else None,
        first_day=planned.first_day,
        last_day=planned.last_day,
        mode=planned.mode.value,
        # Self-paced phases need no trainer in the room.
        trainers=[] if planned.mode is Mode.SELF_PACED else list(trainers),
    )


def check_trainers(sessions: Iterable[Session]) -> None:
    """Refuse sessions that put one of their trainers into two places at once,
    across all cohorts."""
    for session in sessions:
        clashes = _clashes(session, limit=1)
        if clashes:
            raise TrainerConflict(clashes[0])


def trainer_conflicts(sessions: Iterable[Session]) -> dict[int, list[Message]]:
    """Existing double bookings of these sessions' trainers, by session id."""
    found: dict[int, list[Message]] = {}
    for session in sessions:
        clashes = _clashes(session, limit=5)
        if clashes:
            found[session.id] = clashes
    return found


def _clashes(session: Session, limit: int) -> list[Message]:
    if session.starts_at is None or session.ends_at is None:
        return []
    if session.status is SessionStatus.CANCELLED or not session.trainers:
        return []
    query = (
        select(Session, session_trainers.c.user_id)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(
            session_trainers.c.user_id.in_([t.id for t in session.trainers]),
            Session.status == SessionStatus.SCHEDULED,
            Session.starts_at < session.ends_at,
            Session.ends_at > session.starts_at,
        )
        .options(joinedload(Session.cohort), joinedload(Session.element))
        .limit(limit)
    )
    if session.id is not None:
        query = query.where(Session.id != session.id)
    with db.session.no_autoflush:
        rows = db.session.execute(query).all()
    names = {t.id: t.name for t in session.trainers}
    return [
        msg(
            "{trainer} would be in two places at once: {session} ({cohort}) and "
            "{other} ({other_cohort}) overlap on {day}",
            trainer=names[trainer_id],
            session=session.element.text,
            cohort=session.cohort.name if session.cohort else "",
            other=other.element.text,
            other_cohort=other.cohort.name,
            day=session.first_day,
        )
        for other, trainer_id in rows
    ]


def change_cohort_state(cohort: Cohort, wanted: CohortState, actor: User | None) -> None:
    """Move the cohort to `wanted` (allowed moves only); cancelling a cohort
    cancels its sessions, so that calendars show them cancelled."""
    before = cohort.state
    cohort.change_state(wanted)
    if wanted is CohortState.CANCELLED:
        for session in cohort.sessions:
            if session.status is SessionStatus.SCHEDULED:
                session.status = SessionStatus.CANCELLED
                session.revision += 1
    history.record(
        user=actor,
        organisation_id=cohort.organisation_id,
        cohort_id=cohort.id,
        subject="cohort",
        subject_id=cohort.id,
        action="state",
        before={"state": before.value},
        after={"state": wanted.value},
    )
