"""Who is told what when a session, an enrolment or a cohort changes.

The services call these functions where they change something, in the same
transaction: the notifications are rows of that transaction (see
app.services.notifications), so a change that rolls back tells nobody, and
a change that commits has told everyone it concerns.

Who:
- a session's change (moved, venue or link, cancelled, restored, a cohort
  cancelled or its cancellation taken back, a cohort moved onto a fork)
  concerns everyone enrolled in its cohort and each of its trainers;
- an enrolment or a withdrawal concerns the person, a trainer added or
  removed concerns that trainer.

Only sessions still to come (not over yet) are announced, only to people
with an e-mail address, in their language. A person who chose "invitations"
or "both" gets one invitation or cancellation per session (its text parts
say the change in words); one who chose "feed" keeps their dates from the
feed and gets the change in words only (kind "text", one message per change,
naming every session it moved or cancelled), and nothing for being enrolled
or added, which their feed shows.

Keys follow the payload contract (docs/calendar-invitations.md):
`{kind}:{session}:{sequence}:p{participant}` or `…:u{user}`; a person's own
cancellation without a new sequence (a withdrawal) and an invitation again
after it carry the withdrawal's stamp as well. Recording the same change
twice therefore sends once.

Everything is loaded set-wise (the people of all sessions concerned in two
statements, the keys recorded before in one), so that a move in a large
cohort stays cheap for the request that makes it.

The personal page's address is never in a message: only hashes of the
secret links are stored, and a new link is a new token, which would end the
one the person has (see app.services.personal_links); `personal_url` stays null.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import notices
from app.exports.descriptions import shown_place
from app.extensions import db
from app.i18n import Translator
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
    User,
)
from app.models.cohorts import session_trainers
from app.models.participants import CalendarChoice
from app.models.tokens import token_hash
from app.notices import wording
from app.services import notifications

PARTICIPANT = "REQ-PARTICIPANT"
TRAINER = "CHAIR"
INVITATION = "invitation"
CANCELLATION = "cancellation"
# The changes someone who follows a feed is told in words: those that
# change or take away a date they hold (not being enrolled or added).
IN_WORDS = frozenset(
    {
        "moved",
        "details",
        "cancelled",
        "restored",
        "cohort_cancelled",
        "withdrawn",
        "trainer_removed",
        "make_up",
        "make_up_cancelled",
    }
)
LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Recipient:
    """One person told: a participant (`p12`) or a user (`u3`)."""

    tag: str
    name: str
    address: str
    language: str
    choice: str
    role: str
    participant_id: int | None = None
    user_id: int | None = None
    # A guest of another organisation hears from their own (make-up sharing).
    organisation_id: int | None = None

    @property
    def wants_invitations(self) -> bool:
        return self.choice != CalendarChoice.FEED.value


@dataclass(frozen=True)
class Change:
    """What one session's message says: its kind, the change's name and
    the session as it was before (for a move or a new venue)."""

    session: Session
    kind: str
    what: str | None
    before: Mapping[str, Any] | None = None
    # Makes a person's own cancellation or re-invitation its own message.
    suffix: str = ""


# --- What the services call --------------------------------------------------


def enrolled(cohort: Cohort, people: Sequence[tuple[Participant, str | None]]) -> None:
    """Each person was enrolled in `cohort`: an invitation to each session
    still to come. With a withdrawal stamp (the person was withdrawn from
    the cohort before, see enrolments.withdrawal_stamp) the invitations are
    new messages beside the first ones, which the withdrawal cancelled."""
    if not people or _trying():
        return
    sessions = _coming(cohort, _sessions_of(cohort), _now())
    if not sessions:
        return
    told = []
    for person, stamp in people:
        recipient = _participant(person)
        if recipient is None or not recipient.wants_invitations:
            continue
        suffix = f":{stamp}" if stamp else ""
        for session in sessions:
            told.append((Change(session, INVITATION, "enrolled", None, suffix), recipient))
    _record(cohort, told)


def enrolled_ids(pairs: Iterable[tuple[Cohort, int]]) -> None:
    """People enrolled set-wise (the file import): by cohort and person id."""
    by_cohort: dict[int, tuple[Cohort, list[int]]] = {}
    for cohort, person_id in pairs:
        by_cohort.setdefault(cohort.id, (cohort, []))[1].append(person_id)
    if not by_cohort:
        return
    ids = {i for _, people in by_cohort.values() for i in people}
    people = {
        p.id: p for p in db.session.scalars(select(Participant).where(Participant.id.in_(ids)))
    }
    for cohort, person_ids in by_cohort.values():
        enrolled(cohort, [(people[i], None) for i in person_ids if i in people])


def withdrawn(enrolment: Enrolment, stamp: str) -> None:
    """The person was withdrawn (at `stamp`): a cancellation of each session
    still to come, for them only."""
    cohort = enrolment.cohort
    recipient = _participant(enrolment.participant)
    if recipient is None or _trying():
        return
    sessions = _coming(cohort, _sessions_of(cohort), _now())
    _record(
        cohort,
        [(Change(s, CANCELLATION, "withdrawn", None, f":{stamp}"), recipient) for s in sessions],
    )


def make_up_booked(
    session: Session, person: Participant, suffix: str, *, now: datetime | None = None
) -> None:
    """The person makes `session` (of another cohort) up: an invitation to
    it, its own message beside any other (`suffix` names the booking)."""
    _make_up(session, person, INVITATION, "make_up", suffix, now or _now())


def make_up_cancelled(
    session: Session, person: Participant, suffix: str, *, now: datetime | None = None
) -> None:
    """The person's make-up booking of `session` was cancelled: told while
    the session is not over, like every change here (a make-up cancelled
    after the day, while it waited for its mark, is not announced)."""
    _make_up(session, person, CANCELLATION, "make_up_cancelled", suffix, now or _now())


def _make_up(
    session: Session, person: Participant, kind: str, what: str, suffix: str, now: datetime
) -> None:
    """A make-up's message comes from the person's own organisation (a
    session of another organisation sharing its make-ups is no reason to
    hear from that one); it names the host cohort and its place."""
    recipient = _participant(person)
    if recipient is None or _trying() or not _is_coming(session.cohort, session, now):
        return
    told = [(Change(session, kind, what, None, suffix), recipient)]
    _record(session.cohort, told, organisation=person.organisation)


def moved(cohort: Cohort, changes: Iterable[tuple[Session, Mapping[str, Any]]]) -> None:
    """Sessions moved (each with its snapshot before, see sessions.snapshot;
    their revision rose): an update to everyone concerned."""
    _to_everyone(cohort, [Change(s, INVITATION, "moved", before) for s, before in changes])


def details_changed(
    session: Session,
    before: Mapping[str, Any],
    added: Sequence[User],
    removed: Sequence[User],
) -> None:
    """A session's venue, link or trainers changed (its revision rose):
    the venue or link to everyone, an invitation to each trainer added and a
    cancellation to each removed."""
    cohort = session.cohort
    if _trying() or not _coming(cohort, [session], _now()):
        return
    _refresh_reminders([session])
    told: list[tuple[Change, Recipient]] = []
    if (before.get("venue"), before.get("online_link")) != (session.venue, session.online_link):
        change = Change(session, INVITATION, "details", before)
        added_ids = {u.id for u in added}
        people = _people(cohort, [session])[session.id]
        told += [(change, r) for r in people if r.user_id not in added_ids]
    for user in added:
        recipient = _user(user)
        if recipient is not None:
            told.append((Change(session, INVITATION, "trainer_added"), recipient))
    for user in removed:
        recipient = _user(user)
        if recipient is not None:
            told.append((Change(session, CANCELLATION, "trainer_removed"), recipient))
    _record(cohort, told)


def place_changed(cohort: Cohort, venue: str | None, online_link: str | None) -> None:
    """The cohort's venue or link changed (from `venue` and `online_link`):
    the sessions still to come that use it have a new place. Their revision
    rises, as for a session's own new venue, and everyone is told."""
    now = _now()
    changes = []
    for session in _coming(cohort, _sessions_of(cohort), now):
        place = _place(session, session.venue or venue, session.online_link or online_link)
        if place == _place(session, session.effective_venue, session.effective_link):
            continue
        # The place as the event showed it before (with the cohort's old one).
        before = {"location": place[0], "link": place[1]}
        session.revision += 1
        changes.append(Change(session, INVITATION, "details", before))
    _to_everyone(cohort, changes, now=now)


