"""Cohorts: plan them with the core, store their sessions, keep trainers in
one place at a time, move them through their states.

The use cases (`plan_cohort`, `change_cohort_state`, `reopen_cohort`) take
the actor first, check the policy and the rules, and leave the commit to the
door; the read functions give the pages what they show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.extensions import db
from app.models import (
    AccessToken,
    Change,
    Cohort,
    CohortClosure,
    CohortState,
    CurriculumElement,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    Organisation,
    Role,
    Session,
    SessionStatus,
    TandemState,
    User,
)
from app.models.cohorts import ALLOWED_MOVES, session_trainers
from app.models.tokens import Purpose
from app.services import announcements, history, policy, tandems, tokens, waiting_lists
from app.services.enrolments import enrolled_count
from app.services.errors import DomainError, InvalidInput, NotFound, expect_version
from app.services.policy import Action, Actor
from app.services.text import lines, one_line
from cohorts.calendar import Region, WorkingCalendar
from cohorts.errors import PlanningError, UnknownRegion, UnknownTimezone
from cohorts.scheduling import Note, plan, resolve_timezone
from cohorts.scheduling import Session as PlannedSession
from curricula.messages import Message, msg
from curricula.model import Mode

# Longer reasons belong in a document; the history keeps a sentence or two.
LONGEST_REASON = 500

# How long a cancellation can be taken back: long enough to notice a wrong
# click, short enough that nobody will have acted on the cancellation yet.
UNDO_MINUTES = 30


class TrainerConflict(DomainError):
    """A trainer would be in two overlapping sessions."""

    code = "trainer_conflict"


class StateChangeRefused(DomainError):
    """The cohort cannot move to the state asked for (now)."""

    code = "state_change_refused"


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


@dataclass(frozen=True)
class CohortWish:
    """A new cohort as the form gives it: ids, not records."""

    organisation_id: int
    version_id: int
    name: str
    start: date
    region: str
    timezone: str = "Europe/Berlin"
    delivery: Mode | None = None
    venue: str | None = None
    online_link: str | None = None
    capacity: int | None = None
    trainer_ids: Sequence[int] = ()
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
        name=one_line(data.name, "name"),
        start_date=data.start,
        region=one_line(data.region, "region").upper(),
        timezone=one_line(data.timezone, "timezone"),
        delivery=data.delivery.value if data.delivery else None,
        venue=lines(data.venue, "venue") or None,
        online_link=one_line(data.online_link, "online_link") or None,
        capacity=data.capacity,
        trainers=list(data.trainers),
        closures=[
            CohortClosure(day=d, reason=one_line(r, "closures"))
            for d, r in sorted(data.closures.items())
        ],
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
    """Existing double bookings of these sessions' trainers, by session id
    (five at most each): one statement for all the sessions, as a page
    shows them."""
    mine = {s.id: s for s in sessions if s.id is not None and _may_clash(s)}
    if not mine:
        return {}
    own, own_trainer, other_trainer = (
        aliased(Session),
        session_trainers.alias(),
        session_trainers.alias(),
    )
    pairs = (
        select(
            own.id.label("session_id"),
            other_trainer.c.user_id.label("user_id"),
            other_trainer.c.session_id.label("other_id"),
            func.row_number()
            .over(partition_by=own.id, order_by=(Session.starts_at, Session.id))
            .label("place"),
        )
        .join(own_trainer, own_trainer.c.session_id == own.id)
        .join(other_trainer, other_trainer.c.user_id == own_trainer.c.user_id)
        .join(Session, Session.id == other_trainer.c.session_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(
            own.id.in_(list(mine)),
            Session.id != own.id,
            Session.status == SessionStatus.SCHEDULED,
            Cohort.state != CohortState.CANCELLED,
            Session.starts_at < own.ends_at,
            Session.ends_at > own.starts_at,
        )
        .subquery()
    )
    query = (
        select(Session, pairs.c.session_id, pairs.c.user_id)
        .join(pairs, pairs.c.other_id == Session.id)
        .where(pairs.c.place <= 5)
        .options(joinedload(Session.cohort), joinedload(Session.element))
        .order_by(pairs.c.session_id, pairs.c.place)
    )
    with db.session.no_autoflush:
        rows = db.session.execute(query).all()
    found: dict[int, list[Message]] = {}
    for other, session_id, trainer_id in rows:
        session = mine[session_id]
        names = {t.id: t.name for t in session.trainers}
        found.setdefault(session_id, []).append(_clash(session, names[trainer_id], other))
    return found


def _may_clash(session: Session) -> bool:
    """Whether the session could put a trainer in two places: it has a time,
    trainers, and neither it nor its cohort is cancelled."""
    if session.starts_at is None or session.ends_at is None:
        return False
    if session.status is SessionStatus.CANCELLED or not session.trainers:
        return False
    return session.cohort is None or session.cohort.state is not CohortState.CANCELLED


def _clashes(session: Session, limit: int) -> list[Message]:
    if not _may_clash(session):
        return []
    query = (
        select(Session, session_trainers.c.user_id)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(
            session_trainers.c.user_id.in_([t.id for t in session.trainers]),
            Session.status == SessionStatus.SCHEDULED,
            Cohort.state != CohortState.CANCELLED,
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
    return [_clash(session, names[trainer_id], other) for other, trainer_id in rows]


def _clash(session: Session, trainer: str, other: Session) -> Message:
    return msg(
        "{trainer} would be in two places at once: {session} ({cohort}) and "
        "{other} ({other_cohort}) overlap on {day}",
        trainer=trainer,
        session=session.element.text,
        cohort=session.cohort.name if session.cohort else "",
        other=other.element.text,
        other_cohort=other.cohort.name,
        day=session.first_day,
    )


# --- Reads for the pages ---------------------------------------------------


@dataclass(frozen=True)
class NewCohortChoices:
    organisations: list[Organisation]
    versions: list[CurriculumVersion]
    trainers: list[User]
    default_region: str | None


def new_cohort_choices(actor: Actor) -> NewCohortChoices:
    """What a planner may choose from when planning a cohort."""
    policy.require(actor, Action.PLAN)
    user = actor.user
    organisations = sorted(user.organisations, key=lambda o: o.name) if user else []
    ids = [o.id for o in organisations]
    versions = db.session.scalars(
        select(CurriculumVersion)
        .join(CurriculumVersion.curriculum)
        .where(
            CurriculumVersion.published_at.is_not(None),
            or_(
                CurriculumRecord.organisation_id.is_(None),
                CurriculumRecord.organisation_id.in_(ids),
            ),
        )
        .options(selectinload(CurriculumVersion.curriculum))
        .order_by(CurriculumRecord.organisation_id.is_not(None), CurriculumRecord.key)
    ).all()
    trainers = db.session.scalars(
        select(User)
        .where(User.role == Role.TRAINER, User.active.is_(True))
        .where(User.organisations.any(Organisation.id.in_(ids)))
        .order_by(User.name)
    ).all()
    # The region of the organisation the form offers first.
    default_region = organisations[0].default_region if organisations else None
    return NewCohortChoices(organisations, list(versions), list(trainers), default_region)


@dataclass(frozen=True)
class CohortPage:
    cohort: Cohort
    sessions: list[Session]
    enrolments: list[Enrolment]
    changes: list[Change]
    conflicts: dict[int, list[Message]]
    can_plan: bool
    # Sessions change while the cohort is planned or running.
    can_change_sessions: bool
    can_reopen: bool
    next_states: list[CohortState]
    cohort_feed: AccessToken | None
    tandem_count: int
    # The day of the first scheduled session: the cohort starts no earlier.
    first_day: date | None
    undo: UndoOffer | None
    today: date


def cohort_page(actor: Actor, cohort_id: int, *, now: datetime) -> CohortPage:
    cohort = policy.get(actor, Cohort, cohort_id)
    sessions = db.session.scalars(
        select(Session)
        .where(Session.cohort_id == cohort.id)
        .options(selectinload(Session.trainers), selectinload(Session.element))
        .order_by(Session.first_day, Session.starts_at, Session.id)
    ).all()
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .options(selectinload(Enrolment.participant))
    ).all()
    changes = db.session.scalars(
        select(Change)
        .where(Change.cohort_id == cohort.id)
        .options(selectinload(Change.user))
        .order_by(Change.at.desc())
        .limit(50)
    ).all()
    return CohortPage(
        cohort=cohort,
        sessions=list(sessions),
        enrolments=sorted(enrolments, key=lambda e: e.participant.sort_key),
        changes=list(changes),
        conflicts=trainer_conflicts(sessions),
        can_plan=policy.may(actor, Action.PLAN, cohort.organisation_id),
        can_change_sessions=policy.may(actor, Action.PLAN, cohort.organisation_id)
        and cohort.state in (CohortState.PLANNED, CohortState.RUNNING),
        can_reopen=cohort.state is CohortState.COMPLETED
        and policy.may(actor, Action.REOPEN_COHORT, cohort.organisation_id),
        # Onward moves first, cancelling last.
        next_states=sorted(ALLOWED_MOVES[cohort.state], key=lambda s: s is CohortState.CANCELLED),
        cohort_feed=tokens.current(Purpose.COHORT_FEED, cohort.id),
        tandem_count=len(tandems.tandems(cohort, TandemState.CONFIRMED)),
        first_day=min(
            (s.first_day for s in sessions if s.status is SessionStatus.SCHEDULED), default=None
        ),
        undo=cancellation_undo(cohort, now)
        if policy.may(actor, Action.PLAN, cohort.organisation_id)
        else None,
        today=local_today(cohort, now),
    )


# --- Use cases ---------------------------------------------------------------


def place_problems(region: str, timezone: str) -> list[InvalidInput]:
    """What is wrong with where a cohort takes place, each at its field, so
    that a form can show them with its other problems at once."""
    problems = []
    try:
        Region.parse(region)
    except UnknownRegion as error:
        problems.append(InvalidInput(error.message, code="unknown_region", field="region"))
    try:
        resolve_timezone(timezone.strip())
    except UnknownTimezone as error:
        problems.append(InvalidInput(error.message, code="unknown_timezone", field="timezone"))
    return problems


def curriculum_problem(version_id: int | None, organisation: Organisation) -> InvalidInput | None:
    """What is wrong with planning `organisation`'s cohort on this version:
    none, a standard, or the organisation's own fork, published; at the
    form's field, so that a form can show it with its other problems."""
    version = db.session.get(CurriculumVersion, version_id) if version_id else None
    owner = version.curriculum.organisation_id if version is not None else None
    if version is None or version.published_at is None or owner not in (None, organisation.id):
        return InvalidInput(
            msg(
                "this curriculum is another organisation's own version; choose one of "
                "{organisation} or a standard",
                organisation=organisation.name,
            ),
            code="foreign_curriculum",
            field="version",
        )
    return None


