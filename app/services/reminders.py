"""Reminders before sessions, and an organisation's reminder settings.

Each organisation says how many days before a session its people are
reminded (`Organisation.reminder_days`, e.g. 7 and 1): at 08:00 in the
cohort's time zone that many days before the session's first day. A
self-study phase (a self-paced phase of whole days) is not reminded of on
those days but, when the organisation wants it (`study_reminders`), on the
morning it starts and two days before it ends.

Who: the participants enrolled in the cohort who have not turned reminders
off, the session's trainers, and its make-up guests: people of other
cohorts booked into the session to make its element up (app.services.make_ups:
an attendance record of the guest counting for their own cohort, whose mark
is not recorded yet) who are still enrolled in that cohort and have not
turned reminders off either. A guest is reminded as a guest (`g12` in the
key, beside the `p12` of the people enrolled) until the booking is cancelled
or the mark recorded; someone enrolled in the session's cohort meanwhile is
reminded as one of its people. A guest of another organisation (make-up
sharing, `Organisation.share_make_ups`) hears from their own organisation,
on its schedule: its reminder days (and self-study reminders), at 08:00
where the session takes place, with its sender and name, in its delivery
log (filed under the guest's own cohort, not under the other organisation's
cohort). The payload names the session's cohort as the place ("cohort") and
says "for": "guest" with the guest's own cohort ("own_cohort").

The periodic task (app.periodic) calls `record_due` every 15 minutes. It
records the reminders whose moment lies within the next `AHEAD` (a little
more than the interval, so a late run misses nothing) with `due_at` = the
moment; the delivery sends each at its moment. Moments further back than
`LATE` are never recorded: a worker that was stopped for a week does not
send last week's reminders when it starts again.

Exactly once: the key names the session, its revision, the moment and the
person, so a second run, or a second worker running at the same time,
records nothing new. A session that moves (or is cancelled) gets a higher
revision: its reminders are keyed anew, and `refresh_unsent` deletes the
unsent reminders of the older revision (nothing was sent, so nothing needs
logging; the reminder for the new date replaces it), and those of a guest
whose booking is gone or whose mark is recorded. It runs with every
`record_due` and may be called by a change in its own transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from app.exports.descriptions import shown_place
from app.extensions import db
from app.models import (
    AttendanceRecord,
    Cohort,
    CohortState,
    Delivery,
    Enrolment,
    EnrolmentStatus,
    Notification,
    Organisation,
    Participant,
    Session,
    SessionStatus,
)
from app.services import history, notifications
from app.services.errors import DomainError, InvalidInput
from app.services.organisations import managed, refuse_all
from app.services.policy import Actor
from app.services.text import line_problem
from cohorts.eligibility import Mark
from curricula.messages import msg
from curricula.model import Mode

KIND = "reminder"
# The local time of day reminders go out at.
AT = time(8, 0)
# How far ahead one run records (the task runs every 15 minutes).
AHEAD = timedelta(minutes=20)
# How late a reminder may still be recorded, and may still be sent.
LATE = timedelta(hours=3)
# A self-study phase is reminded of this many days before its last day.
STUDY_END_DAYS = 2
# The settings' limits.
MOST_DAYS = 60
MOST_VALUES = 5

ACTIVE_COHORTS = (CohortState.PLANNED, CohortState.RUNNING)


# --- When ---------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """One reminder moment of a session: `label` is the number of days
    before it ("7", "1"), or "start" / "end" for a self-study phase."""

    label: str
    at: datetime  # UTC


def is_self_study(session: Session) -> bool:
    return session.all_day and session.mode == Mode.SELF_PACED


def local_moment(day: date, zone: ZoneInfo) -> datetime:
    """08:00 on `day` where the cohort is, in UTC (summer or winter time as
    that day has it)."""
    return datetime.combine(day, AT, tzinfo=zone).astimezone(UTC)


def moments(session: Session, organisation: Organisation) -> list[Moment]:
    """Every reminder moment of the session, earliest first, whatever the
    clock says now; none before a moment the session has begun at."""
    zone = ZoneInfo(session.cohort.timezone)
    if is_self_study(session):
        if not organisation.study_reminders:
            return []
        found = [Moment("start", local_moment(session.first_day, zone))]
        end_day = session.last_day - timedelta(days=STUDY_END_DAYS)
        if end_day > session.first_day:
            found.append(Moment("end", local_moment(end_day, zone)))
        return found
    begins = session.starts_at or datetime.combine(
        session.first_day + timedelta(days=1), time(0), tzinfo=zone
    ).astimezone(UTC)
    found = []
    for days in sorted(set(organisation.reminder_days or ()), reverse=True):
        at = local_moment(session.first_day - timedelta(days=days), zone)
        if at < begins:
            found.append(Moment(str(days), at))
    return found


# --- Who and what ---------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    key: str  # "p12", "u3", or "g12" for a make-up guest
    address: str
    name: str
    language: str
    participant_id: int | None = None
    user_id: int | None = None
    # A make-up guest: the cohort the make-up counts for, and the guest's
    # organisation when it is another than the session's (it sends then).
    for_cohort_id: int | None = None
    own_cohort: str | None = None
    organisation_id: int | None = None

    @property
    def is_guest(self) -> bool:
        return self.for_cohort_id is not None


@dataclass(frozen=True)
class Guest:
    """A make-up guest of a session, as `_guests` finds them."""

    participant: Participant
    for_cohort_id: int
    for_cohort_name: str
    organisation_id: int


def recipients(session: Session, enrolled: Sequence[Participant]) -> list[Recipient]:
    people = [
        Recipient(f"p{p.id}", p.email, p.name, p.language or "de", participant_id=p.id)
        for p in enrolled
        if p.reminders and p.email
    ]
    trainers = [
        Recipient(f"u{u.id}", u.email, u.name, u.language or "de", user_id=u.id)
        for u in session.trainers
        if u.active and u.email
    ]
    return people + trainers


def guest_recipients(session: Session, guests: Sequence[Guest]) -> list[Recipient]:
    """The session's make-up guests who want reminders."""
    host = session.cohort.organisation_id
    return [
        Recipient(
            f"g{g.participant.id}",
            g.participant.email,
            g.participant.name,
            g.participant.language or "de",
            participant_id=g.participant.id,
            for_cohort_id=g.for_cohort_id,
            own_cohort=g.for_cohort_name,
            organisation_id=None if g.organisation_id == host else g.organisation_id,
        )
        for g in guests
        if g.participant.reminders and g.participant.email
    ]