def cancelled(cohort: Cohort, sessions: Iterable[Session], what: str = "cancelled") -> None:
    """Sessions cancelled (`what` "cohort_cancelled" when the cohort was)."""
    _to_everyone(cohort, [Change(s, CANCELLATION, what) for s in sessions])


def restored(cohort: Cohort, sessions: Iterable[Session]) -> None:
    """Cancelled sessions take place again (a session restored, or a
    cohort's cancellation taken back)."""
    _to_everyone(cohort, [Change(s, INVITATION, "restored") for s in sessions])


def new_cohort(cohort: Cohort) -> None:
    """A cohort was planned: its trainers are invited to their sessions."""
    now = _now()
    told = []
    sessions = _coming(cohort, list(cohort.sessions), now)
    for session in sessions:
        for user in session.trainers:
            recipient = _user(user)
            if recipient is not None:
                told.append((Change(session, INVITATION, "trainer_added"), recipient))
    _record(cohort, told, now=now)


def choice_changed(person: Participant | User, before: str) -> None:
    """The person changed how they get their dates (calendar_choice, from
    `before`): from the feed to invitations, an invitation to each session
    still to come; from invitations to the feed only, a cancellation of
    each, so that no invited copy stays beside the feed's. Between
    invitations and both, nothing."""
    after = person.calendar_choice or CalendarChoice.INVITATIONS.value
    feed = CalendarChoice.FEED.value
    if (before == feed) == (after == feed) or _trying():
        return
    recipient = _participant(person) if isinstance(person, Participant) else _user(person)
    if recipient is None:
        return
    now = _now()
    suffix = f":choice:{now.strftime('%Y%m%dT%H%M%S')}"
    kind, what = (
        (INVITATION, "invitations_chosen") if before == feed else (CANCELLATION, "feed_chosen")
    )
    for cohort, sessions in _sessions_of_person(person).items():
        told = [
            (Change(s, kind, what, None, suffix), recipient)
            for s in _coming(cohort, sessions, now)
        ]
        _record(cohort, told, now=now)


