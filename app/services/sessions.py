"""Changing one session: move it (what depends on it follows; pinned and past
sessions stay), change its venue, link or trainers, or cancel it.

Every change raises the session's revision when its time or status changes
(calendars use it as SEQUENCE) and is recorded with before and after. A
change that would break a rule raises and leaves everything as it was; the
caller commits only on success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from app.models import Session, SessionStatus, User
from app.services import history
from app.services.cohorts import check_trainers, working_calendar
from cohorts.scheduling import plan
from curricula.messages import Message, msg
from curricula.model import Curriculum, Mode


class ConcurrentEdit(Exception):
    """Someone else changed the session since the form was loaded."""

    def __init__(self) -> None:
        self.message: Message = msg(
            "someone else changed this session in the meantime; "
            "the page now shows the current state, please check and try again"
        )
        super().__init__(str(self.message))


@dataclass(frozen=True)
class Moved:
    session: Session
    before: dict[str, Any]
    after: dict[str, Any]


def followers(curriculum: Curriculum, key: str) -> set[str]:
    """Keys of the elements placed, directly or not, after element `key`."""
    found: set[str] = set()
    frontier = {key}
    while frontier:
        frontier = {
            e.key
            for e in curriculum.elements
            if e.placement.after in frontier and e.key not in found
        }
        found |= frontier
    return found


def move_session(
    session: Session,
    day: date,
    start_time: time | None,
    *,
    pin: bool,
    actor: User | None,
    today: date,
    expected_version: int,
) -> list[Moved]:
    """Move `session` to `day` (and `start_time`), re-plan what follows it and
    return every session whose dates changed."""
    _check_version(session, expected_version)
    cohort = session.cohort
    curriculum = cohort.version.model
    key = session.element.key
    by_key = {s.element.key: s for s in cohort.sessions}
    following = followers(curriculum, key)
    fixed = {
        other_key: other.first_day
        for other_key, other in by_key.items()
        if other_key != key
        and (other.pinned or other.last_day < today or other_key not in following)
    }
    fixed[key] = day
    schedule = plan(
        curriculum,
        cohort.start_date,
        working_calendar(cohort),
        tz=cohort.timezone,
        delivery=Mode(cohort.delivery) if cohort.delivery else None,
        fixed=fixed,
    )
    zone = ZoneInfo(cohort.timezone)
    moved: list[Moved] = []
    for planned in schedule.sessions:
        target = by_key[planned.element]
        if planned.element in fixed and target is not session:
            continue  # stays exactly as it is, also a time set by hand
        starts_at, ends_at = target.starts_at, target.ends_at
        if isinstance(planned.start, datetime) and isinstance(planned.end, datetime):
            starts_at, ends_at = planned.start, planned.end
            if (
                target is session
                and start_time is not None
                and target.starts_at
                and target.ends_at
            ):
                duration = target.ends_at - target.starts_at
                starts_at = datetime.combine(day, start_time, tzinfo=zone)
                ends_at = starts_at + duration
        before = snapshot(target)
        if (target.first_day, target.last_day, target.starts_at, target.ends_at) == (
            planned.first_day,
            planned.last_day,
            starts_at,
            ends_at,
        ):
            continue
        target.first_day, target.last_day = planned.first_day, planned.last_day
        target.starts_at, target.ends_at = starts_at, ends_at
        target.revision += 1
        moved.append(Moved(target, before, snapshot(target)))
    if session.pinned != pin:
        session.pinned = pin
    check_trainers([m.session for m in moved])
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
    return moved


def cancel_session(session: Session, *, actor: User | None, expected_version: int) -> None:
    _check_version(session, expected_version)
    if session.status is SessionStatus.CANCELLED:
        return
    before = snapshot(session)
    session.status = SessionStatus.CANCELLED
    session.revision += 1
    _record(session, actor, "cancelled", before)


def restore_session(session: Session, *, actor: User | None, expected_version: int) -> None:
    _check_version(session, expected_version)
    if session.status is SessionStatus.SCHEDULED:
        return
    before = snapshot(session)
    session.status = SessionStatus.SCHEDULED
    session.revision += 1
    check_trainers([session])
    _record(session, actor, "restored", before)


def change_details(
    session: Session,
    *,
    venue: str | None,
    online_link: str | None,
    trainers: list[User],
    actor: User | None,
    expected_version: int,
) -> bool:
    """Set venue, link and trainers; True when anything changed."""
    _check_version(session, expected_version)
    before = snapshot(session)
    session.venue = venue or None
    session.online_link = online_link or None
    session.trainers = list(trainers)
    after = snapshot(session)
    if after == before:
        return False
    # Trainers live in another table; touching the session makes calendars
    # (and their fingerprints) see the change.
    session.updated_at = datetime.now(UTC)
    check_trainers([session])
    _record(session, actor, "details", before)
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


def _check_version(session: Session, expected_version: int) -> None:
    if session.lock_version != expected_version:
        raise ConcurrentEdit()


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
