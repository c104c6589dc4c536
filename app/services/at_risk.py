"""The at-risk list: people who can no longer reach the certificate in their
own cohort (cohorts.at_risk), with the reasons and the make-ups that would
save it (app.services.make_ups).

No ranking and no score (the works council's condition, PRODUCT.md): the
list is in the order of the cohorts and the names, and says only what was
missed and what would save it.

Everything is read set-wise: the cohorts, their sessions, their people,
their marks, the make-ups made and booked, and the sessions that could take
a make-up, each in one question for all cohorts and people (the lineage of
each curriculum in use once), so that the list of an organisation's current
cohorts asks the same whatever their number and size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    AttendanceRecord,
    Cohort,
    CurriculumElement,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Session,
    SessionStatus,
)
from app.models.cohorts import session_trainers
from app.services import make_ups, policy
from app.services.make_ups import OPEN, Booking, Offer
from app.services.policy import Action, Actor
from cohorts.at_risk import Risk, assess
from cohorts.eligibility import Attendance, Mark
from cohorts.eligibility import Booking as Booked
from curricula.messages import Message
from curricula.model import Text


@dataclass(frozen=True)
class Missed:
    """One element the person could make up, with the sessions to do it in."""

    key: str
    title: Text
    booking: Booking | None
    offers: list[Offer]


@dataclass(frozen=True)
class Entry:
    """One person at risk in one of their cohorts."""

    participant: Participant
    cohort: Cohort
    risk: Risk
    reasons: tuple[Message, ...]
    missed: list[Missed]

    @property
    def saved(self) -> bool:
        return self.risk.saved


@dataclass(frozen=True)
class AtRisk:
    entries: list[Entry]
    can_book: bool
    cohorts: list[Cohort] = field(default_factory=list)
    # How many people are at risk in all, and per cohort id: more than the
    # entries when the list was cut (the overview names the cohorts instead).
    total: int = 0
    per_cohort: dict[int, int] = field(default_factory=dict)

    @property
    def cut(self) -> bool:
        return self.total > len(self.entries)

    def counted(self) -> list[tuple[Cohort, int]]:
        return [(c, self.per_cohort[c.id]) for c in self.cohorts if self.per_cohort.get(c.id)]


# The marks after which an element may be lost (cohorts.at_risk).
MISSES = frozenset({Mark.ABSENT, Mark.EXCUSED, Mark.NOT_DONE, Mark.PARTLY, Mark.NOT_EXPECTED})
# The overview and a cohort's page show this many people; the cohort's own
# at-risk page shows all of its, PAGE_SIZE at a time. Each person brings
# the sessions of every element they could make up, so a list of sixty
# would make a page of a megabyte.
OVERVIEW_LIMIT = 10
PAGE_SIZE = 20
# A cohort is current for the overview from its start until this long after
# its last session (planned cohorts left unfinished years ago are not).
CURRENT_AFTER = timedelta(days=90)
# ... and from this long before its start (a session of a required element
# cancelled already puts its people at risk).
STARTING_WITHIN = timedelta(days=30)


def _booked(booking: Booking | None) -> Booked | None:
    return booking.booked if booking else None


def _now() -> datetime:
    return datetime.now(UTC)


def of_organisations(
    actor: Actor,
    *,
    now: datetime | None = None,
    limit: int | None = OVERVIEW_LIMIT,
    trainer_id: int | None = None,
) -> AtRisk:
    """The list of the current cohorts of the actor's organisations: planned
    or running, starting within STARTING_WITHIN or begun, and with a session
    in the last CURRENT_AFTER or later; the first `limit` people, and how
    many there are per cohort. With `trainer_id`, only the cohorts where
    that user trains a session."""
    now = now or _now()
    today = now.date()
    recent = (
        select(Session.id)
        .where(Session.cohort_id == Cohort.id, Session.last_day >= today - CURRENT_AFTER)
        .exists()
    )
    query = select(Cohort).where(
        Cohort.state.in_(OPEN),
        Cohort.attendance_deleted_at.is_(None),
        Cohort.start_date <= today + STARTING_WITHIN,
        recent,
    )
    if actor.organisation_ids is not None:
        query = query.where(Cohort.organisation_id.in_(actor.organisation_ids))
    if trainer_id is not None:
        query = query.where(
            select(Session.id)
            .join(session_trainers, session_trainers.c.session_id == Session.id)
            .where(Session.cohort_id == Cohort.id, session_trainers.c.user_id == trainer_id)
            .exists()
        )
    cohorts = _cohorts(query)
    return _at_risk(cohorts, now, actor, limit=limit)


def _at_risk(
    cohorts: list[Cohort],
    now: datetime,
    actor: Actor,
    participant_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> AtRisk:
    entries, per_cohort = _entries(cohorts, now, actor, participant_id, limit, offset)
    return AtRisk(
        entries,
        _can_book(actor, cohorts),
        cohorts,
        total=sum(per_cohort.values()),
        per_cohort=per_cohort,
    )


def of_cohort(
    actor: Actor,
    cohort_id: int,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> AtRisk:
    """The cohort's people at risk, in the order of their names: `limit`
    of them from `offset` (all without a limit); `total` counts all."""
    now = now or _now()
    cohort = policy.get(actor, Cohort, cohort_id)
    cohorts = [] if cohort.state not in OPEN or cohort.attendance_deleted_at else [cohort]
    found = _at_risk(cohorts, now, actor, limit=limit, offset=offset)
    return replace(found, can_book=_can_book(actor, [cohort]))


def of_participant(actor: Actor, participant_id: int, *, now: datetime | None = None) -> AtRisk:
    """The person's current cohorts where they are at risk."""
    now = now or _now()
    person = policy.get(actor, Participant, participant_id)
    cohorts = _cohorts(
        select(Cohort)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(
            Enrolment.participant_id == person.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Cohort.state.in_(OPEN),
            Cohort.attendance_deleted_at.is_(None),
        )
    )
    return _at_risk(cohorts, now, actor, person.id)