def _sessions_of_person(person: Participant | User) -> dict[Cohort, list[Session]]:
    """The sessions of the cohorts a participant is enrolled in, or those a
    trainer trains, by cohort (one statement)."""
    query = select(Session).options(joinedload(Session.element), joinedload(Session.cohort))
    if isinstance(person, Participant):
        query = query.join(Enrolment, Enrolment.cohort_id == Session.cohort_id).where(
            Enrolment.participant_id == person.id, Enrolment.status == EnrolmentStatus.ENROLLED
        )
    else:
        query = query.join(session_trainers, session_trainers.c.session_id == Session.id).where(
            session_trainers.c.user_id == person.id
        )
    found: dict[Cohort, list[Session]] = {}
    for session in db.session.scalars(query.order_by(Session.first_day, Session.id)).unique():
        found.setdefault(session.cohort, []).append(session)
    return found


def personal_link(
    person: Participant,
    token: str,
    link_for: Callable[[str], str],
    keep_cancelled: timedelta,
) -> dict[str, Any] | None:
    """The message that brings a person their new personal link (`token`,
    issued in this transaction) and their schedule as a calendar file, to
    record with `record_all`; None without an address. In their language."""
    from app.services.calendars import participant_feed
    from app.services.calendars import render as render_feed

    if not person.email:
        return None
    tr = Translator(_language(person.language))
    now = datetime.now(UTC)
    calendar = render_feed(
        participant_feed(person, tr, now, keep_cancelled), tr, refresh=False, stamp=now
    )
    organisation = person.organisation
    body = tr.gettext(
        "Hello %(name)s,\n\n"
        "your personal page shows your sessions, lets you add them to your calendar "
        "and keeps them up to date:\n\n%(link)s\n\n"
        "The attached file holds the sessions as they are planned today; open it to "
        "add them to your calendar once. Please keep the link to yourself.\n",
        name=person.first_name,
        link=notices.LINK,
    )
    payload: dict[str, Any] = {
        "subject": tr.gettext("Your schedule for the learning companion programme"),
        "body": body,
        # Apart from the words, so that it leaves the outbox once sent.
        "link": link_for(token),
        # The MIME method must equal the calendar's METHOD, or Outlook rejects it.
        "attachment": {
            "content": calendar.content.decode("utf-8"),
            "filename": calendar.filename,
            "subtype": "calendar",
            "params": {"method": "PUBLISH"},
        },
    }
    if organisation.mail_from:
        organizer = _organizer(organisation.name, organisation.mail_from)
        payload["from"] = formataddr((organizer["name"], organizer["address"]))
    # The key names the link by its hash: the token itself is only in the message.
    return {
        "kind": "text",
        "key": f"text:link:p{person.id}:{token_hash(token)[:32]}",
        "address": person.email,
        "organisation_id": person.organisation_id,
        "payload": payload,
        "language": tr.language,
        "name": person.name,
        "participant_id": person.id,
        "user_id": None,
    }