def plan_cohort(actor: Actor, wish: CohortWish) -> tuple[Cohort, tuple[Note, ...]]:
    """Plan a cohort in one of the actor's organisations. A refusal names the
    form field it belongs to."""
    organisation = policy.get(actor, Organisation, wish.organisation_id, "id")
    policy.require(actor, Action.PLAN, organisation.id)
    problems = place_problems(wish.region, wish.timezone)
    if problems:
        raise problems[0]
    refused = curriculum_problem(wish.version_id, organisation)
    if refused is not None:
        raise refused
    version = db.session.get(CurriculumVersion, wish.version_id)
    trainers = [
        t
        for t in db.session.scalars(select(User).where(User.id.in_(list(wish.trainer_ids))))
        if t.role is Role.TRAINER and organisation in t.organisations
    ]
    data = NewCohort(
        organisation=organisation,
        version=version,
        name=wish.name,
        start=wish.start,
        region=wish.region,
        timezone=wish.timezone.strip(),
        delivery=wish.delivery,
        venue=wish.venue,
        online_link=wish.online_link,
        capacity=wish.capacity,
        trainers=trainers,
        closures=wish.closures,
    )
    try:
        cohort, notes = create_cohort(data, actor.user)
    except UnknownRegion as error:
        raise InvalidInput(error.message, code="unknown_region", field="region") from None
    except UnknownTimezone as error:
        raise InvalidInput(error.message, code="unknown_timezone", field="timezone") from None
    except TrainerConflict as error:
        error.field = "trainers"
        raise
    except PlanningError as error:
        raise DomainError(error.message, code="planning_error", field="start") from None
    announcements.new_cohort(cohort)
    return cohort, notes


