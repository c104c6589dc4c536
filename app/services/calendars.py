"""Calendars of a participant, a trainer and a cohort: which sessions they
show, a cheap fingerprint for HTTP caching, and the iCalendar file.

A feed is rendered only when its fingerprint (ids, versions and states of
what it shows) changed, so a calendar client asking again gets a 304 for
the price of one query.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import joinedload, selectinload

from app.database import read_bind
from app.exports import Rendered
from app.exports.descriptions import session_description, shown_place
from app.exports.ical import CalendarEvent, render_calendar
from app.extensions import db
from app.i18n import Translator
from app.models import (
    AttendanceRecord,
    Certificate,
    Cohort,
    CohortState,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Session,
    SessionStatus,
    User,
)
from app.models.cohorts import session_trainers
from app.models.tokens import AccessToken, Purpose, token_hash
from app.prepared_read import PreparedRead
from app.services import attendance, policy, tandems, tokens
from app.services import certificates as certificate_service
from app.services.errors import NotPermitted
from app.services.policy import Action, Actor
from cohorts.eligibility import Mark
from curricula.messages import msg
from curricula.model import Curriculum, Element

# Bump when the rendering changes, so that cached copies are refreshed.
FORMAT_VERSION = "2"
REFRESH = timedelta(hours=4)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Version:
    """What a client's copy is compared with: a fingerprint of everything the
    feed shows, and when it last changed."""

    etag: str
    last_modified: datetime


def _version(row: Sequence[object], extra: Sequence[object]) -> Version:
    moments = [value for value in row if isinstance(value, datetime)]
    text = "|".join([FORMAT_VERSION, *map(str, extra), *map(str, row)])
    return Version(
        etag=hashlib.sha256(text.encode("utf-8")).hexdigest()[:32],
        last_modified=max(moments, default=_EPOCH).replace(microsecond=0),
    )


# The fingerprints are built once and run as plain statements: a calendar
# client asking again should cost little more than the framework itself.
_S, _C, _E, _T = Session.__table__, Cohort.__table__, Enrolment.__table__, session_trainers
_VISIBLE = or_(_S.c.status == SessionStatus.SCHEDULED, _S.c.updated_at >= bindparam("cutoff"))
# Aggregates that change whenever a visible session changes: every change
# moves its updated_at forward and raises its lock version.
_SUMMARY = (
    func.count(_S.c.id),
    func.coalesce(func.sum(_S.c.lock_version), 0),
    func.coalesce(func.sum(_S.c.id), 0),
    func.max(_S.c.updated_at),
    func.max(_C.c.updated_at),
    func.coalesce(func.sum(_C.c.lock_version), 0),
)
_K = AccessToken.__table__


def _branch(purpose: Purpose, joins, subject_column, extra=()):  # type: ignore[no-untyped-def]
    """The state of one kind of feed, found through its token: a row only when
    an active token of `purpose` has the hash given."""
    return (
        select(_K.c.purpose, _K.c.subject_id, *_SUMMARY, *extra)
        .select_from(joins)
        .where(
            _K.c.token_hash == bindparam("hash"),
            _K.c.revoked_at.is_(None),
            _K.c.purpose == purpose,
        )
        .group_by(_K.c.id)
    )


# Which enrolments count, and when they last changed: withdrawing sets
# withdrawn_at, enrolling again clears it and adds to the active ones.
_ENROLMENTS = (
    func.count(_E.c.id.distinct()),
    func.count(case((_E.c.status == EnrolmentStatus.ENROLLED, _E.c.id)).distinct()),
    func.max(_E.c.enrolled_at),
    func.max(_E.c.withdrawn_at),
)
_A = AttendanceRecord.__table__
_GUEST = _S.alias("guest_sessions")


def _make_ups(subject):  # type: ignore[no-untyped-def]
    """The sessions of other cohorts the person makes up (booked or done),
    as two values that change with them: a booking added or cancelled
    changes the sum of the bookings' ids (they only grow), and any change of
    such a session moves its updated_at to the newest."""
    booked = (
        select()
        .select_from(_A.join(_GUEST, _GUEST.c.id == _A.c.session_id))
        .where(
            _A.c.participant_id == subject,
            _A.c.for_cohort_id != _GUEST.c.cohort_id,
            or_(
                _GUEST.c.status == SessionStatus.SCHEDULED,
                _GUEST.c.updated_at >= bindparam("cutoff"),
            ),
        )
    )
    return (
        booked.add_columns(func.coalesce(func.sum(_A.c.id), 0)).scalar_subquery(),
        booked.add_columns(func.max(_GUEST.c.updated_at)).scalar_subquery(),
    )


_NO_ENROLMENTS = (literal(0), literal(0), null(), null(), literal(0), null())
# One statement for a feed request: which token, and the fingerprint of its feed.
_FEED_STATE = PreparedRead(
    union_all(
        _branch(
            Purpose.PARTICIPANT_FEED,
            _K.outerjoin(_E, _E.c.participant_id == _K.c.subject_id)
            .outerjoin(_C, _C.c.id == _E.c.cohort_id)
            .outerjoin(
                _S,
                and_(_S.c.cohort_id == _C.c.id, _E.c.status == EnrolmentStatus.ENROLLED, _VISIBLE),
            ),
            _E.c.participant_id,
            (*_ENROLMENTS, *_make_ups(_K.c.subject_id)),
        ),
        _branch(
            Purpose.TRAINER_FEED,
            _K.outerjoin(_T, _T.c.user_id == _K.c.subject_id)
            .outerjoin(_S, and_(_S.c.id == _T.c.session_id, _VISIBLE))
            .outerjoin(_C, _C.c.id == _S.c.cohort_id),
            _T.c.user_id,
            _NO_ENROLMENTS,
        ),
        _branch(
            Purpose.COHORT_FEED,
            _K.join(_C, _C.c.id == _K.c.subject_id).outerjoin(
                _S, and_(_S.c.cohort_id == _C.c.id, _VISIBLE)
            ),
            _C.c.id,
            _NO_ENROLMENTS,
        ),
    )
)


@dataclass(frozen=True)
class FeedState:
    purpose: Purpose
    subject_id: int
    version: Version


def feed_state(
    token: str, language: str, now: datetime, keep_cancelled: timedelta
) -> FeedState | None:
    """The feed a token opens and its current version, in one query; None for a
    token that is unknown, revoked or not a feed token."""
    if not token or len(token) > 100:
        return None
    params = {"hash": token_hash(token), "cutoff": now - keep_cancelled}
    row = _FEED_STATE.first(read_bind(), params)
    if row is None:
        return None
    purpose, subject, *state = row
    names = {Purpose.PARTICIPANT_FEED: "participant", Purpose.TRAINER_FEED: "trainer"}
    kind = names.get(purpose, "cohort")
    return FeedState(purpose, subject, _version(tuple(state), (kind, subject, language, True)))


def _visible(now: datetime, keep_cancelled: timedelta):  # type: ignore[no-untyped-def]
    """Cancelled sessions stay visible (as cancelled) for a while, then go."""
    return or_(
        Session.status == SessionStatus.SCHEDULED,
        Session.updated_at >= now - keep_cancelled,
    )


def _fingerprint(
    statement,
    kind: str,
    subject: int,
    language: str,
    refresh: bool,  # type: ignore[no-untyped-def]
    now: datetime,
    keep_cancelled: timedelta,
) -> Version:
    cutoff = now - keep_cancelled
    row = db.session.connection().execute(statement, {"subject": subject, "cutoff": cutoff}).one()
    return _version(tuple(row), (kind, subject, language, refresh))


_PARTICIPANT = (
    select(*_SUMMARY, *_ENROLMENTS, *_make_ups(bindparam("subject")))
    .select_from(
        _E.join(_C, _C.c.id == _E.c.cohort_id).outerjoin(
            _S,
            and_(_S.c.cohort_id == _C.c.id, _E.c.status == EnrolmentStatus.ENROLLED, _VISIBLE),
        )
    )
    .where(_E.c.participant_id == bindparam("subject"))
)
_TRAINER = (
    select(*_SUMMARY, *_NO_ENROLMENTS)
    .select_from(
        _T.outerjoin(_S, and_(_S.c.id == _T.c.session_id, _VISIBLE)).outerjoin(
            _C, _C.c.id == _S.c.cohort_id
        )
    )
    .where(_T.c.user_id == bindparam("subject"))
)
_COHORT = (
    select(*_SUMMARY, *_NO_ENROLMENTS)
    .select_from(_C.outerjoin(_S, and_(_S.c.cohort_id == _C.c.id, _VISIBLE)))
    .where(_C.c.id == bindparam("subject"))
)


def participant_version(
    participant_id: int, language: str, refresh: bool, now: datetime, keep_cancelled: timedelta
) -> Version:
    """One query, one row: the participant's enrolments and the visible
    sessions of the cohorts they are enrolled in."""
    return _fingerprint(
        _PARTICIPANT, "participant", participant_id, language, refresh, now, keep_cancelled
    )


def trainer_version(
    user_id: int, language: str, refresh: bool, now: datetime, keep_cancelled: timedelta
) -> Version:
    return _fingerprint(_TRAINER, "trainer", user_id, language, refresh, now, keep_cancelled)


def cohort_version(
    cohort_id: int, language: str, refresh: bool, now: datetime, keep_cancelled: timedelta
) -> Version:
    return _fingerprint(_COHORT, "cohort", cohort_id, language, refresh, now, keep_cancelled)


def names_changed(cohort_ids: Iterable[int]) -> None:
    """A name that feeds show besides their sessions changed (a tandem
    partner renamed or erased): moving these cohorts' updated_at gives every
    feed that shows them a new fingerprint, so no client and no process keeps
    the old name. Not their lock version: no open cohort form is out of date."""
    ids = sorted(set(cohort_ids))
    if ids:
        db.session.execute(
            update(Cohort).where(Cohort.id.in_(ids)).values(updated_at=datetime.now(UTC)),
            execution_options={"synchronize_session": False},
        )


@dataclass(frozen=True)
class Feed:
    """What one calendar shows, before it is rendered."""

    name: str
    filename: str
    sessions: tuple[Session, ...]
    for_staff: bool
    note: str | None = None
    # Per cohort, the names of a participant's tandem partners.
    partners: Mapping[int, Sequence[str]] = field(default_factory=dict)


def _with_details(query: Select[tuple[Session]], now: datetime, keep_cancelled: timedelta):  # type: ignore[no-untyped-def]
    """The visible sessions with what rendering them needs, in one go."""
    return (
        query.where(_visible(now, keep_cancelled))
        .options(
            joinedload(Session.cohort).joinedload(Cohort.version),
            joinedload(Session.element),
            selectinload(Session.trainers),
        )
        .order_by(Session.first_day, Session.starts_at, Session.id)
    )


def participant_feed(
    participant: Participant, tr: Translator, now: datetime, keep_cancelled: timedelta
) -> Feed:
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.participant_id == participant.id)
        .options(joinedload(Enrolment.cohort))
    ).all()
    active = [e.cohort_id for e in enrolments if e.status is EnrolmentStatus.ENROLLED]
    sessions = db.session.scalars(
        _with_details(
            select(Session).where(
                or_(Session.cohort_id.in_(active), Session.id.in_(_made_up_by(participant.id)))
            ),
            now,
            keep_cancelled,
        )
    ).all()
    cohort_names = sorted({e.cohort.name for e in enrolments if e.cohort_id in active})
    note = None
    if not active:
        note = tr.localize(
            msg(
                "You are not enrolled in any cohort (any more); this calendar stays empty. "
                "You can remove the subscription."
            )
        )
    return Feed(
        name="Qualiplan – " + (", ".join(cohort_names) or tr.gettext("no cohort")),
        filename=f"Qualiplan {participant.name}.ics",
        sessions=tuple(sessions),
        for_staff=False,
        note=note,
        partners=tandems.partners(participant.id),
    )


def _made_up_by(participant_id: int):  # type: ignore[no-untyped-def]
    """The sessions of other cohorts the person makes up there (booked or done)."""
    return (
        select(AttendanceRecord.session_id)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(
            AttendanceRecord.participant_id == participant_id,
            AttendanceRecord.for_cohort_id != Session.cohort_id,
        )
    )


def trainer_feed(user: User, tr: Translator, now: datetime, keep_cancelled: timedelta) -> Feed:
    query = (
        select(Session)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(session_trainers.c.user_id == user.id)
    )
    sessions = db.session.scalars(_with_details(query, now, keep_cancelled)).unique().all()
    return Feed(
        name=tr.gettext("Qualiplan – sessions of %(name)s", name=user.name),
        filename=f"Qualiplan {user.name}.ics",
        sessions=tuple(sessions),
        for_staff=True,
    )


def cohort_feed(cohort: Cohort, tr: Translator, now: datetime, keep_cancelled: timedelta) -> Feed:
    query = select(Session).where(Session.cohort_id == cohort.id)
    sessions = db.session.scalars(_with_details(query, now, keep_cancelled)).all()
    return Feed(
        name=f"Qualiplan – {cohort.name}",
        filename=f"Qualiplan {cohort.name}.ics",
        sessions=tuple(sessions),
        for_staff=True,
    )


_RENDERED: OrderedDict[str, Rendered] = OrderedDict()
_RENDERED_MAX = 512
_RENDERED_LOCK = threading.Lock()


def render_cached(
    version: Version, build: Callable[[], Feed], tr: Translator, *, refresh: bool
) -> Rendered:
    """The rendered file for `version`, built only when this process has not
    rendered that exact content before (the fingerprint covers all of it)."""
    with _RENDERED_LOCK:
        cached = _RENDERED.get(version.etag)
        if cached is not None:
            _RENDERED.move_to_end(version.etag)
            return cached
    rendered = render(build(), tr, refresh=refresh, stamp=version.last_modified)
    with _RENDERED_LOCK:
        _RENDERED[version.etag] = rendered
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return rendered


def render(
    feed: Feed, tr: Translator, *, refresh: bool, stamp: datetime | None = None
) -> Rendered:
    events = [_event(session, feed, tr) for session in feed.sessions]
    zone = feed.sessions[0].cohort.timezone if feed.sessions else "Europe/Berlin"
    return render_calendar(
        feed.name,
        events,
        filename=feed.filename,
        dtstamp=stamp or datetime.now(UTC),
        timezone=zone,
        refresh=REFRESH if refresh else None,
        description=feed.note,
    )


def _described_by(session: Session) -> tuple[Curriculum, Element]:
    """The curriculum and element that describe a session: the cohort's
    version, or, for a session cancelled because a newer version dropped its
    element, the version it was planned on."""
    model = session.cohort.version.model
    try:
        return model, model.element(session.element.key)
    except KeyError:
        model = session.element.version.model
        return model, model.element(session.element.key)


def _event(session: Session, feed: Feed, tr: Translator) -> CalendarEvent:
    cohort = session.cohort
    model, element = _described_by(session)
    venue, link = shown_place(session.mode, session.effective_venue, session.effective_link)
    zone = ZoneInfo(cohort.timezone)
    if session.starts_at is not None and session.ends_at is not None:
        start: datetime | object = session.starts_at.astimezone(zone)
        end: datetime | object = session.ends_at.astimezone(zone)
    else:
        start, end = session.first_day, session.last_day
    title = element.title.get(tr.language)
    summary = f"{title} ({cohort.name})" if feed.for_staff else title
    cancelled = session.status is SessionStatus.CANCELLED or cohort.state is CohortState.CANCELLED
    return CalendarEvent(
        uid=session.uid,
        summary=summary,
        start=start,  # type: ignore[arg-type]
        end=end,  # type: ignore[arg-type]
        sequence=session.revision,
        description=session_description(element, tr, link=link, extra=_extra(session, feed, tr)),
        location=venue,
        url=link,
        cancelled=cancelled,
        categories=(model.kind_title(element.kind).get(tr.language),),
        stamp=session.updated_at,
    )


def _extra(session: Session, feed: Feed, tr: Translator) -> list[str]:
    """Staff see who trains; participants see only who their tandem partners are."""
    if feed.for_staff and session.trainers:
        names = ", ".join(t.name for t in session.trainers)
        return [tr.gettext("Trainers: %(names)s", names=names)]
    partners = feed.partners.get(session.cohort_id)
    if partners:
        return [tr.gettext("Your tandem: %(names)s", names=", ".join(partners))]
    return []


def build_feed(
    purpose: Purpose, subject_id: int, tr: Translator, now: datetime, keep_cancelled: timedelta
) -> Feed | None:
    """The feed a token of `purpose` shows; None when its subject is gone (or,
    for a trainer, no longer active)."""
    if purpose is Purpose.PARTICIPANT_FEED:
        participant = db.session.get(Participant, subject_id)
        return participant_feed(participant, tr, now, keep_cancelled) if participant else None
    if purpose is Purpose.TRAINER_FEED:
        user = db.session.get(User, subject_id)
        if user is None or not user.active:
            return None
        return trainer_feed(user, tr, now, keep_cancelled)
    cohort = db.session.get(Cohort, subject_id)
    return cohort_feed(cohort, tr, now, keep_cancelled) if cohort else None


# Subscriptions: a new address ends the earlier one of the same calendar.


def subscribe_cohort(actor: Actor, cohort_id: int) -> tuple[Cohort, str]:
    """A new feed address for the cohort's calendar, shown once."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.SHARE_LINKS, cohort.organisation_id)
    token = tokens.issue(Purpose.COHORT_FEED, cohort.id, cohort.organisation_id, actor.user)
    return cohort, token


