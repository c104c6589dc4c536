"""The trainers' weekly digest: on Monday morning each trainer who wants it
(`User.digest`) gets their sessions of the next two weeks and what needs
them in the cohorts they train:

- a session of the next eight weeks without a trainer,
- a session of the last eight weeks they trained whose attendance is not
  taken for everyone (self-study phases are marked by the participants),
- a confirmed tandem that lost someone (withdrawn from the cohort).

Someone with none of these gets nothing that week. One digest per person
and ISO week (in Europe/Berlin): the key makes a second run, or a second
worker, record nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.exports.descriptions import shown_place
from app.extensions import db
from app.models import (
    AttendanceRecord,
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Session,
    SessionStatus,
    Tandem,
    TandemState,
    User,
)
from app.models.cohorts import cohort_trainers, session_trainers
from app.public_url import external_url
from app.services import notifications
from app.services.tandems import withdrawn_members
from cohorts.eligibility import Mark
from curricula.model import Mode

KIND = "digest"
ZONE = ZoneInfo("Europe/Berlin")
# The sessions it lists, and how far it looks for what needs the trainer.
AHEAD = timedelta(days=14)
UNSTAFFED_AHEAD = timedelta(days=56)
ATTENDANCE_BEHIND = timedelta(days=56)
ACTIVE_COHORTS = (CohortState.PLANNED, CohortState.RUNNING)


def iso_week(now: datetime) -> str:
    year, week, _ = now.astimezone(ZONE).isocalendar()
    return f"{year}-W{week:02d}"


def record_week(now: datetime) -> int:
    """Records this week's digest of every trainer who has something in it;
    returns how many were recorded (none the second time)."""
    week = iso_week(now)
    recorded = 0
    for user in _readers():
        content = digest_of(user, now)
        if content is None:
            continue
        try:
            with db.session.begin_nested():
                made = notifications.record(
                    kind=KIND,
                    key=f"{KIND}:{user.id}:{week}",
                    address=user.email,
                    name=user.name,
                    language=user.language or "de",
                    organisation_id=content.pop("organisation_id"),
                    user_id=user.id,
                    payload=content,
                )
                db.session.flush()
        except IntegrityError:  # another worker recorded it at the same moment
            continue
        recorded += made is not None
    return recorded


def _readers() -> list[User]:
    """Active accounts that want the digest and train a cohort or a session."""
    trains = or_(
        exists().where(cohort_trainers.c.user_id == User.id),
        exists().where(session_trainers.c.user_id == User.id),
    )
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.digest.is_(True), User.email != "", trains)
            .options(selectinload(User.organisations))
            .order_by(User.id)
        )
    )


def digest_of(user: User, now: datetime) -> dict[str, Any] | None:
    """The digest's payload for `user` this week, or None when it would be
    empty. Every date and time is shown in its cohort's time zone."""
    today = now.astimezone(ZONE).date()
    theirs = _their_sessions(user, today, today + AHEAD - timedelta(days=1))
    cohort_ids = _cohorts_trained(user) | {s.cohort_id for s in theirs}
    unstaffed = _unstaffed(cohort_ids, today, today + UNSTAFFED_AHEAD)
    open_attendance = _attendance_open(user, now, today)
    tandems = _tandems_lost(cohort_ids)
    if not (theirs or unstaffed or open_attendance or tandems):
        return None
    cohorts = {s.cohort for s in [*theirs, *unstaffed, *(s for s, _ in open_attendance)]}
    cohorts |= {cohort for cohort, _, _ in tandems}
    organisation = _organisation(user, {c.organisation for c in cohorts})
    assert organisation is not None  # noqa: S101 -- it names at least one cohort
    monday = today - timedelta(days=today.weekday())
    payload: dict[str, Any] = {
        "week": iso_week(now),
        "from_day": today.isoformat(),
        "to_day": (today + AHEAD - timedelta(days=1)).isoformat(),
        "monday": monday.isoformat(),
        "organisation": organisation.name,
        "organisation_id": organisation.id,
        "sessions": [_session(s) for s in theirs],
        "unstaffed": [_session(s) for s in unstaffed],
        "attendance": [{**_session(s), "open": count} for s, count in open_attendance],
        "tandems": [
            {
                "cohort": cohort.name,
                "cohort_url": _url("tandems.show", cohort.id),
                "gone": gone,
                "remaining": remaining,
            }
            for cohort, gone, remaining in tandems
        ],
    }
    sender = notifications.sender_of(organisation)
    if sender and len(user.organisations) == 1:
        payload["from"] = sender
    return payload


def _organisation(user: User, seen: set[Organisation]) -> Organisation | None:
    """The organisation the digest is filed under (its delivery log): the
    trainer's own one, or the first of the cohorts it names."""
    if len(user.organisations) == 1:
        return user.organisations[0]
    return min(seen, key=lambda o: o.name) if seen else None