def versions_before(cohort: Cohort) -> dict[int, tuple[int, SessionStatus, dict[str, Any]]]:
    """What `reshaped` compares with: each session's revision, status and place."""
    return {
        s.id: (s.revision, s.status, _snapshot(s)) for s in cohort.sessions if s.id is not None
    }


def reshaped(
    cohort: Cohort, before: Mapping[int, tuple[int, SessionStatus, dict[str, Any]]]
) -> None:
    """The cohort's sessions were planned again (onto a fork of its
    curriculum): new sessions are invited to, dropped ones cancelled, moved
    ones updated."""
    db.session.flush()  # new sessions get their id
    changes = []
    for session in cohort.sessions:
        known = before.get(session.id)
        if known is None:
            if session.status is SessionStatus.SCHEDULED:
                changes.append(Change(session, INVITATION, None))
            continue
        revision, status, snapshot = known
        if session.revision == revision:
            continue
        if session.status is SessionStatus.CANCELLED and status is SessionStatus.SCHEDULED:
            changes.append(Change(session, CANCELLATION, "cancelled"))
        elif session.status is SessionStatus.SCHEDULED:
            changes.append(Change(session, INVITATION, "moved", snapshot))
    _to_everyone(cohort, changes)


# --- Who, set-wise -------------------------------------------------------------


def _to_everyone(cohort: Cohort, changes: list[Change], *, now: datetime | None = None) -> None:
    if not changes or _trying():
        return
    _refresh_reminders([c.session for c in changes])
    now = now or _now()
    changes = [c for c in changes if _is_coming(cohort, c.session, now)]
    if not changes:
        return
    people = _people(cohort, [c.session for c in changes])
    told = [(c, r) for c in changes for r in people[c.session.id]]
    by_organisation: dict[int | None, list[tuple[Change, Recipient]]] = {}
    for change, person in told:
        by_organisation.setdefault(person.organisation_id, []).append((change, person))
    for organisation_id, part in by_organisation.items():
        sender = None if organisation_id is None else db.session.get(Organisation, organisation_id)
        _record(cohort, part, now=now, organisation=sender)