def end_cohort_feed(actor: Actor, cohort_id: int) -> Cohort:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.SHARE_LINKS, cohort.organisation_id)
    tokens.revoke(Purpose.COHORT_FEED, cohort.id)
    return cohort


def subscribe_own(actor: Actor) -> str:
    """A new feed address for the sessions the actor trains."""
    organisation_id = min(actor.organisation_ids or (), default=None)
    if actor.user is None or organisation_id is None:
        raise NotPermitted()
    return tokens.issue(Purpose.TRAINER_FEED, actor.user.id, organisation_id, actor.user)


def end_own_feed(actor: Actor) -> None:
    if actor.user is None:
        raise NotPermitted()
    tokens.revoke(Purpose.TRAINER_FEED, actor.user.id)


# The participant's personal page: the secret link is the only key, so these
# take the participant it opened, not an actor.

PAGES = frozenset({Purpose.PERSONAL_PAGE})


def subscribe_participant(participant: Participant) -> str:
    return tokens.issue(
        Purpose.PARTICIPANT_FEED, participant.id, participant.organisation_id, None
    )


def end_participant_feed(participant: Participant) -> None:
    tokens.revoke(Purpose.PARTICIPANT_FEED, participant.id)


@dataclass(frozen=True)
class PersonalPage:
    participant: Participant
    cohorts: list[Cohort]
    sessions: list[Session]
    # Self-study phases marked done, and those the participant may mark now.
    done: set[int]
    markable: set[int]
    partners: Mapping[int, Sequence[str]]
    feed: AccessToken | None
    certificates: list[Certificate]
    # The participant's own mark per session, where one was recorded.
    marks: Mapping[int, Mark] = field(default_factory=dict)
    # Sessions of other cohorts made up for a cohort, by that cohort's id.
    make_ups: Mapping[int, Sequence[Session]] = field(default_factory=dict)

    def sessions_of(self, cohort: Cohort) -> list[Session]:
        return [s for s in self.sessions if s.cohort_id == cohort.id]

    def make_ups_of(self, cohort: Cohort) -> Sequence[Session]:
        return self.make_ups.get(cohort.id, ())

    def certificates_of(self, cohort: Cohort) -> list[Certificate]:
        return [c for c in self.certificates if c.cohort_id == cohort.id]