def _can_book(actor: Actor, cohorts: Sequence[Cohort]) -> bool:
    return all(policy.may(actor, Action.KEEP_PEOPLE, c.organisation_id) for c in cohorts)


def _cohorts(query) -> list[Cohort]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            query.options(
                joinedload(Cohort.version).joinedload(CurriculumVersion.curriculum)
            ).order_by(Cohort.start_date, Cohort.name, Cohort.id)
        ).unique()
    )


LATE = (Mark.NOT_EXPECTED, 0)  # enrolled after the session
OPEN_MARK = (Mark.NOT_RECORDED, 0)


def _records(
    own: Sequence[tuple[int, str, date]],
    marks: Sequence[tuple[Mark, int]],
    elsewhere: dict[str, date],
    bookings: dict[str, Booking],
) -> dict[str, Attendance]:
    """What cohorts.at_risk reads of one person: per element key, the mark
    of the own cohort's session, a make-up done elsewhere or booked."""
    records: dict[str, Attendance] = {}
    for (_, key, first_day), (mark, minutes) in zip(own, marks, strict=True):
        records[key] = Attendance(
            mark=mark,
            minutes_missed=minutes,
            day=first_day,
            made_up=elsewhere.get(key),
            booked=_booked(bookings.get(key)),
        )
    for key in {*elsewhere, *bookings} - records.keys():  # no session of it here
        records[key] = Attendance(made_up=elsewhere.get(key), booked=_booked(bookings.get(key)))
    return records