def key_of(session: Session, moment: Moment, recipient: Recipient) -> str:
    return f"{KIND}:{session.id}:r{session.revision}:{moment.label}:{recipient.key}"


def payload(
    session: Session, moment: Moment, organisation: Organisation | None = None
) -> dict[str, Any]:
    """What the renderer needs, as it is now: plain values, local times.
    From `organisation` (its name and sender), by default the cohort's; the
    cohort named is always the session's, where it takes place."""
    cohort = session.cohort
    organisation = organisation or cohort.organisation
    zone = ZoneInfo(cohort.timezone)
    venue, link = shown_place(session.mode, session.effective_venue, session.effective_link)
    timed = not session.all_day and session.starts_at is not None and session.ends_at is not None
    values: dict[str, Any] = {
        "session_id": session.id,
        "session_uid": session.uid,
        "revision": session.revision,
        "moment": moment.label,
        "due": moment.at.isoformat(),
        # Not worth sending once this has passed (the worker was away), nor
        # once the session has begun.
        "expires_at": _expires(session, moment).isoformat(),
        "title": {"de": session.element.title_de, "en": session.element.title_en},
        "cohort": cohort.name,
        "organisation": organisation.name,
        "mode": Mode(session.mode).value,
        # As invitations keep them (app.notices.wording): moments in the
        # cohort's zone, or the first and last day of a whole-day session.
        "all_day": not timed,
        "start": session.starts_at.astimezone(zone).isoformat()  # type: ignore[union-attr]
        if timed
        else session.first_day.isoformat(),
        "end": session.ends_at.astimezone(zone).isoformat()  # type: ignore[union-attr]
        if timed
        else session.last_day.isoformat(),
        "timezone": cohort.timezone,
        "venue": venue,
        "link": link,
    }
    sender = notifications.sender_of(organisation)
    if sender:
        values["from"] = sender
    return values