def personal_page(participant: Participant, now: datetime) -> PersonalPage:
    """Everything the participant's own page shows, cohort by cohort (a
    person in two cohorts sees each apart: its sessions, trainers, tandem,
    marks and certificate)."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.participant_id == participant.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
        .options(
            joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
            joinedload(Enrolment.cohort)
            .joinedload(Cohort.version)
            .joinedload(CurriculumVersion.curriculum),
        )
    ).all()
    cohorts = sorted((e.cohort for e in enrolments), key=lambda c: (c.start_date, c.id))
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(Session.cohort_id.in_([c.id for c in cohorts]))
            .options(joinedload(Session.element), joinedload(Session.cohort))
            .order_by(Session.first_day, Session.starts_at)
        )
    )
    make_ups: dict[int, list[Session]] = {}
    for for_cohort_id, session in db.session.execute(
        select(AttendanceRecord.for_cohort_id, Session)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(
            AttendanceRecord.participant_id == participant.id,
            AttendanceRecord.for_cohort_id.in_([c.id for c in cohorts]),
            AttendanceRecord.for_cohort_id != Session.cohort_id,
        )
        .options(joinedload(Session.element), joinedload(Session.cohort))
        .order_by(Session.first_day, Session.starts_at)
    ):
        make_ups.setdefault(for_cohort_id, []).append(session)
    shown = [s.id for s in sessions] + [s.id for found in make_ups.values() for s in found]
    rows = db.session.execute(
        select(AttendanceRecord.session_id, AttendanceRecord.mark).where(
            AttendanceRecord.participant_id == participant.id,
            AttendanceRecord.session_id.in_(shown),
        )
    )
    marks: dict[int, Mark] = {session_id: mark for session_id, mark in rows}
    return PersonalPage(
        participant=participant,
        cohorts=cohorts,
        sessions=sessions,
        done={session_id for session_id, mark in marks.items() if mark is Mark.DONE},
        markable=attendance.own_self_study_open(participant, sessions, now),
        partners=tandems.partners(participant.id),
        feed=tokens.current(Purpose.PARTICIPANT_FEED, participant.id),
        certificates=certificate_service.of_participant(participant.id),
        marks=marks,
        make_ups=make_ups,
    )
