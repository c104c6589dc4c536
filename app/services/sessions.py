"""Changing sessions: move one (what depends on it follows; pinned and past
sessions stay unless asked), re-plan a cohort from a new start, change a
session's venue, link or trainers, or cancel it.

Every change raises the session's revision when its time, status, venue,
link or trainers change (calendars and invitations use it as SEQUENCE), is
recorded with before and after, and tells the people it concerns
(app.services.announcements). A
change that would break a rule raises and leaves everything as it was; the
door commits only on success.

The use cases (`move`, `preview_move`, `replan`, `cancel`, `restore`,
`set_details`) take the actor first and check the policy; the steps they
share (`move_session`, `cancel_session`, ...) hold the rules and work on a
session already loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AttendanceRecord,
    Cohort,
    CohortState,
    CurriculumRecord,
    CurriculumVersion,
    Organisation,
    Role,
    Session,
    SessionStatus,
    User,
)
from app.services import announcements, history, policy
from app.services.cohorts import (
    check_trainers,
    cohort_session,
    local_today,
    working_calendar,
)
from app.services.curricula import Rescheduled, latest_published, may_follow, move_to_version
from app.services.enrolments import enrolled_count
from app.services.errors import DomainError, InvalidInput, NotFound, StaleEdit, expect_version
from app.services.policy import Action, Actor
from app.services.text import lines, one_line
from cohorts.errors import PlanningError
from cohorts.scheduling import Note, followers, plan, tied_earlier
from cohorts.scheduling import Session as PlannedSession
from curricula.messages import Message, msg
from curricula.model import Mode, Text


class SessionChangeRefused(DomainError):
    """A change a session cannot have: a day it cannot be on, or a cohort closed."""

    code = "session_change_refused"


@dataclass(frozen=True)
class Moved:
    session: Session
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def day_before(self) -> date:
        return date.fromisoformat(self.before["first_day"])

    @property
    def day_after(self) -> date:
        return date.fromisoformat(self.after["first_day"])


@dataclass(frozen=True)
class MoveWish:
    """What the planner asks for: the new day (and start time), and what may
    move along with the session."""

    day: date
    start_time: time | None = None
    pin: bool = True
    # Also the earlier sessions a rule ties to this one (seminar day 1 when
    # day 2 moves, the practice day when a checkpoint leaves its gap).
    earlier: bool = False
    # Also pinned sessions that would have to move.
    pinned_too: bool = False
    # The session took place on that (past) day: recorded, not planned.
    held: bool = False


# --- Use cases ---------------------------------------------------------------


def planned_session(actor: Actor, cohort_id: int, session_id: int) -> Session:
    """A session the actor may change."""
    session = cohort_session(actor, cohort_id, session_id)
    policy.require(actor, Action.PLAN, session.cohort.organisation_id)
    return session


def trainer_choices(session: Session) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.TRAINER, User.active.is_(True))
            .where(User.organisations.any(Organisation.id == session.cohort.organisation_id))
            .order_by(User.name)
        )
    )


def move(
    actor: Actor,
    cohort_id: int,
    session_id: int,
    wish: MoveWish,
    *,
    version: object,
    now: datetime,
) -> list[Moved]:
    session = planned_session(actor, cohort_id, session_id)
    if wish.held:
        # Recording when a session really took place is recording attendance.
        policy.require(actor, Action.TAKE_ATTENDANCE, session.cohort.organisation_id)
    expect_version(session, version)
    return move_session(
        session,
        wish.day,
        wish.start_time,
        pin=wish.pin,
        actor=actor.user,
        today=local_today(session.cohort, now),
        expected_version=session.lock_version,
        earlier=wish.earlier,
        pinned_too=wish.pinned_too,
        held=wish.held,
    )


@dataclass(frozen=True)
class Remedy:
    """A way out of a refused move: the same move with more moving along."""

    wish: MoveWish
    moved: list[Moved]


@dataclass(frozen=True)
class MovePreview:
    wish: MoveWish
    moved: list[Moved]
    problem: Message | None
    code: str | None
    remedies: list[Remedy]


def preview_move(
    actor: Actor, cohort_id: int, session_id: int, wish: MoveWish, *, now: datetime
) -> MovePreview:
    """What a move would change, without changing anything; when it would be
    refused, the reason and the wider moves that would work."""
    session = planned_session(actor, cohort_id, session_id)
    today = local_today(session.cohort, now)
    moved, problem = _try(session, wish, today)
    if problem is None:
        return MovePreview(wish, moved, None, None, [])
    remedies = []
    if isinstance(problem, PlanningError):
        for wider in _wider(wish):
            tried, refused = _try(session, wider, today)
            if refused is None:
                remedies.append(Remedy(wider, tried))
                break
    return MovePreview(wish, [], problem.message, _code(problem), remedies)


def _wider(wish: MoveWish) -> list[MoveWish]:
    """The same move with more moving along, the smallest widening first."""
    asked = (wish.earlier, wish.pinned_too)
    wider = dict.fromkeys(((True, wish.pinned_too), (wish.earlier, True), (True, True)))
    return [replace(wish, earlier=e, pinned_too=p) for e, p in wider if (e, p) != asked]


def _code(error: Exception) -> str:
    return error.code if isinstance(error, DomainError) else "planning_error"


def _try(
    session: Session, wish: MoveWish, today: date
) -> tuple[list[Moved], DomainError | PlanningError | None]:
    """The move inside a savepoint that is always rolled back."""
    nested = db.session.begin_nested()
    try:
        moved = move_session(
            session,
            wish.day,
            wish.start_time,
            pin=wish.pin,
            actor=None,
            today=today,
            expected_version=session.lock_version,
            earlier=wish.earlier,
            pinned_too=wish.pinned_too,
            held=wish.held,
        )
        # Plain copies: the rollback expires the sessions themselves.
        result = [Moved(m.session, dict(m.before), dict(m.after)) for m in moved]
        return result, None
    except (DomainError, PlanningError) as error:
        return [], error
    finally:
        nested.rollback()


def replan(
    actor: Actor, cohort_id: int, start: date, *, version: object, now: datetime
) -> tuple[list[Moved], tuple[Note, ...]]:
    """Plan a planned cohort again from a new start, as if new: every session
    moves, pins are dropped. The way out when single moves cannot get the
    schedule right."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    expect_version(cohort, version)
    if cohort.state is not CohortState.PLANNED:
        raise SessionChangeRefused(
            msg(
                "only a planned cohort can be planned again from a new start; "
                "move the sessions still to come instead"
            ),
            code="replan_not_planned",
        )
    today = local_today(cohort, now)
    if start < today:
        raise SessionChangeRefused(
            msg("the new start {day} is over; choose a day still to come", day=start),
            code="start_over",
        )
    ids = [s.id for s in cohort.sessions]
    if ids and db.session.scalar(
        select(func.count(AttendanceRecord.id)).where(AttendanceRecord.session_id.in_(ids))
    ):
        raise SessionChangeRefused(
            msg(
                "attendance is recorded for sessions of {cohort}, so they took place; "
                "move the sessions still to come instead",
                cohort=cohort.name,
            ),
            code="attendance_recorded",
        )
    schedule = plan(
        cohort.version.model,
        start,
        working_calendar(cohort),
        tz=cohort.timezone,
        delivery=Mode(cohort.delivery) if cohort.delivery else None,
    )
    by_key = {s.element.key: s for s in cohort.sessions}
    moved = []
    for planned in schedule.sessions:
        target = by_key.get(planned.element)
        if target is None:
            continue
        target.pinned = False
        change = _apply(target, planned, target.starts_at, target.ends_at, use_plan=True)
        if change is not None:
            moved.append(change)
    cohort.start_date = schedule.first_day
    check_trainers([m.session for m in moved])
    _record_moves(cohort, actor.user, moved)
    announcements.moved(cohort, [(m.session, m.before) for m in moved])
    return moved, schedule.notes