def _expires(session: Session, moment: Moment) -> datetime:
    latest = moment.at + LATE
    if not session.all_day and session.starts_at is not None:
        return min(latest, session.starts_at.astimezone(UTC))
    return latest


# --- Recording ------------------------------------------------------------------


def record_due(now: datetime) -> int:
    """Records every reminder whose moment lies between `LATE` ago and
    `AHEAD` from `now`, once; returns how many were recorded. Unsent
    reminders that no longer hold are deleted first."""
    refresh_unsent(None, now)
    earliest, latest = now - LATE, now + AHEAD
    organisations = {o.id: o for o in db.session.scalars(select(Organisation))}
    candidates = _candidates(organisations.values(), earliest, latest)
    guests = _guests([s.id for s in candidates])
    recorded = 0
    for session in candidates:
        host = organisations[session.cohort.organisation_id]
        told: list[tuple[Organisation, list[Recipient]]] = []
        if any(earliest <= m.at <= latest for m in moments(session, host)):
            told.append((host, recipients(session, _enrolled(session.cohort_id))))
        # Guests hear on their own organisation's schedule, from it.
        by_organisation: dict[int, list[Recipient]] = {}
        for guest in guest_recipients(session, guests.get(session.id, [])):
            by_organisation.setdefault(guest.organisation_id or host.id, []).append(guest)
        for organisation_id, part in by_organisation.items():
            told.append((organisations[organisation_id], part))
        for organisation, people in told:
            for moment in moments(session, organisation):
                if not earliest <= moment.at <= latest:
                    continue
                content = payload(session, moment, organisation)
                for recipient in people:
                    recorded += _record_one(session, moment, recipient, content, organisation)
    return recorded


def _record_one(
    session: Session,
    moment: Moment,
    recipient: Recipient,
    content: dict[str, Any],
    organisation: Organisation,
) -> int:
    """One reminder in a savepoint of its own: another worker recording the
    same key at the same time makes the database refuse this one, and the
    rest of the run goes on."""
    try:
        with db.session.begin_nested():
            recorded = notifications.record(
                kind=KIND,
                key=key_of(session, moment, recipient),
                address=recipient.address,
                name=recipient.name,
                language=recipient.language,
                organisation_id=organisation.id,
                # Filed under the cohort of the organisation that sends it.
                cohort_id=recipient.for_cohort_id
                if recipient.organisation_id is not None
                else session.cohort_id,
                session_id=session.id,
                participant_id=recipient.participant_id,
                user_id=recipient.user_id,
                payload={**content, **_personal(recipient)},
                due_at=moment.at,
            )
            db.session.flush()
    except IntegrityError:
        return 0
    return 1 if recorded is not None else 0


def _personal(recipient: Recipient) -> dict[str, Any]:
    """What the payload says of its recipient: "for" ("participant",
    "trainer" or "guest") and, for a guest, "own_cohort", the cohort the
    make-up counts for (the cohort named as the place, "cohort", is the
    session's)."""
    if recipient.user_id is not None:
        return {"for": "trainer"}
    if recipient.is_guest:
        return {"for": "guest", "own_cohort": recipient.own_cohort}
    return {"for": "participant"}