def _people(cohort: Cohort, sessions: Sequence[Session]) -> dict[int, list[Recipient]]:
    """Per session: everyone enrolled in the cohort, the guests who make it
    up there, then its trainers (three statements, whatever the number of
    sessions and people)."""
    rows = db.session.execute(
        select(
            Participant.id,
            Participant.first_name,
            Participant.last_name,
            Participant.email,
            Participant.language,
            Participant.calendar_choice,
        )
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(Participant.id)
    )
    enrolled_people = [
        Recipient(
            f"p{pid}",
            f"{first} {last}".strip(),
            email,
            _language(lang),
            choice or "",
            PARTICIPANT,
            participant_id=pid,
        )
        for pid, first, last, email, lang, choice in rows
        if email
    ]
    # Guests: people of other cohorts who make the session up there.
    guests: dict[int, list[Recipient]] = {s.id: [] for s in sessions}
    for sid, pid, first, last, email, lang, choice, org_id in db.session.execute(
        select(
            AttendanceRecord.session_id,
            Participant.id,
            Participant.first_name,
            Participant.last_name,
            Participant.email,
            Participant.language,
            Participant.calendar_choice,
            Participant.organisation_id,
        )
        .join(Participant, Participant.id == AttendanceRecord.participant_id)
        .where(
            AttendanceRecord.session_id.in_(list(guests)),
            AttendanceRecord.for_cohort_id != cohort.id,
        )
        .order_by(Participant.id)
    ):
        if email:
            guests[sid].append(
                Recipient(
                    f"p{pid}",
                    f"{first} {last}".strip(),
                    email,
                    _language(lang),
                    choice or "",
                    PARTICIPANT,
                    participant_id=pid,
                    organisation_id=None if org_id == cohort.organisation_id else org_id,
                )
            )
    trainers: dict[int, list[Recipient]] = {s.id: [] for s in sessions}
    for sid, uid, name, email, lang, choice in db.session.execute(
        select(
            session_trainers.c.session_id,
            User.id,
            User.name,
            User.email,
            User.language,
            User.calendar_choice,
        )
        .join(User, User.id == session_trainers.c.user_id)
        .where(session_trainers.c.session_id.in_(list(trainers)), User.active.is_(True))
        .order_by(User.id)
    ):
        if email:
            trainers[sid].append(
                Recipient(
                    f"u{uid}", name, email, _language(lang), choice or "", TRAINER, user_id=uid
                )
            )
    return {sid: enrolled_people + guests[sid] + found for sid, found in trainers.items()}


def _participant(person: Participant) -> Recipient | None:
    if not person.email:
        return None
    return Recipient(
        f"p{person.id}",
        person.name,
        person.email,
        _language(person.language),
        person.calendar_choice or "",
        PARTICIPANT,
        participant_id=person.id,
    )


def _user(user: User) -> Recipient | None:
    if not user.email or not user.active:
        return None
    return Recipient(
        f"u{user.id}",
        user.name,
        user.email,
        _language(user.language),
        user.calendar_choice or "",
        TRAINER,
        user_id=user.id,
    )


def _language(language: str | None) -> str:
    return language if language in LANGUAGES else "de"


def _sessions_of(cohort: Cohort) -> list[Session]:
    """The cohort's sessions with their elements, in one statement."""
    return list(
        db.session.scalars(
            select(Session)
            .where(Session.cohort_id == cohort.id)
            .options(joinedload(Session.element))
            .order_by(Session.first_day, Session.starts_at, Session.id)
        )
    )


def _coming(cohort: Cohort, sessions: Iterable[Session], now: datetime) -> list[Session]:
    """The sessions that take place and are not over yet."""
    if cohort.state not in (CohortState.PLANNED, CohortState.RUNNING):
        return []
    return [
        s for s in sessions if s.status is SessionStatus.SCHEDULED and _is_coming(cohort, s, now)
    ]


def _is_coming(cohort: Cohort, session: Session, now: datetime) -> bool:
    if session.starts_at is not None and session.ends_at is not None:
        return session.ends_at > now
    return session.last_day >= now.astimezone(ZoneInfo(cohort.timezone)).date()