@dataclass(frozen=True)
class CancelPreview:
    """What cancelling a session does, for the page that asks to confirm it."""

    session: Session
    enrolled: int
    # Attendance already recorded for it stays, but the session no longer counts.
    marks: int


def preview_cancel(actor: Actor, cohort_id: int, session_id: int) -> CancelPreview:
    session = planned_session(actor, cohort_id, session_id)
    _check_open(session)
    if session.status is SessionStatus.CANCELLED:
        raise SessionChangeRefused(
            msg("{session} is already cancelled", session=session.element.text),
            code="already_cancelled",
        )
    marks = db.session.scalar(
        select(func.count(AttendanceRecord.id)).where(AttendanceRecord.session_id == session.id)
    )
    return CancelPreview(session, enrolled_count(session.cohort), marks or 0)


@dataclass(frozen=True)
class ReplanPreview:
    """What planning again from `start` would change; nothing is saved."""

    cohort: Cohort
    start: date
    moved: list[Moved]
    notes: tuple[Note, ...]
    # Pinned sessions lose their pin.
    unpinned: int


def preview_replan(
    actor: Actor, cohort_id: int, start: date, *, version: object, now: datetime
) -> ReplanPreview:
    """The re-plan tried inside a savepoint that is always rolled back; a
    refusal is raised as the re-plan itself would raise it."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    unpinned = sum(1 for s in cohort.sessions if s.pinned)
    nested = db.session.begin_nested()
    try:
        moved, notes = replan(actor, cohort_id, start, version=version, now=now)
        # Plain copies: the rollback expires the sessions themselves.
        copies = [Moved(m.session, dict(m.before), dict(m.after)) for m in moved]
    finally:
        nested.rollback()
    return ReplanPreview(cohort, start, copies, notes, unpinned)


def cancel(actor: Actor, cohort_id: int, session_id: int, *, version: object) -> None:
    session = planned_session(actor, cohort_id, session_id)
    expect_version(session, version)
    cancel_session(session, actor=actor.user, expected_version=session.lock_version)


def restore(actor: Actor, cohort_id: int, session_id: int, *, version: object) -> None:
    session = planned_session(actor, cohort_id, session_id)
    expect_version(session, version)
    restore_session(session, actor=actor.user, expected_version=session.lock_version)


def set_details(
    actor: Actor,
    cohort_id: int,
    session_id: int,
    *,
    venue: str | None,
    online_link: str | None,
    trainer_ids: Sequence[int],
    version: object,
) -> bool:
    session = planned_session(actor, cohort_id, session_id)
    expect_version(session, version)
    allowed = {t.id: t for t in trainer_choices(session)}
    return change_details(
        session,
        venue=venue,
        online_link=online_link,
        trainers=[allowed[i] for i in trainer_ids if i in allowed],
        actor=actor.user,
        expected_version=session.lock_version,
    )


# --- Steps on a loaded session -------------------------------------------------


def move_session(
    session: Session,
    day: date,
    start_time: time | None,
    *,
    pin: bool,
    actor: User | None,
    today: date,
    expected_version: object,
    earlier: bool = False,
    pinned_too: bool = False,
    held: bool = False,
) -> list[Moved]:
    """Move `session` to `day` (and `start_time`), re-plan what follows it and
    return every session whose dates changed.

    Every rule of the curriculum holds in both directions, also towards the
    sessions before this one; with `earlier` those a rule ties to it move
    along, with `pinned_too` also pinned ones. Sessions that are over stay
    (they took place). No session is planned onto a day that is over, except
    this one when it is recorded as `held` there.
    """
    expect_version(session, expected_version)
    _check_open(session)
    cohort = session.cohort
    curriculum = cohort.version.model
    key = session.element.key
    _check_day(session, day, today, held)
    by_key = {s.element.key: s for s in cohort.sessions}
    others = {k: s for k, s in by_key.items() if k != key}
    stuck = {k for k, s in others.items() if s.last_day < today}
    if not pinned_too:
        stuck |= {k for k, s in others.items() if s.pinned}
    calendar = working_calendar(cohort)
    pulled: dict[str, date] = {}
    if earlier:
        spans = {k: (s.first_day, s.last_day) for k, s in by_key.items()}
        pulled = tied_earlier(curriculum, calendar, spans, key, day, set(others) - stuck)
    moving = {key, *pulled}
    following: set[str] = set()
    for moving_key in moving:
        following |= followers(curriculum, moving_key)
    following -= moving
    fixed = {
        other_key: other.first_day
        for other_key, other in others.items()
        if other_key not in moving and (other_key in stuck or other_key not in following)
    }
    fixed.update(pulled)
    fixed[key] = day
    schedule = plan(
        curriculum,
        cohort.start_date,
        calendar,
        tz=cohort.timezone,
        delivery=Mode(cohort.delivery) if cohort.delivery else None,
        fixed=fixed,
    )
    zone = ZoneInfo(cohort.timezone)
    moved: list[Moved] = []
    for planned in schedule.sessions:
        target = by_key.get(planned.element)
        if target is None or (planned.element in fixed and planned.element not in moving):
            continue  # stays exactly as it is, also a time set by hand
        if target is not session and planned.first_day < today:
            raise SessionChangeRefused(
                msg(
                    "{other} would have to move to {day}, which is over; "
                    "a move may only plan days still to come",
                    other=target.element.text,
                    day=planned.first_day,
                ),
                code="day_over",
            )
        starts_at, ends_at = target.starts_at, target.ends_at
        if (
            target is session
            and start_time is not None
            and isinstance(planned.start, datetime)
            and target.starts_at
            and target.ends_at
        ):
            duration = target.ends_at - target.starts_at
            starts_at = datetime.combine(day, start_time, tzinfo=zone)
            ends_at = starts_at + duration
            change = _apply(target, planned, starts_at, ends_at, use_plan=False)
        else:
            change = _apply(target, planned, starts_at, ends_at, use_plan=True)
        if change is not None:
            moved.append(change)
    if session.pinned != pin:
        session.pinned = pin
    # The cohort starts when its first session does.
    cohort.start_date = schedule.first_day
    check_trainers([m.session for m in moved])
    _record_moves(cohort, actor, moved)
    announcements.moved(cohort, [(m.session, m.before) for m in moved])
    return moved


def _check_open(session: Session) -> None:
    """Sessions of a completed or cancelled cohort are its record: they no
    longer change (reopening a completed cohort lets them change again)."""
    state = session.cohort.state
    if state not in (CohortState.PLANNED, CohortState.RUNNING):
        raise SessionChangeRefused(
            msg(
                "the sessions of a {state} cohort do not change any more",
                state=msg(state.value),
            ),
            code="cohort_closed",
        )


def _check_day(session: Session, day: date, today: date, held: bool) -> None:
    if held and day > today:
        raise InvalidInput(
            msg(
                "{session} cannot have taken place on {day}, which is still to come",
                session=session.element.text,
                day=day,
            ),
            code="held_in_future",
            field="day",
        )
    if day < today and not held:
        raise SessionChangeRefused(
            msg(
                "{session} cannot move to {day}: that day is over; only the day a session "
                "really took place may be recorded in the past",
                session=session.element.text,
                day=day,
            ),
            code="day_over",
            field="day",
        )


def _apply(
    target: Session,
    planned: PlannedSession,
    starts_at: datetime | None,
    ends_at: datetime | None,
    *,
    use_plan: bool,
) -> Moved | None:
    """Give `target` the planned days (and times); the change, or None."""
    if use_plan and isinstance(planned.start, datetime) and isinstance(planned.end, datetime):
        starts_at, ends_at = planned.start, planned.end
    if (target.first_day, target.last_day, target.starts_at, target.ends_at) == (
        planned.first_day,
        planned.last_day,
        starts_at,
        ends_at,
    ):
        return None
    before = snapshot(target)
    target.first_day, target.last_day = planned.first_day, planned.last_day
    target.starts_at, target.ends_at = starts_at, ends_at
    target.revision += 1
    return Moved(target, before, snapshot(target))


def _record_moves(cohort: Cohort, actor: User | None, moved: list[Moved]) -> None:
    for change in moved:
        history.record(
            user=actor,
            organisation_id=cohort.organisation_id,
            cohort_id=cohort.id,
            subject="session",
            subject_id=change.session.id,
            action="moved",
            before=change.before,
            after=change.after,
        )


def cancel_session(session: Session, *, actor: User | None, expected_version: object) -> None:
    expect_version(session, expected_version)
    _check_open(session)
    if session.status is SessionStatus.CANCELLED:
        return
    before = snapshot(session)
    session.status = SessionStatus.CANCELLED
    session.revision += 1
    _record(session, actor, "cancelled", before)
    announcements.cancelled(session.cohort, [session])


def restore_session(session: Session, *, actor: User | None, expected_version: object) -> None:
    expect_version(session, expected_version)
    _check_open(session)
    if session.status is SessionStatus.SCHEDULED:
        return
    before = snapshot(session)
    session.status = SessionStatus.SCHEDULED
    session.revision += 1
    check_trainers([session])
    _record(session, actor, "restored", before)
    announcements.restored(session.cohort, [session])


def change_details(
    session: Session,
    *,
    venue: str | None,
    online_link: str | None,
    trainers: list[User],
    actor: User | None,
    expected_version: object,
) -> bool:
    """Set venue, link and trainers; True when anything changed."""
    expect_version(session, expected_version)
    _check_open(session)
    before = snapshot(session)
    trainers_before = list(session.trainers)
    session.venue = lines(venue, "venue", msg("venue of the session")) or None
    session.online_link = one_line(online_link, "online_link", msg("online link")) or None
    session.trainers = list(trainers)
    after = snapshot(session)
    if after == before:
        return False
    # Trainers live in another table; touching the session makes calendars
    # (and their fingerprints) see the change. A new revision, so that the
    # invitations saying the new venue or trainers replace the earlier ones.
    session.updated_at = datetime.now(UTC)
    session.revision += 1
    check_trainers([session])
    _record(session, actor, "details", before)
    announcements.details_changed(
        session,
        before,
        added=[t for t in session.trainers if t not in trainers_before],
        removed=[t for t in trainers_before if t not in session.trainers],
    )
    return True


def snapshot(session: Session) -> dict[str, Any]:
    return {
        "title": {"de": session.element.title_de, "en": session.element.title_en},
        "first_day": session.first_day.isoformat(),
        "last_day": session.last_day.isoformat(),
        "starts_at": session.starts_at.isoformat() if session.starts_at else None,
        "ends_at": session.ends_at.isoformat() if session.ends_at else None,
        "status": session.status.value,
        "venue": session.venue,
        "online_link": session.online_link,
        "trainers": sorted(t.name for t in session.trainers),
    }


def _record(session: Session, actor: User | None, action: str, before: dict[str, Any]) -> None:
    history.record(
        user=actor,
        organisation_id=session.cohort.organisation_id,
        cohort_id=session.cohort_id,
        subject="session",
        subject_id=session.id,
        action=action,
        before=before,
        after=snapshot(session),
    )


# --- Onto the organisation's own version of the curriculum ---------------------


@dataclass(frozen=True)
class ForkMove:
    """A planned cohort's sessions on a fork of its curriculum: how they would
    be (a preview) or how they are now (after the move)."""

    cohort: Cohort
    version: CurriculumVersion
    rows: list[Rescheduled]
    # The cohort follows the fork already (a page asked for again after the move).
    already: bool = False


def fork_targets(actor: Actor, cohort: Cohort) -> list[CurriculumVersion]:
    """The newest published version of each of the organisation's forks of
    the cohort's curriculum, while the cohort is planned and the actor plans it."""
    if cohort.state is not CohortState.PLANNED or not policy.may(
        actor, Action.PLAN, cohort.organisation_id
    ):
        return []
    forks = db.session.scalars(
        select(CurriculumRecord)
        .where(
            CurriculumRecord.upstream_id == cohort.version.curriculum_id,
            CurriculumRecord.organisation_id == cohort.organisation_id,
        )
        .order_by(CurriculumRecord.id)
    )
    found = []
    for record in forks:
        newest = latest_published(record)
        if newest is not None and may_follow(cohort, newest):
            found.append(newest)
    return found