def _candidates(
    organisations: Iterable[Organisation], earliest: datetime, latest: datetime
) -> list[Session]:
    """Scheduled sessions of active cohorts that may have a moment between
    `earliest` and `latest`: local days differ from UTC days by at most one."""
    days = [
        earliest.date() + timedelta(days=offset)
        for offset in range(-1, (latest.date() - earliest.date()).days + 2)
    ]
    before = {d for o in organisations for d in (o.reminder_days or ())}
    first_days = {day + timedelta(days=n) for day in days for n in before}
    study_ends = {day + timedelta(days=STUDY_END_DAYS) for day in days}
    return list(
        db.session.scalars(
            select(Session)
            .join(Cohort, Cohort.id == Session.cohort_id)
            .where(
                Session.status == SessionStatus.SCHEDULED,
                Cohort.state.in_(ACTIVE_COHORTS),
                or_(
                    Session.first_day.in_(sorted(first_days | set(days))),
                    Session.last_day.in_(sorted(study_ends)),
                ),
            )
            .options(
                selectinload(Session.trainers),
                selectinload(Session.element),
                selectinload(Session.cohort).selectinload(Cohort.organisation),
            )
            .order_by(Session.first_day, Session.id)
        )
    )


def _enrolled(cohort_id: int) -> list[Participant]:
    return list(
        db.session.scalars(
            select(Participant)
            .join(Enrolment, Enrolment.participant_id == Participant.id)
            .where(Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED)
            .order_by(Participant.id)
        )
    )