def _trying() -> bool:
    """Inside a savepoint that is rolled back (a preview tries the change
    to show what it would do): nobody is told."""
    return db.session().in_nested_transaction()


def _refresh_reminders(sessions: Sequence[Session]) -> None:
    """Reminders queued for an older revision of these sessions are
    dropped in this transaction (app.services.reminders)."""
    from app.services import reminders  # reminders reads this module's payloads

    reminders.refresh_unsent([s.id for s in sessions if s.id is not None])


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- What, and recording it ------------------------------------------------------


def _record(
    cohort: Cohort,
    told: list[tuple[Change, Recipient]],
    *,
    now: datetime | None = None,
    organisation: Organisation | None = None,
) -> None:
    """Records each (change, person): an invitation or cancellation for
    those who take invitations, one message in words per person for those
    who follow a feed. From `organisation` (sender, organizer, the name
    signing it, whose delivery log holds it), by default the cohort's."""
    if not told or _trying():
        return
    now = now or _now()
    organisation = organisation or cohort.organisation
    organizer = _organizer(organisation.name, organisation.mail_from)
    sender = notifications.sender_of(organisation)
    zone = ZoneInfo(cohort.timezone)
    common = {
        "stamp": now.isoformat(),
        "cohort": cohort.name,
        "organisation": organisation.name,
        "organizer": organizer,
        "timezone": cohort.timezone,
        "personal_url": None,
    }
    if sender:
        common["from"] = sender
    events: dict[tuple[int, str], dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    in_words: dict[str, tuple[Recipient, list[tuple[Change, dict[str, Any]]]]] = {}
    # What all messages of one change say alike, made once per language.
    said_alike: dict[tuple[int, str], dict[str, Any]] = {}
    for change, person in told:
        session = change.session
        alike = said_alike.get((id(change), person.language))
        if alike is None:
            event = events.get((session.id, person.language))
            if event is None:
                event = events[(session.id, person.language)] = {
                    **common,
                    **_event(session, cohort, zone, person.language),
                }
            alike = said_alike[(id(change), person.language)] = {
                **event,
                "change": None
                if change.what is None
                else {"what": change.what, "before": _before(change, cohort, zone)},
            }
        payload = {
            **alike,
            "attendee": {"name": person.name, "address": person.address, "role": person.role},
        }
        if person.wants_invitations or change.what == "feed_chosen":
            rows.append(
                {
                    "kind": change.kind,
                    "key": f"{change.kind}:{session.id}:{session.revision}:{person.tag}"
                    f"{change.suffix}",
                    "address": person.address,
                    "organisation_id": organisation.id,
                    "payload": payload,
                    "language": person.language,
                    "name": person.name,
                    "cohort_id": cohort.id,
                    "session_id": session.id,
                    "participant_id": person.participant_id,
                    "user_id": person.user_id,
                }
            )
        elif change.what in IN_WORDS:
            in_words.setdefault(person.tag, (person, []))[1].append((change, payload))
    # The words depend on the changes and the language, not on the person:
    # made once for everyone who reads the same.
    made: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
    for person, said in in_words.values():
        names = sorted(f"{c.kind}:{c.session.id}:{c.session.revision}{c.suffix}" for c, _ in said)
        key = (person.language, tuple(names))
        if key not in made:
            made[key] = words([p for _, p in said], person.language)
        subject, body = made[key]
        digest = hashlib.sha256(";".join(names).encode("utf-8")).hexdigest()[:24]
        only = said[0][0].session.id if len(said) == 1 else None
        rows.append(
            {
                "kind": "text",
                "key": f"text:change:{cohort.id}:{digest}:{person.tag}",
                "address": person.address,
                "organisation_id": organisation.id,
                "payload": {
                    "subject": subject,
                    "body": body,
                    **({"from": sender} if sender else {}),
                },
                "language": person.language,
                "name": person.name,
                "cohort_id": cohort.id,
                "session_id": only,
                "participant_id": person.participant_id,
                "user_id": person.user_id,
            }
        )
    record_all(rows)


def record_all(rows: list[dict[str, Any]]) -> None:
    """Records many notifications with one key look-up per 500."""
    notifications.record_many(rows)


def _organizer(name: str, mail_from: str | None) -> dict[str, str]:
    """The organisation's sender address, or the application's (MAIL_FROM)."""
    shown, address = parseaddr(mail_from or "")
    if not address:
        shown, address = parseaddr(current_app.config["MAIL_FROM"])
    return {"name": name or shown, "address": address}


def _event(session: Session, cohort: Cohort, zone: ZoneInfo, language: str) -> dict[str, Any]:
    """The session as the invitation shows it, in `language`."""
    element = session.element
    start, end, all_day = _times(
        session.starts_at, session.ends_at, session.first_day, session.last_day, zone
    )
    location, link = _place(session, session.effective_venue, session.effective_link)
    return {
        "uid": session.uid,
        "sequence": session.revision,
        "title": (element.title_en if language == "en" else element.title_de) or element.title_de,
        "all_day": all_day,
        "start": start,
        "end": end,
        "location": location,
        "link": link,
    }


def _before(change: Change, cohort: Cohort, zone: ZoneInfo) -> dict[str, Any] | None:
    """The session before the change, as the payload's `change.before`."""
    snapshot = change.before
    if snapshot is None:
        return None
    session = change.session
    if "first_day" in snapshot:
        start, end, all_day = _times(
            _moment(snapshot.get("starts_at")),
            _moment(snapshot.get("ends_at")),
            date.fromisoformat(snapshot["first_day"]),
            date.fromisoformat(snapshot["last_day"]),
            zone,
        )
    else:  # only the place changed
        start, end, all_day = _times(
            session.starts_at, session.ends_at, session.first_day, session.last_day, zone
        )
    if "location" in snapshot:  # the place as the event showed it
        location, link = snapshot["location"], snapshot.get("link")
    else:
        venue = snapshot.get("venue", session.venue) or cohort.venue
        link = snapshot.get("online_link", session.online_link) or cohort.online_link
        location, link = _place(session, venue, link)
    return {"start": start, "end": end, "all_day": all_day, "location": location, "link": link}


def _snapshot(session: Session) -> dict[str, Any]:
    return {
        "first_day": session.first_day.isoformat(),
        "last_day": session.last_day.isoformat(),
        "starts_at": session.starts_at.isoformat() if session.starts_at else None,
        "ends_at": session.ends_at.isoformat() if session.ends_at else None,
        "venue": session.venue,
        "online_link": session.online_link,
    }


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _times(
    starts_at: datetime | None,
    ends_at: datetime | None,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
) -> tuple[str, str, bool]:
    """Start and end as the payload has them: moments in the cohort's time
    zone, or the first and the last day included of an all-day session."""
    if starts_at is not None and ends_at is not None:
        return starts_at.astimezone(zone).isoformat(), ends_at.astimezone(zone).isoformat(), False
    return first_day.isoformat(), last_day.isoformat(), True


def _place(session: Session, venue: str | None, link: str | None) -> tuple[str | None, str | None]:
    """Where the session's calendar event says it is (as in the feeds)."""
    return shown_place(session.mode, venue, link)


# --- The words for those who follow a feed ----------------------------------------


def words(payloads: Sequence[Mapping[str, Any]], language: str) -> tuple[str, str]:
    """Subject and plain text of a change in words, with the invitations'
    own sentences (app.notices.wording); the sessions one change touched
    make one message."""
    said = [wording.change_words(p, language) for p in payloads]
    if len(said) == 1:
        return said[0]
    tr = Translator(language)
    cancelling = all((p.get("change") or {}).get("what") in wording.CANCELLING for p in payloads)
    template = "Cancelled: %(cohort)s" if cancelling else "Changes: %(cohort)s"
    subject = tr.gettext(template, cohort=payloads[0]["cohort"])
    return subject, "\n".join(body.strip() for _, body in said) + "\n"