def preview_fork_move(
    actor: Actor, cohort_id: int, curriculum_id: int, *, now: datetime, language: str
) -> ForkMove:
    """How the cohort's dates would look on the fork's newest version;
    nothing changes."""
    return _fork_move(actor, cohort_id, curriculum_id, now=now, language=language, save=None)


def move_to_fork(
    actor: Actor,
    cohort_id: int,
    curriculum_id: int,
    *,
    expected_version: object,
    expected_target: object,
    now: datetime,
    language: str,
) -> ForkMove:
    """Move the cohort onto the fork as previewed. Sessions of elements the
    fork has too stay the same sessions (their calendar UID, attendance and
    history), enrolments stay; a cohort changed since the preview is refused."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    expect_version(cohort, expected_version)
    return _fork_move(
        actor, cohort_id, curriculum_id, now=now, language=language, save=str(expected_target)
    )


def _fork_move(
    actor: Actor,
    cohort_id: int,
    curriculum_id: int,
    *,
    now: datetime,
    language: str,
    save: str | None,
) -> ForkMove:
    """The move onto the fork's newest version; saved when `save` names
    that version (the one the preview showed), else only previewed."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    record = db.session.get(CurriculumRecord, curriculum_id)
    if (
        record is not None
        and record.id == cohort.version.curriculum_id
        and record.upstream_id is not None
        and record.organisation_id == cohort.organisation_id
    ):
        if save is not None:
            raise SessionChangeRefused(
                msg(
                    "{cohort} follows {curriculum} already",
                    cohort=cohort.name,
                    curriculum=_title(cohort.version),
                ),
                code="already_on_fork",
            )
        return ForkMove(cohort, cohort.version, [], already=True)
    targets = {v.curriculum_id: v for v in fork_targets(actor, cohort)}
    version = targets.get(curriculum_id)
    if version is None:
        mine = (
            record is not None
            and record.organisation_id == cohort.organisation_id
            and record.upstream_id == cohort.version.curriculum_id
        )
        if mine and cohort.state is not CohortState.PLANNED:
            raise SessionChangeRefused(
                msg("only a planned cohort can move to another version"),
                code="cohort_not_planned",
            )
        raise NotFound()
    if save is not None and save != str(version.id):
        raise StaleEdit(
            msg("a newer version of {curriculum} was published since", curriculum=_title(version))
        )
    today = local_today(cohort, now)
    _check_fit(cohort, version, today)
    earlier = announcements.versions_before(cohort) if save is not None else {}
    try:
        rows = move_to_version(
            cohort,
            version,
            actor.user,
            today=today,
            save_changes=save is not None,
            language=language,
        )
    except PlanningError as error:
        raise SessionChangeRefused(
            msg(
                "the sessions of {cohort} do not fit {curriculum}: {reason}",
                cohort=cohort.name,
                curriculum=_title(version),
                reason=error.message,
            ),
            code="fork_does_not_fit",
        ) from None
    if save is not None:
        announcements.reshaped(cohort, earlier)
    return ForkMove(cohort, version, rows)


def _check_fit(cohort: Cohort, version: CurriculumVersion, today: date) -> None:
    """A session that took place, or has attendance, needs its element in
    the fork: otherwise the move would cancel what happened."""
    keys = {e.key for e in version.model.elements}
    ids = [s.id for s in cohort.sessions]
    attended = (
        set(
            db.session.scalars(
                select(AttendanceRecord.session_id)
                .where(AttendanceRecord.session_id.in_(ids))
                .distinct()
            )
        )
        if ids
        else set()
    )
    for session in cohort.sessions:
        if session.status is not SessionStatus.SCHEDULED or session.element.key in keys:
            continue
        if session.id in attended or session.last_day < today:
            raise SessionChangeRefused(
                msg(
                    "{session} took place or has attendance recorded, and {curriculum} "
                    "has no such element; the cohort cannot move onto it",
                    session=session.element.text,
                    curriculum=_title(version),
                ),
                code="fork_does_not_fit",
            )


def _title(version: CurriculumVersion) -> Text:
    return Text(version.curriculum.title_de, version.curriculum.title_en)