def change_cohort(
    actor: Actor,
    cohort_id: int,
    *,
    name: str,
    capacity: int | None,
    venue: str | None,
    online_link: str | None,
    version: object,
) -> bool:
    """Change what a cohort is called, how many it takes and where it meets;
    True when anything changed. Its dates, region and curriculum change
    through planning (moves, planning again, moving onto a fork)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    expect_version(cohort, version)
    if cohort.state not in (CohortState.PLANNED, CohortState.RUNNING):
        raise StateChangeRefused(
            msg("a {state} cohort does not change any more", state=msg(cohort.state.value)),
            code="cohort_closed",
        )
    wanted = {
        "name": one_line(name, "name"),
        "capacity": capacity,
        "venue": lines(venue, "venue") or None,
        "online_link": one_line(online_link, "online_link") or None,
    }
    if not wanted["name"]:
        raise InvalidInput(msg("the cohort needs a name"), code="name_missing", field="name")
    enrolled = enrolled_count(cohort)
    if capacity is not None and capacity < enrolled:
        raise InvalidInput(
            msg(
                "{count} people are enrolled; the capacity cannot be less",
                count=enrolled,
            ),
            code="capacity_below_enrolled",
            field="capacity",
        )
    before = {key: getattr(cohort, key) for key in wanted}
    if before == wanted:
        return False
    for key, value in wanted.items():
        setattr(cohort, key, value)
    if (before["venue"], before["online_link"]) != (wanted["venue"], wanted["online_link"]):
        announcements.place_changed(cohort, before["venue"], before["online_link"])
    if before["capacity"] != wanted["capacity"]:
        # Places added go to the waiting list, in this transaction.
        waiting_lists.places_freed(cohort)
    history.record(
        user=actor.user,
        organisation_id=cohort.organisation_id,
        cohort_id=cohort.id,
        subject="cohort",
        subject_id=cohort.id,
        action="changed",
        before={k: v for k, v in before.items() if v != wanted[k]},
        after={k: v for k, v in wanted.items() if v != before[k]},
    )
    return True


def local_today(cohort: Cohort, now: datetime) -> date:
    """Today where the cohort takes place (its sessions' days are local)."""
    return now.astimezone(ZoneInfo(cohort.timezone)).date()


@dataclass(frozen=True)
class StateChangePreview:
    """What a state change would do, for the page that asks to confirm it."""

    cohort: Cohort
    wanted: CohortState
    # The sessions a cancellation cancels (those still to come).
    coming: list[Session]
    enrolled: int
    first_day: date | None
    # A start before the first session: only when confirmed.
    early: bool

    @property
    def needs_confirmation(self) -> bool:
        return self.wanted is CohortState.CANCELLED or self.early


def preview_state_change(
    actor: Actor, cohort_id: int, wanted: CohortState, *, now: datetime
) -> StateChangePreview:
    """What moving the cohort to `wanted` would change; nothing changes. A
    change that would be refused is refused here already."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    _check_move(cohort, wanted)
    today = local_today(cohort, now)
    scheduled = _scheduled(cohort)
    if wanted is CohortState.RUNNING:
        _check_start(cohort, scheduled, today, early=True)
    elif wanted is CohortState.COMPLETED:
        _check_completion(cohort, scheduled, now, today)
    first = min((s.first_day for s in scheduled), default=None)
    return StateChangePreview(
        cohort=cohort,
        wanted=wanted,
        coming=_coming(scheduled, today) if wanted is CohortState.CANCELLED else [],
        enrolled=enrolled_count(cohort),
        first_day=first,
        early=wanted is CohortState.RUNNING and first is not None and today < first,
    )


def change_cohort_state(
    actor: Actor, cohort_id: int, wanted: CohortState, *, now: datetime, early: bool = False
) -> Cohort:
    """Move a cohort on: start it, complete it or cancel it. A start before
    the first session only with `early` (the planner confirmed it)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    _check_move(cohort, wanted)
    before = cohort.state
    today = local_today(cohort, now)
    scheduled = _scheduled(cohort)
    details: dict[str, object] = {}
    if wanted is CohortState.RUNNING:
        _check_start(cohort, scheduled, today, early=early)
        cohort.start()
    elif wanted is CohortState.COMPLETED:
        _check_completion(cohort, scheduled, now, today)
        cohort.complete()
    else:
        cohort.cancel()
        cancelled = _cancel_coming_sessions(scheduled, today)
        details["sessions_cancelled"] = len(cancelled)
        # Which ones, so that taking the cancellation back restores exactly these.
        details["sessions"] = [s.id for s in cancelled]
        announcements.cancelled(cohort, cancelled, "cohort_cancelled")
    _record_state(actor, cohort, before, details)
    return cohort


def _check_move(cohort: Cohort, wanted: CohortState) -> None:
    if not cohort.state.may_become(wanted):
        raise StateChangeRefused(
            msg(
                "a {current} cohort cannot become {wanted}",
                # The names of the states, translated as the pages show them.
                current=msg(cohort.state.value),
                wanted=msg(wanted.value),
            ),
            code="invalid_state_change",
        )


def _scheduled(cohort: Cohort) -> list[Session]:
    return [s for s in cohort.sessions if s.status is SessionStatus.SCHEDULED]


def _check_start(cohort: Cohort, scheduled: list[Session], today: date, *, early: bool) -> None:
    if not scheduled:
        raise StateChangeRefused(
            msg("{cohort} has no scheduled session and cannot start", cohort=cohort.name),
            code="no_sessions",
        )
    first = min(s.first_day for s in scheduled)
    if today < first and not early:
        raise StateChangeRefused(
            msg(
                "{cohort} cannot start before its first session on {day}",
                cohort=cohort.name,
                day=first,
            ),
            code="starts_later",
        )


def _check_completion(
    cohort: Cohort, scheduled: list[Session], now: datetime, today: date
) -> None:
    still_to_end = [s for s in scheduled if not _has_ended(s, now, today)]
    if still_to_end:
        last = max(still_to_end, key=lambda s: (s.last_day, s.ends_at or now))
        raise StateChangeRefused(
            msg(
                "{cohort} cannot be completed before its last session has ended: "
                "{session} on {day}",
                cohort=cohort.name,
                session=last.element.text,
                day=last.last_day,
            ),
            code="not_over_yet",
        )


def _has_ended(session: Session, now: datetime, today: date) -> bool:
    if session.ends_at is not None:
        return session.ends_at <= now
    return session.last_day < today


def _coming(scheduled: list[Session], today: date) -> list[Session]:
    return [s for s in scheduled if s.last_day >= today]


def _cancel_coming_sessions(scheduled: list[Session], today: date) -> list[Session]:
    """Cancel what has not taken place yet, so that calendars show it
    cancelled and trainers are free again; sessions already over stay as
    they were (they took place, and their attendance stays evidence)."""
    coming = _coming(scheduled, today)
    for session in coming:
        session.status = SessionStatus.CANCELLED
        session.revision += 1
    return coming


@dataclass(frozen=True)
class UndoOffer:
    """A cancellation that can still be taken back, until `until`."""

    change: Change
    until: datetime
    sessions: int


def cancellation_undo(cohort: Cohort, now: datetime) -> UndoOffer | None:
    """The cohort's cancellation, while taking it back is safe: it is the
    last thing recorded of the cohort (nobody enrolled, withdrew or changed
    anything since) and less than UNDO_MINUTES old."""
    if cohort.state is not CohortState.CANCELLED:
        return None
    last = db.session.scalar(
        select(Change)
        .where(Change.cohort_id == cohort.id)
        .order_by(Change.at.desc(), Change.id.desc())
        .limit(1)
    )
    after = (last.after or {}) if last is not None else {}
    if last is None or last.action != "state" or after.get("state") != "cancelled":
        return None
    # Cancelled before the cancelled sessions were recorded: unknown which.
    if not isinstance(after.get("sessions"), list):
        return None
    until = last.at + timedelta(minutes=UNDO_MINUTES)
    if now >= until:
        return None
    return UndoOffer(last, until, len(after["sessions"]))


def undo_cancellation(actor: Actor, cohort_id: int, *, version: object, now: datetime) -> Cohort:
    """Take a cancellation back: the cohort is in its state before, and the
    sessions that cancellation cancelled take place again (with a higher
    revision, so that calendars show them again)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    expect_version(cohort, version)
    offer = cancellation_undo(cohort, now)
    if offer is None:
        raise StateChangeRefused(
            msg(
                "the cancellation of {cohort} can no longer be taken back: it is more than "
                "{minutes} minutes ago or something else happened since",
                cohort=cohort.name,
                minutes=UNDO_MINUTES,
            ),
            code="undo_expired",
        )
    ids = set(offer.change.after["sessions"])
    cohort.take_back_cancellation(CohortState(offer.change.before["state"]))
    restored = [s for s in cohort.sessions if s.id in ids and s.status is SessionStatus.CANCELLED]
    for session in restored:
        session.status = SessionStatus.SCHEDULED
        session.revision += 1
    # A trainer may have been booked elsewhere at that time meanwhile.
    check_trainers(restored)
    announcements.restored(cohort, restored)
    _record_state(
        actor, cohort, CohortState.CANCELLED, {"sessions_restored": len(restored), "undone": True}
    )
    return cohort


def reopen_cohort(actor: Actor, cohort_id: int, reason: str) -> Cohort:
    """A completed cohort runs again so that its attendance can be corrected:
    an administrator's decision, with the reason kept in its history."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.REOPEN_COHORT, cohort.organisation_id)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(
            msg("say why the cohort is reopened"), code="reason_missing", field="reason"
        )
    if len(reason) > LONGEST_REASON:
        raise InvalidInput(
            msg("the reason is longer than {limit} characters", limit=LONGEST_REASON),
            code="reason_too_long",
            field="reason",
        )
    if cohort.state is not CohortState.COMPLETED:
        raise StateChangeRefused(
            msg("only a completed cohort can be reopened"), code="not_completed"
        )
    before = cohort.state
    cohort.reopen()
    _record_state(actor, cohort, before, {"reason": reason})
    return cohort


def _record_state(
    actor: Actor, cohort: Cohort, before: CohortState, details: Mapping[str, object]
) -> None:
    history.record(
        user=actor.user,
        organisation_id=cohort.organisation_id,
        cohort_id=cohort.id,
        subject="cohort",
        subject_id=cohort.id,
        action="state",
        before={"state": before.value},
        after={"state": cohort.state.value, **details},
    )


def cohort_to_change(actor: Actor, cohort_id: int) -> Cohort:
    """A cohort the actor may plan, else NotFound or NotPermitted."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    return cohort


def cohort_of(actor: Actor, cohort_id: int) -> Cohort:
    """A cohort the actor may see, else NotFound."""
    return policy.get(actor, Cohort, cohort_id)


def cohort_session(actor: Actor, cohort_id: int, session_id: int) -> Session:
    """A session of a cohort the actor may see, else NotFound."""
    cohort = policy.get(actor, Cohort, cohort_id)
    session = db.session.get(Session, session_id)
    if session is None or session.cohort_id != cohort.id:
        raise NotFound()
    return session