def _entries(
    cohorts: Sequence[Cohort],
    now: datetime,
    actor: Actor,
    participant_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Entry], dict[int, int]]:
    """`limit` entries from `offset` (all without a limit), and how many
    people are at risk per cohort id."""
    if not cohorts:
        return [], {}
    # Sessions of other organisations only for those who may book there.
    visible = actor.organisation_ids
    by_id = {c.id: c for c in cohorts}
    ids = list(by_id)
    # The sessions of the cohorts, per cohort: (id, element key, first day).
    sessions: dict[int, list[tuple[int, str, date]]] = {i: [] for i in ids}
    for session_id, cohort_id, key, first_day in db.session.execute(
        select(Session.id, Session.cohort_id, CurriculumElement.key, Session.first_day)
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(Session.cohort_id.in_(ids), Session.status == SessionStatus.SCHEDULED)
        .order_by(Session.first_day, Session.starts_at, Session.id)
    ):
        sessions[cohort_id].append((session_id, key, first_day))
    # Who is enrolled, since when (in the cohort's time zone).
    query = select(Enrolment.cohort_id, Enrolment.enrolled_at, Enrolment.participant_id).where(
        Enrolment.cohort_id.in_(ids), Enrolment.status == EnrolmentStatus.ENROLLED
    )
    if participant_id is not None:
        query = query.where(Enrolment.participant_id == participant_id)
    people: dict[int, list[tuple[int, date]]] = {i: [] for i in ids}
    zones = {i: ZoneInfo(c.timezone) for i, c in by_id.items()}
    for cohort_id, enrolled_at, person_id in db.session.execute(query):
        people[cohort_id].append((person_id, enrolled_at.astimezone(zones[cohort_id]).date()))
    # The marks of the cohorts' own sessions.
    marks_query = (
        select(
            AttendanceRecord.session_id,
            AttendanceRecord.participant_id,
            AttendanceRecord.mark,
            AttendanceRecord.minutes_missed,
        )
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(Session.cohort_id.in_(ids), AttendanceRecord.for_cohort_id == Session.cohort_id)
    )
    if participant_id is not None:
        marks_query = marks_query.where(AttendanceRecord.participant_id == participant_id)
    marks = {(s, p): (mark, minutes) for s, p, mark, minutes in db.session.execute(marks_query)}
    # Elements made up in other cohorts, and make-ups booked.
    made_query = (
        select(
            AttendanceRecord.participant_id,
            AttendanceRecord.for_cohort_id,
            CurriculumElement.key,
            Session.first_day,
        )
        .join(Session, Session.id == AttendanceRecord.session_id)
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(
            AttendanceRecord.for_cohort_id.in_(ids),
            Session.cohort_id != AttendanceRecord.for_cohort_id,
            AttendanceRecord.mark.in_([Mark.PRESENT, Mark.DONE]),
        )
    )
    if participant_id is not None:
        made_query = made_query.where(AttendanceRecord.participant_id == participant_id)
    # Per person and cohort: elements made up elsewhere, and make-ups booked.
    made_up: dict[tuple[int, int], dict[str, date]] = {}
    for p, c, k, day in db.session.execute(made_query):
        made_up.setdefault((p, c), {})[k] = day
    booked: dict[tuple[int, int], dict[str, Booking]] = {}
    for made in make_ups.bookings_for(ids, now):
        booked.setdefault((made.participant_id, made.for_cohort_id), {}).setdefault(
            made.element_key, made
        )

    # Only someone who missed something (or came later than a session) can
    # have lost a part, unless the cohort lacks a session of an element:
    # then everyone is asked. The rest is skipped, which a large list feels.
    missed_by = {p for (_, p), (mark, _) in marks.items() if mark in MISSES}
    risks: list[tuple[int, Cohort, Risk]] = []
    for cohort in cohorts:
        cohort_id, curriculum = cohort.id, cohort.version.model
        today = now.astimezone(zones[cohort_id]).date()
        own = sessions[cohort_id]
        days: dict[str, list[date]] = {}
        for _, key, first_day in own:
            days.setdefault(key, []).append(first_day)
        everyone = any(e.key not in days for e in curriculum.elements)
        # People with the same marks share one answer (most do): weighed
        # once per pattern of marks, make-ups and bookings.
        weighed: dict[tuple[object, ...], Risk] = {}
        first = min((day for _, _, day in own), default=None)
        for person_id, enrolled_on in people[cohort_id]:
            if not (
                everyone or person_id in missed_by or (first is not None and enrolled_on > first)
            ):
                continue
            elsewhere = made_up.get((person_id, cohort_id), {})
            bookings = booked.get((person_id, cohort_id), {})
            pattern = (
                tuple(
                    LATE
                    if enrolled_on > first_day
                    else marks.get((session_id, person_id), OPEN_MARK)
                    for session_id, _, first_day in own
                ),
                tuple(sorted(elsewhere.items())),
                tuple(
                    sorted(
                        (k, b.first_day, b.cohort_name, b.awaiting_mark)
                        for k, b in bookings.items()
                    )
                ),
            )
            risk = weighed.get(pattern)
            if risk is None:
                records = _records(own, pattern[0], elsewhere, bookings)
                risk = weighed[pattern] = assess(curriculum, records, days, today)
            if risk.at_risk:
                risks.append((person_id, cohort, risk))
    if not risks:
        return [], {}
    per_cohort: dict[int, int] = {}
    for _, cohort, _ in risks:
        per_cohort[cohort.id] = per_cohort.get(cohort.id, 0) + 1
    order = {c.id: n for n, c in enumerate(cohorts)}
    if limit is not None and len(risks) > offset + limit:
        # The first cohorts' people, read by name only for those cohorts.
        kept, counted = [], 0
        for cohort in cohorts:
            if counted >= offset + limit:
                break
            kept.extend(r for r in risks if r[1].id == cohort.id)
            counted += per_cohort.get(cohort.id, 0)
        risks = kept
    persons = {
        p.id: p
        for p in db.session.scalars(
            select(Participant).where(Participant.id.in_({p for p, _, _ in risks}))
        )
    }
    entries = sorted(
        ((persons[p], cohort, risk) for p, cohort, risk in risks),
        key=lambda e: (order[e[1].id], e[0].sort_key),
    )
    if limit is not None:
        entries = entries[offset : offset + limit]
    wanted = [
        (person.id, cohort.id, key)
        for person, cohort, risk in entries
        for key in risk.elements
        if key not in booked.get((person.id, cohort.id), {})
    ]
    offers = make_ups.offers_for(wanted, by_id, now, visible)
    found = []
    for person, cohort, risk in entries:
        curriculum = cohort.version.model
        mine = booked.get((person.id, cohort.id), {})
        missed = [
            Missed(
                key,
                curriculum.element(key).title,
                mine.get(key),
                offers.get((person.id, cohort.id, key), []),
            )
            for key in risk.elements
        ]
        reasons = tuple(lost.reason for lost in risk.lost)
        found.append(Entry(person, cohort, risk, reasons, missed))
    return found, per_cohort