def _guests(session_ids: Sequence[int]) -> dict[int, list[Guest]]:
    """Per session: its make-up guests still booked (their mark not recorded
    yet) who are still enrolled in the cohort the make-up counts for (not
    cancelled), and not in the session's cohort themselves (they are
    reminded as its people then); one statement for all the sessions."""
    if not session_ids:
        return {}
    enrolled_there = (
        select(Enrolment.id)
        .where(
            Enrolment.cohort_id == Session.cohort_id,
            Enrolment.participant_id == AttendanceRecord.participant_id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
        .exists()
    )
    own = aliased(Cohort)
    still_theirs = (
        select(Enrolment.id)
        .where(
            Enrolment.cohort_id == AttendanceRecord.for_cohort_id,
            Enrolment.participant_id == AttendanceRecord.participant_id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
        .exists()
    )
    found: dict[int, list[Guest]] = {}
    for session_id, for_cohort_id, own_name, person in db.session.execute(
        select(AttendanceRecord.session_id, AttendanceRecord.for_cohort_id, own.name, Participant)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .join(own, own.id == AttendanceRecord.for_cohort_id)
        .join(Participant, Participant.id == AttendanceRecord.participant_id)
        .where(
            AttendanceRecord.session_id.in_(sorted(set(session_ids))),
            AttendanceRecord.for_cohort_id != Session.cohort_id,
            AttendanceRecord.mark == Mark.NOT_RECORDED,
            own.state != CohortState.CANCELLED,
            still_theirs,
            ~enrolled_there,
        )
        .order_by(AttendanceRecord.session_id, Participant.id)
    ):
        found.setdefault(session_id, []).append(
            Guest(person, for_cohort_id, own_name, person.organisation_id)
        )
    return found


def refresh_unsent(session_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Deletes the unsent reminders (of these sessions, or all) that no
    longer hold: recorded for an older revision of their session (it
    moved), for a cancelled session or cohort, for someone no longer
    enrolled, who turned reminders off or no longer trains the session, or
    whose moment is more than `LATE` past or no longer one of the
    organisation's reminder moments; for a make-up guest, whose booking was
    cancelled or whose mark is recorded. A change of venue or link only
    brings the unsent reminder up to date. Returns how many were deleted."""
    query = select(Notification).where(
        Notification.kind == KIND, Notification.state == Delivery.QUEUED
    )
    if session_ids is not None:
        wanted = sorted(set(session_ids))
        if not wanted:
            return 0
        query = query.where(Notification.session_id.in_(wanted))
    queued = list(db.session.scalars(query))
    if not queued:
        return 0
    now = now or datetime.now(UTC)
    sessions = {
        s.id: s
        for s in db.session.scalars(
            select(Session)
            .where(Session.id.in_({n.session_id for n in queued if n.session_id}))
            .options(
                selectinload(Session.trainers),
                selectinload(Session.element),
                selectinload(Session.cohort).selectinload(Cohort.organisation),
            )
        )
    }
    enrolled = _enrolled_with_reminders({s.cohort_id for s in sessions.values()})
    booked = {
        (session_id, g.participant.id)
        for session_id, found in _guests(
            sorted({n.session_id for n in queued if n.session_id and _is_guest(n)})
        ).items()
        for g in found
        if g.participant.reminders
    }
    # The cohorts' organisations are loaded with their sessions; a guest's
    # own is looked up once.
    senders = {i: db.session.get(Organisation, i) for i in {n.organisation_id for n in queued}}
    stale: list[int] = []
    for notification in queued:
        session = sessions.get(notification.session_id or 0)
        sender = senders.get(notification.organisation_id)
        if (
            session is None
            or sender is None
            or _stale(notification, session, sender, enrolled, booked, now)
        ):
            stale.append(notification.id)
            continue
        moment = _moment_of(notification)
        fresh = {**payload(session, moment, sender), "for": notification.payload.get("for")}
        for kept in ("to_name", "own_cohort"):
            if notification.payload.get(kept):
                fresh[kept] = notification.payload[kept]
        if fresh != notification.payload:
            notification.payload = fresh
    if stale:
        # Only what no worker has claimed meanwhile; what one has, it sends.
        db.session.execute(
            delete(Notification)
            .where(Notification.id.in_(stale), Notification.state == Delivery.QUEUED)
            .execution_options(synchronize_session=False)
        )
        for notification in queued:
            if notification.id in stale:
                db.session.expunge(notification)
    return len(stale)


def _is_guest(notification: Notification) -> bool:
    """A make-up guest's reminder: its key ends in the guest's "g12"."""
    return notification.key.rsplit(":", 1)[-1].startswith("g")


def _stale(
    notification: Notification,
    session: Session,
    sender: Organisation,
    enrolled: dict[int, set[int]],
    booked: set[tuple[int, int]],
    now: datetime,
) -> bool:
    """`sender`: the organisation the reminder is from, whose moments it
    keeps (the cohort's, or a guest's own)."""
    if notification.payload.get("revision") != session.revision:
        return True
    if session.status is not SessionStatus.SCHEDULED:
        return True
    if session.cohort.state not in ACTIVE_COHORTS:
        return True
    moment = _moment_of(notification)
    if moment.at < now - LATE:
        return True
    # The organisation's days (or its self-study reminders) changed since.
    if moment not in moments(session, sender):
        return True
    if _is_guest(notification):
        return (session.id, notification.participant_id) not in booked
    if notification.participant_id is not None:
        return notification.participant_id not in enrolled.get(session.cohort_id, set())
    if notification.user_id is not None:
        return not any(u.id == notification.user_id and u.active for u in session.trainers)
    return False


def _moment_of(notification: Notification) -> Moment:
    """The moment a reminder was recorded for (its due_at moves on when the
    mail server asks to try later)."""
    due = notification.payload.get("due")
    at = datetime.fromisoformat(due) if due else notification.due_at
    return Moment(str(notification.payload.get("moment")), at.astimezone(UTC))


def _enrolled_with_reminders(cohort_ids: set[int]) -> dict[int, set[int]]:
    if not cohort_ids:
        return {}
    found: dict[int, set[int]] = {}
    for cohort_id, participant_id in db.session.execute(
        select(Enrolment.cohort_id, Enrolment.participant_id)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(
            Enrolment.cohort_id.in_(sorted(cohort_ids)),
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Participant.reminders.is_(True),
        )
    ):
        found.setdefault(cohort_id, set()).add(participant_id)
    return found


# --- The organisation's settings -----------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class ReminderSettings:
    """An organisation's notification settings as a form describes them."""

    mail_from: str
    reminder_days: str  # as typed: "7, 1"
    study_reminders: bool


def days_text(days: Iterable[int]) -> str:
    """The stored days as the form shows them: "7, 1"."""
    return ", ".join(str(d) for d in days)


def parse_days(text: str) -> list[int]:
    """ "7, 1" (also "7 1" or "7;1") as the stored list, largest first; an
    empty text means no reminders before sessions."""
    pieces = [p for p in _SEPARATORS.split(text.strip()) if p]
    wrong = [p for p in pieces if not p.isascii() or not p.isdigit()]
    if wrong:
        raise InvalidInput(
            msg(
                "'{value}' is not a number of days; type whole numbers separated by commas, "
                "such as 7, 1",
                value=wrong[0],
            ),
            code="not_days",
            field="reminder_days",
        )
    days = sorted({int(p) for p in pieces}, reverse=True)
    too_many = [d for d in days if d > MOST_DAYS]
    if too_many:
        raise InvalidInput(
            msg(
                "{days} days is too far ahead; at most {most} days before a session",
                days=too_many[0],
                most=MOST_DAYS,
            ),
            code="too_many_days",
            field="reminder_days",
        )
    if len(days) > MOST_VALUES:
        raise InvalidInput(
            msg(
                "{count} reminders are too many; at most {most} per session",
                count=len(days),
                most=MOST_VALUES,
            ),
            code="too_many_reminders",
            field="reminder_days",
        )
    return days


def check_sender(text: str) -> str:
    """A sender address as stored: empty (the server's sender), or one
    plain e-mail address."""
    address = text.strip()
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    usable = (
        at
        and local
        and "." in domain.strip(".")
        and not domain.startswith(".")
        and not re.search(r"[\s<>(),;:\"\[\]\\]", address)
        and line_problem(address) is None
    )
    if not usable:
        raise InvalidInput(
            msg("'{email}' is not an e-mail address", email=address),
            code="invalid_email",
            field="mail_from",
        )
    length = Organisation.__table__.c.mail_from.type.length
    if len(address) > length:
        raise InvalidInput(
            msg("the e-mail address is longer than {count} characters", count=length),
            code="too_long",
            field="mail_from",
        )
    return address


def change_settings(actor: Actor, organisation_id: int, wish: ReminderSettings) -> Organisation:
    """The sender address, the reminder days and the self-study reminders of
    an organisation, each checked before anything changes (every problem at
    its field)."""
    organisation = managed(actor, organisation_id)
    problems: list[DomainError] = []
    sender, days = "", []
    try:
        sender = check_sender(wish.mail_from)
    except InvalidInput as error:
        problems.append(error)
    try:
        days = parse_days(wish.reminder_days)
    except InvalidInput as error:
        problems.append(error)
    refuse_all(problems)
    before = {
        "mail_from": organisation.mail_from,
        "reminder_days": list(organisation.reminder_days or []),
        "study_reminders": organisation.study_reminders,
    }
    after = {"mail_from": sender, "reminder_days": days, "study_reminders": wish.study_reminders}
    if after != before:
        organisation.mail_from = sender
        organisation.reminder_days = days
        organisation.study_reminders = wish.study_reminders
        history.record(
            user=actor.user,
            organisation_id=organisation.id,
            subject="organisation",
            subject_id=organisation.id,
            action="notifications_changed",
            before=before,
            after=after,
        )
    return organisation


__all__ = [
    "AHEAD",
    "LATE",
    "Moment",
    "ReminderSettings",
    "change_settings",
    "check_sender",
    "days_text",
    "moments",
    "parse_days",
    "record_due",
    "refresh_unsent",
]
