"""The overview: what is coming up in the user's organisations, how far each
cohort is, and what needs attention; each finding is one query, whatever the
amount of data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.models import (
    Cohort,
    CohortState,
    CurriculumElement,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Session,
    SessionStatus,
    Tandem,
    TandemMember,
    TandemState,
    User,
)
from app.models.cohorts import session_trainers
from app.services import policy
from app.services.policy import Action, Actor
from curricula.messages import Message, msg
from curricula.model import Text

OPEN = (CohortState.PLANNED, CohortState.RUNNING)
SOON = timedelta(weeks=4)
# Sessions of the coming weeks; cohorts that are open or started recently.
UPCOMING = timedelta(weeks=6)
RECENT = timedelta(days=120)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    next_title: Text | None
    next_day: date | None
    # The cohort's start as it stands: the day of its first scheduled session.
    first_day: date


@dataclass(frozen=True)
class Overview:
    sessions: list[Session]
    cohorts: list[Cohort]
    progress: dict[int, Progress]
    attention: list[Attention]
    organisations: list[Organisation]
    can_plan: bool


def overview(actor: Actor, today: date) -> Overview:
    user = actor.user
    organisations = sorted(user.organisations, key=lambda o: o.name) if user else []
    ids = {o.id for o in organisations}
    sessions = db.session.scalars(
        select(Session)
        .join(Session.cohort)
        .where(
            Cohort.organisation_id.in_(ids),
            Session.last_day >= today,
            Session.first_day <= today + UPCOMING,
            Session.status == SessionStatus.SCHEDULED,
            Cohort.state.in_(OPEN),
        )
        .options(joinedload(Session.cohort), joinedload(Session.element))
        .order_by(Session.first_day, Session.starts_at)
        .limit(50)
    ).all()
    cohorts = db.session.scalars(
        select(Cohort)
        .where(
            Cohort.organisation_id.in_(ids),
            or_(Cohort.state.in_(OPEN), Cohort.start_date >= today - RECENT),
        )
        .options(joinedload(Cohort.organisation))
        .order_by(Cohort.start_date)
        .limit(100)
    ).all()
    return Overview(
        sessions=list(sessions),
        cohorts=list(cohorts),
        progress=progress(list(cohorts), today),
        attention=needs_attention(ids, today),
        organisations=organisations,
        can_plan=policy.may(actor, Action.PLAN),
    )


def progress(cohorts: list[Cohort], today: date) -> dict[int, Progress]:
    """Per cohort: sessions over, sessions in all, the next one (none for a
    cancelled cohort: nothing comes next) and the first; one query of plain
    columns (the overview lists up to 100 cohorts)."""
    cancelled = {c.id for c in cohorts if c.state is CohortState.CANCELLED}
    rows = db.session.execute(
        select(
            Session.cohort_id,
            Session.first_day,
            Session.last_day,
            CurriculumElement.title_de,
            CurriculumElement.title_en,
        )
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(
            Session.cohort_id.in_([c.id for c in cohorts]),
            Session.status == SessionStatus.SCHEDULED,
        )
        .order_by(Session.cohort_id, Session.first_day, Session.starts_at)
    ).all()
    found: dict[int, Progress] = {}
    for cohort_id, first_day, last_day, title_de, title_en in rows:
        seen = found.get(cohort_id, Progress(0, 0, None, None, first_day))
        over = last_day < today
        upcoming = not over and seen.next_day is None and cohort_id not in cancelled
        found[cohort_id] = Progress(
            done=seen.done + over,
            total=seen.total + 1,
            next_title=Text(title_de, title_en) if upcoming else seen.next_title,
            next_day=first_day if upcoming else seen.next_day,
            first_day=seen.first_day,
        )
    return found


@dataclass(frozen=True)
class Attention:
    message: Message
    cohort_id: int
    session_id: int | None = None
    # Fixed on the cohort's tandem page rather than on the cohort page.
    on_tandem_page: bool = False


def needs_attention(organisation_ids: set[int], today: date) -> list[Attention]:
    return [
        *_double_bookings(organisation_ids, today),
        *_sessions_without_trainer(organisation_ids, today),
        *_empty_cohorts(organisation_ids, today),
        *_broken_tandems(organisation_ids),
    ]


def _double_bookings(organisation_ids: set[int], today: date) -> list[Attention]:
    # Only sessions that end after the earliest moment today can be (any time
    # zone is at most 14 hours ahead of UTC): both sides of a double booking
    # are among them, so the trainers' sessions of past years are never
    # paired.
    earliest = datetime.combine(today, time.min, UTC) - timedelta(hours=14)
    booked = (
        select(
            Session.id,
            Session.cohort_id,
            Session.first_day,
            Session.starts_at,
            Session.ends_at,
            session_trainers.c.user_id,
        )
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(
            Session.ends_at > earliest,
            Session.status == SessionStatus.SCHEDULED,
            # A cancelled cohort frees its trainers, also one cancelled
            # before its sessions were cancelled with it.
            Cohort.state != CohortState.CANCELLED,
        )
        .cte("booked")
    )
    mine, other = booked.alias("mine"), booked.alias("other")
    mine_cohort, other_cohort = aliased(Cohort), aliased(Cohort)
    rows = db.session.execute(
        select(
            mine.c.id,
            mine_cohort.id,
            mine_cohort.name,
            other_cohort.name,
            User.name,
            mine.c.first_day,
        )
        .join(other, and_(other.c.user_id == mine.c.user_id, other.c.id > mine.c.id))
        .join(mine_cohort, mine_cohort.id == mine.c.cohort_id)
        .join(other_cohort, other_cohort.id == other.c.cohort_id)
        .join(User, User.id == mine.c.user_id)
        .where(
            mine_cohort.organisation_id.in_(organisation_ids),
            mine.c.first_day >= today,
            mine.c.starts_at < other.c.ends_at,
            other.c.starts_at < mine.c.ends_at,
        )
        .order_by(mine.c.first_day)
        .limit(20)
    ).all()
    return [
        Attention(
            msg(
                "{trainer} is booked twice on {day}: {cohort} and {other}",
                trainer=trainer,
                day=day,
                cohort=cohort_name,
                other=other_name,
            ),
            cohort_id,
            session_id,
        )
        for session_id, cohort_id, cohort_name, other_name, trainer, day in rows
    ]


def _sessions_without_trainer(organisation_ids: set[int], today: date) -> list[Attention]:
    rows = db.session.execute(
        select(
            Session.id,
            Cohort.id,
            Cohort.name,
            Session.first_day,
            CurriculumElement.title_de,
            CurriculumElement.title_en,
        )
        .join(Cohort, Cohort.id == Session.cohort_id)
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .outerjoin(session_trainers, session_trainers.c.session_id == Session.id)
        .where(
            Cohort.organisation_id.in_(organisation_ids),
            Cohort.state.in_(OPEN),
            Session.status == SessionStatus.SCHEDULED,
            Session.starts_at.is_not(None),
            Session.first_day.between(today, today + SOON),
            session_trainers.c.user_id.is_(None),
        )
        .order_by(Session.first_day)
        .limit(20)
    ).all()
    return [
        Attention(
            msg(
                "{session} of {cohort} on {day} has no trainer yet",
                session=Text(title_de, title_en),
                cohort=cohort_name,
                day=day,
            ),
            cohort_id,
            session_id,
        )
        for session_id, cohort_id, cohort_name, day, title_de, title_en in rows
    ]


def _empty_cohorts(organisation_ids: set[int], today: date) -> list[Attention]:
    enrolled = (
        select(func.count(Enrolment.id))
        .where(Enrolment.cohort_id == Cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .correlate(Cohort)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Cohort.id, Cohort.name, Cohort.start_date)
        .where(
            Cohort.organisation_id.in_(organisation_ids),
            Cohort.state == CohortState.PLANNED,
            Cohort.start_date.between(today, today + SOON),
            enrolled == 0,
        )
        .order_by(Cohort.start_date)
        .limit(20)
    ).all()
    return [
        Attention(
            msg("{cohort} starts on {day} and nobody is enrolled yet", cohort=name, day=start),
            cohort_id,
        )
        for cohort_id, name, start in rows
    ]


def _broken_tandems(organisation_ids: set[int]) -> list[Attention]:
    """Open cohorts where someone in a confirmed tandem has withdrawn.

    Read from the confirmed tandems' members, whose own enrolment is looked
    up (cohort and person: the enrolments' unique key): joined the other way
    round, SQLite walked every enrolment of every open cohort (all of a
    large organisation's, when its old cohorts stay "planned") to find the
    few that belong to a tandem."""
    withdrawn = (
        select(Enrolment.id)
        .where(
            Enrolment.cohort_id == Tandem.cohort_id,
            Enrolment.participant_id == TandemMember.participant_id,
            Enrolment.status == EnrolmentStatus.WITHDRAWN,
        )
        .exists()
    )
    rows = db.session.execute(
        select(Cohort.id, Cohort.name, Participant.first_name, Participant.last_name)
        .join(Tandem, Tandem.cohort_id == Cohort.id)
        .join(TandemMember, TandemMember.tandem_id == Tandem.id)
        .join(Participant, Participant.id == TandemMember.participant_id)
        .where(
            Cohort.organisation_id.in_(organisation_ids),
            Cohort.state.in_(OPEN),
            Tandem.state == TandemState.CONFIRMED,
            withdrawn,
        )
        .order_by(Cohort.name, Cohort.id, Participant.last_name, Participant.first_name)
        .limit(100)
    ).all()
    cohorts: dict[int, tuple[str, list[str]]] = {}
    for cohort_id, cohort_name, first, last in rows:
        cohorts.setdefault(cohort_id, (cohort_name, []))[1].append(f"{first} {last}")
    return [
        Attention(
            msg(
                "{cohort}: no longer enrolled but in a confirmed tandem: {names}; "
                "their partners need a new tandem",
                cohort=name,
                names=names,
            ),
            cohort_id,
            on_tandem_page=True,
        )
        for cohort_id, (name, names) in list(cohorts.items())[:20]
    ]