def _session(session: Session) -> dict[str, Any]:
    cohort = session.cohort
    zone = ZoneInfo(cohort.timezone)
    venue, link = shown_place(session.mode, session.effective_venue, session.effective_link)
    timed = not session.all_day and session.starts_at is not None and session.ends_at is not None
    return {
        "title": {"de": session.element.title_de, "en": session.element.title_en},
        "cohort": cohort.name,
        "timezone": cohort.timezone,
        "all_day": not timed,
        "start": session.starts_at.astimezone(zone).isoformat()  # type: ignore[union-attr]
        if timed
        else session.first_day.isoformat(),
        "end": session.ends_at.astimezone(zone).isoformat()  # type: ignore[union-attr]
        if timed
        else session.last_day.isoformat(),
        "venue": venue,
        "link": link,
        "url": _url("cohorts.show", cohort.id),
    }


def _url(endpoint: str, cohort_id: int) -> str | None:
    """An address to the page, when the installation knows its public one."""
    if not current_app.config.get("PUBLIC_URL"):
        return None
    return external_url(endpoint, cohort_id=cohort_id)


def _loaded(query: Any) -> list[Session]:
    return list(
        db.session.scalars(
            query.join(Cohort, Cohort.id == Session.cohort_id)
            .where(Session.status == SessionStatus.SCHEDULED, Cohort.state.in_(ACTIVE_COHORTS))
            .options(
                selectinload(Session.element),
                selectinload(Session.cohort).selectinload(Cohort.organisation),
            )
            .order_by(Session.first_day, Session.starts_at, Session.id)
        )
    )


def _their_sessions(user: User, first: date, last: date) -> list[Session]:
    return _loaded(
        select(Session)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(
            session_trainers.c.user_id == user.id,
            Session.last_day >= first,
            Session.first_day <= last,
        )
    )


def _cohorts_trained(user: User) -> set[int]:
    return set(
        db.session.scalars(
            select(cohort_trainers.c.cohort_id).where(cohort_trainers.c.user_id == user.id)
        )
    )


def _unstaffed(cohort_ids: Iterable[int], first: date, last: date) -> list[Session]:
    wanted = sorted(set(cohort_ids))
    if not wanted:
        return []
    return _loaded(
        select(Session).where(
            Session.cohort_id.in_(wanted),
            Session.first_day >= first,
            Session.first_day <= last,
            Session.mode != Mode.SELF_PACED.value,
            ~exists().where(session_trainers.c.session_id == Session.id),
        )
    )


def _attendance_open(user: User, now: datetime, today: date) -> list[tuple[Session, int]]:
    """Sessions they trained that are over, with how many enrolled people
    have no mark yet."""
    over = [
        s
        for s in _loaded(
            select(Session)
            .join(session_trainers, session_trainers.c.session_id == Session.id)
            .where(
                session_trainers.c.user_id == user.id,
                Session.mode != Mode.SELF_PACED.value,
                Session.first_day <= today,
                Session.last_day >= today - ATTENDANCE_BEHIND,
            )
        )
        if (s.ends_at is not None and s.ends_at <= now) or s.last_day < today
    ]
    if not over:
        return []
    enrolled = _enrolled({s.cohort_id for s in over})
    marked: dict[int, set[int]] = {}
    for session_id, participant_id in db.session.execute(
        select(AttendanceRecord.session_id, AttendanceRecord.participant_id).where(
            AttendanceRecord.session_id.in_([s.id for s in over]),
            AttendanceRecord.mark != Mark.NOT_RECORDED,
        )
    ):
        marked.setdefault(session_id, set()).add(participant_id)
    found = []
    for session in over:
        missing = enrolled.get(session.cohort_id, set()) - marked.get(session.id, set())
        if missing:
            found.append((session, len(missing)))
    return found


def _enrolled(cohort_ids: Iterable[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for cohort_id, participant_id in db.session.execute(
        select(Enrolment.cohort_id, Enrolment.participant_id).where(
            Enrolment.cohort_id.in_(sorted(set(cohort_ids))),
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    ):
        found.setdefault(cohort_id, set()).add(participant_id)
    return found


def _tandems_lost(cohort_ids: Iterable[int]) -> list[tuple[Cohort, list[str], list[str]]]:
    """(cohort, who left, who stays) of each confirmed tandem of an active
    cohort that lost someone."""
    wanted = sorted(set(cohort_ids))
    if not wanted:
        return []
    tandems = list(
        db.session.scalars(
            select(Tandem)
            .join(Cohort, Cohort.id == Tandem.cohort_id)
            .where(
                Tandem.cohort_id.in_(wanted),
                Tandem.state == TandemState.CONFIRMED,
                Cohort.state.in_(ACTIVE_COHORTS),
            )
            .options(selectinload(Tandem.members), selectinload(Tandem.cohort))
            .order_by(Tandem.cohort_id, Tandem.id)
        )
    )
    present = _present({t.cohort_id for t in tandems})
    found = []
    for tandem in tandems:
        gone = withdrawn_members([tandem], present.get(tandem.cohort_id, []))
        if gone:
            left = {p.id for p in gone}
            found.append(
                (
                    tandem.cohort,
                    [p.name for p in gone],
                    [p.name for p in tandem.people if p.id not in left],
                )
            )
    return found


def _present(cohort_ids: set[int]) -> dict[int, Sequence[Participant]]:
    if not cohort_ids:
        return {}
    found: dict[int, list[Participant]] = {}
    for cohort_id, participant in db.session.execute(
        select(Enrolment.cohort_id, Participant)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(
            Enrolment.cohort_id.in_(sorted(cohort_ids)),
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    ):
        found.setdefault(cohort_id, []).append(participant)
    return found
