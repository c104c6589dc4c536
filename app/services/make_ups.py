"""Make-ups: a person who missed an element of their cohort attends a session
of the same element in another cohort, and it counts for their own.

A trainer could always record such a guest by hand on the day
(app.services.attendance.record_make_up). Here a make-up is booked ahead:
an attendance record in the other cohort's session, counting for the
person's cohort (`for_cohort_id`), whose mark stays "not recorded" until the
host cohort's trainer takes attendance that day (the guest is on the host's
attendance grid). The eligibility reasons name it ("make-up booked: …",
cohorts.eligibility) until it is attended. Once its session has begun and
while the mark is still not recorded, the booking stays, waiting for the mark
(`Booking.awaiting_mark`): the reasons say "make-up on …: attendance not
recorded yet", it saves nothing yet, and no other make-up of the element is
offered or booked. Present or done makes the element made up; any other mark
ends the booking, and the element can be made up again. Such a booking can be
cancelled (the person did not come, or will not): the guest leaves the host's
grid, and the person is told only while the session is not over yet.

Where a make-up may be taken: a session of the same element (its key, in a
curriculum of the same lineage, app.services.enrolments.same_curriculum) in
another cohort that is planned or running, not cancelled, has not begun and
has a free place: a cohort of the person's organisation, or of another
organisation its consultants serve (an active consultant's account in both)
when both organisations share their sessions for make-ups
(`Organisation.share_make_ups`). Sessions of another organisation are
offered to, and booked by, those who work in both (the consultant, an
admin of both); everyone else sees their own organisation's.

A session's places are its cohort's capacity; they are held by the cohort's
enrolments, its open waiting-list offers and the make-ups booked into the
session. Booking locks the session's cohort row first (as the waiting lists
do, app.services.waiting_lists.lock) and counts afterwards, so two bookings
of the last place at the same moment do not both succeed.

The codes of the refusals:
- `not_found` (404), `forbidden` (403): not the actor's to see or to do
- `not_enrolled`: the person is not enrolled in the cohort the make-up is for
- `own_cohort`: the session is of the person's own cohort (or one they are enrolled in)
- `not_same_element`: the session is not of an element of the person's curriculum
- `already_attended`: the person attended the element already
- `already_booked`: a make-up of the element is booked already
- `cohort_closed`, `session_cancelled`, `session_begun`: the session takes no make-up
- `session_full`: every place of the session is taken
- `not_a_booking`: the record is not a make-up whose mark is still not recorded (cancelling)
- `cohort_completed`, `cohort_cancelled`, `attendance_deleted`: the host cohort's
  attendance cannot change any more (cancelling a make-up whose session has begun)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Cohort,
    CohortState,
    CurriculumElement,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
    Session,
    SessionStatus,
    User,
)
from app.models.registrations import Registration, RegistrationState
from app.models.users import memberships
from app.services import (
    announcements,
    attendance,
    enrolments,
    history,
    policy,
    reminders,
    waiting_lists,
)
from app.services.errors import DomainError, NotFound
from app.services.policy import Action, Actor
from cohorts.eligibility import Attendance, Mark, attended
from cohorts.eligibility import Booking as Booked
from curricula.messages import msg
from curricula.model import Text

OPEN = (CohortState.PLANNED, CohortState.RUNNING)


class MakeUpRefused(DomainError):
    code = "make_up_refused"


@dataclass(frozen=True)
class Offer:
    """A session where an element can be made up."""

    session_id: int
    cohort_id: int
    cohort_name: str
    element_key: str
    title: Text
    first_day: date
    last_day: date
    starts_at: datetime | None
    ends_at: datetime | None
    all_day: bool
    timezone: str
    free: int | None  # None: the cohort has no capacity set


@dataclass(frozen=True)
class Booking:
    """A make-up booked, still to come or waiting for its mark."""

    record_id: int
    participant_id: int
    for_cohort_id: int
    session_id: int
    cohort_name: str
    element_key: str
    first_day: date
    # The session has begun (or is over) and the host's trainer has not
    # recorded the guest's mark yet.
    awaiting_mark: bool = False

    @property
    def booked(self) -> Booked:
        """What the eligibility rule reads of it (cohorts.eligibility)."""
        return Booked(self.first_day, self.cohort_name, self.awaiting_mark)


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- reading, set-wise -------------------------------------------------------


def lineage_of(curriculum_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each curriculum's lineage (enrolments.same_curriculum): one question
    per distinct curriculum, however many cohorts and people use it."""
    ids = set(curriculum_ids)
    found: dict[int, set[int]] = {}
    for curriculum_id in ids:
        if curriculum_id in found:
            continue
        record = db.session.get(CurriculumRecord, curriculum_id)
        if record is None:
            continue
        lineage = enrolments.same_curriculum(record)
        for member in lineage & ids:
            found[member] = lineage
        found[curriculum_id] = lineage
    return found


def sharing(organisation_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per organisation: where its people may make elements up, itself
    included (one question): the other organisations an active consultant
    serves beside it, when both share their sessions for make-ups."""
    ids = set(organisation_ids)
    found = {i: {i} for i in ids}
    if not ids:
        return found
    mine, theirs = aliased(memberships), aliased(memberships)
    first, second = aliased(Organisation), aliased(Organisation)
    rows = db.session.execute(
        select(mine.c.organisation_id, theirs.c.organisation_id)
        .select_from(mine)
        .join(theirs, theirs.c.user_id == mine.c.user_id)
        .join(User, User.id == mine.c.user_id)
        .join(first, first.id == mine.c.organisation_id)
        .join(second, second.id == theirs.c.organisation_id)
        .where(
            mine.c.organisation_id.in_(ids),
            theirs.c.organisation_id != mine.c.organisation_id,
            User.role == Role.CONSULTANT,
            User.active.is_(True),
            first.share_make_ups.is_(True),
            second.share_make_ups.is_(True),
        )
        .distinct()
    )
    for organisation_id, partner_id in rows:
        found[organisation_id].add(partner_id)
    return found


def has_begun(first_day: date, starts_at: datetime | None, timezone: str, now: datetime) -> bool:
    """As attendance.has_begun, on a session's columns."""
    if starts_at is not None:
        return starts_at <= now
    return first_day <= now.astimezone(ZoneInfo(timezone)).date()


def offers_for(
    wanted: Sequence[tuple[int, int, str]],
    own: dict[int, Cohort],
    now: datetime,
    visible: frozenset[int] | None = None,
) -> dict[tuple[int, int, str], list[Offer]]:
    """Sessions to make an element up in, for each (person id, own cohort id,
    element key) in `wanted`: a fixed number of questions for all of them.
    `visible`: the organisations whose sessions the reader may book (None: all)."""
    found: dict[tuple[int, int, str], list[Offer]] = {w: [] for w in wanted}
    if not wanted:
        return found
    keys = {key for _, _, key in wanted}
    partners = {
        organisation_id: shared if visible is None else shared & visible
        for organisation_id, shared in sharing(
            {own[c].organisation_id for _, c, _ in wanted}
        ).items()
    }
    organisations = set().union(*partners.values())
    lineages = lineage_of(own[c].version.curriculum_id for _, c, _ in wanted)
    curricula = set().union(*lineages.values()) if lineages else set()
    today = now.date()
    guests = (
        select(func.count(AttendanceRecord.id))
        .where(
            AttendanceRecord.session_id == Session.id,
            AttendanceRecord.for_cohort_id != Session.cohort_id,
        )
        .scalar_subquery()
    )
    enrolled = (
        select(func.count(Enrolment.id))
        .where(Enrolment.cohort_id == Cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .scalar_subquery()
    )
    offered = (
        select(func.count(Registration.id))
        .where(
            Registration.cohort_id == Cohort.id,
            Registration.state == RegistrationState.OFFERED,
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Session.id,
            Session.first_day,
            Session.last_day,
            Session.starts_at,
            Session.ends_at,
            Session.all_day,
            Cohort.id,
            Cohort.name,
            Cohort.organisation_id,
            Cohort.timezone,
            Cohort.capacity,
            CurriculumVersion.curriculum_id,
            CurriculumElement.key,
            CurriculumElement.title_de,
            CurriculumElement.title_en,
            guests,
            enrolled,
            offered,
        )
        .join(Cohort, Cohort.id == Session.cohort_id)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(
            Cohort.organisation_id.in_(organisations),
            Cohort.state.in_(OPEN),
            Cohort.attendance_deleted_at.is_(None),
            Session.status == SessionStatus.SCHEDULED,
            Session.first_day >= today,
            CurriculumElement.key.in_(keys),
            CurriculumVersion.curriculum_id.in_(curricula),
        )
        .order_by(Session.first_day, Session.starts_at, Session.id)
    ).all()
    if not rows:
        return found
    people = {p for p, _, _ in wanted}
    hosts = {row[6] for row in rows}
    sessions = {row[0] for row in rows}
    enrolled_in = set(
        db.session.execute(
            select(Enrolment.participant_id, Enrolment.cohort_id).where(
                Enrolment.participant_id.in_(people),
                Enrolment.cohort_id.in_(hosts),
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
        ).all()
    )
    recorded = set(
        db.session.execute(
            select(AttendanceRecord.participant_id, AttendanceRecord.session_id).where(
                AttendanceRecord.participant_id.in_(people),
                AttendanceRecord.session_id.in_(sessions),
            )
        ).all()
    )
    by_key: dict[str, list[tuple[Offer, int, int]]] = {}
    for (
        session_id,
        first_day,
        last_day,
        starts_at,
        ends_at,
        all_day,
        cohort_id,
        cohort_name,
        organisation_id,
        timezone,
        capacity,
        curriculum_id,
        key,
        title_de,
        title_en,
        guest_count,
        enrolled_count,
        offered_count,
    ) in rows:
        if has_begun(first_day, starts_at, timezone, now):
            continue
        free = (
            None if capacity is None else capacity - enrolled_count - offered_count - guest_count
        )
        offer = Offer(
            session_id,
            cohort_id,
            cohort_name,
            key,
            Text(title_de, title_en or title_de),
            first_day,
            last_day,
            starts_at,
            ends_at,
            all_day,
            timezone,
            free,
        )
        by_key.setdefault(key, []).append((offer, organisation_id, curriculum_id))
    for person_id, cohort_id, key in wanted:
        cohort = own[cohort_id]
        lineage = lineages.get(cohort.version.curriculum_id, set())
        found[(person_id, cohort_id, key)] = [
            offer
            for offer, organisation_id, curriculum_id in by_key.get(key, [])
            if organisation_id in partners[cohort.organisation_id]
            and curriculum_id in lineage
            and offer.cohort_id != cohort_id
            and (person_id, offer.cohort_id) not in enrolled_in
            and (person_id, offer.session_id) not in recorded
            and (offer.free is None or offer.free > 0)
        ]
    return found


# The host cohorts whose guests' marks can still be, or have been, recorded.
HOSTING = (CohortState.PLANNED, CohortState.RUNNING, CohortState.COMPLETED)


def bookings_for(cohort_ids: Iterable[int], now: datetime) -> list[Booking]:
    """Make-ups booked for people of these cohorts whose mark is not
    recorded (one question): those still to come first, then those whose
    session has begun (`awaiting_mark`), each in the order of the days. A
    session cancelled, or a host cohort cancelled or with its attendance
    deleted, holds no booking."""
    ids = list(set(cohort_ids))
    if not ids:
        return []
    rows = db.session.execute(
        select(
            AttendanceRecord.id,
            AttendanceRecord.participant_id,
            AttendanceRecord.for_cohort_id,
            Session.id,
            Session.first_day,
            Session.starts_at,
            Cohort.name,
            Cohort.timezone,
            CurriculumElement.key,
        )
        .join(Session, Session.id == AttendanceRecord.session_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(
            AttendanceRecord.for_cohort_id.in_(ids),
            Session.cohort_id != AttendanceRecord.for_cohort_id,
            AttendanceRecord.mark == Mark.NOT_RECORDED,
            Session.status == SessionStatus.SCHEDULED,
            Cohort.state.in_(HOSTING),
            Cohort.attendance_deleted_at.is_(None),
        )
        .order_by(Session.first_day, Session.starts_at, Session.id)
    ).all()
    found = [
        Booking(
            record_id,
            person_id,
            for_cohort,
            session_id,
            name,
            key,
            day,
            has_begun(day, starts_at, zone, now),
        )
        for record_id, person_id, for_cohort, session_id, day, starts_at, name, zone, key in rows
    ]
    return sorted(found, key=lambda b: b.awaiting_mark)  # stable: by day within each


# --- booking and cancelling ----------------------------------------------------


def book(
    actor: Actor,
    participant_id: int,
    for_cohort_id: int,
    session_id: int,
    *,
    now: datetime | None = None,
) -> AttendanceRecord:
    """Books the person into another cohort's session to make its element up
    for their cohort `for_cohort_id`; they get an invitation to it."""
    now = now or now_utc()
    person = policy.get(actor, Participant, participant_id)
    own = policy.get(actor, Cohort, for_cohort_id)
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound()
    host = policy.get(actor, Cohort, session.cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, own.organisation_id)
    policy.require(actor, Action.KEEP_PEOPLE, host.organisation_id)
    if enrolments_of(person.id, [own.id, host.id]).get(own.id) is None:
        raise MakeUpRefused(
            msg("{name} is not enrolled in {cohort}", name=person.name, cohort=own.name),
            code="not_enrolled",
        )
    _refuse_session(person, own, host, session, now)
    waiting_lists.lock(host)
    if enrolments_of(person.id, [host.id]).get(host.id) is not None:
        raise MakeUpRefused(
            msg("{name} is enrolled in {cohort} itself", name=person.name, cohort=host.name),
            code="own_cohort",
        )
    _refuse_twice(person, own, session, now)
    if host.capacity is not None and taken(host, session) >= host.capacity:
        raise MakeUpRefused(
            msg(
                "the session of {cohort} on {day} is full ({capacity} places)",
                cohort=host.name,
                day=session.first_day,
                capacity=host.capacity,
            ),
            code="session_full",
        )
    record = attendance.set_mark(session, person, Mark.NOT_RECORDED, actor.user, for_cohort=own)
    db.session.flush()
    announcements.make_up_booked(session, person, _suffix(record), now=now)
    _history(actor, own, person, session, "make_up_booked")
    return record


def _history(
    actor: Actor, own: Cohort, person: Participant, session: Session, action: str
) -> None:
    """In the history of the cohort the make-up counts for."""
    history.record(
        user=actor.user,
        organisation_id=own.organisation_id,
        cohort_id=own.id,
        subject="make_up",
        subject_id=person.id,
        action=action,
        after={
            "participant": person.name,
            "cohort": session.cohort.name,
            "day": session.first_day.isoformat(),
            "title": {"de": session.element.title("de"), "en": session.element.title("en")},
        },
    )


def cancel(
    actor: Actor, participant_id: int, session_id: int, *, now: datetime | None = None
) -> Booking:
    """Cancels the person's make-up booked in the session whose mark is not
    recorded: still to come, or begun and waiting for its mark (the person
    did not come, or will not). The guest leaves the host's grid; the
    person's calendar entry is cancelled for them while the session is not
    over."""
    now = now or now_utc()
    person = policy.get(actor, Participant, participant_id)
    record = attendance.current_mark(session_id, person.id)
    if record is None:
        raise NotFound()
    own = policy.get(actor, Cohort, record.for_cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, own.organisation_id)
    session = record.session
    host = session.cohort
    if host.id == own.id or record.mark is not Mark.NOT_RECORDED:
        raise MakeUpRefused(
            msg("only a make-up whose attendance is not recorded yet can be cancelled"),
            code="not_a_booking",
        )
    begun = has_begun(session.first_day, session.starts_at, host.timezone, now)
    closed = attendance.closed(host) if begun else None
    if closed is not None:
        raise MakeUpRefused(closed.message, code=closed.code)
    booking = Booking(
        record.id,
        record.participant_id,
        own.id,
        session.id,
        host.name,
        session.element.key,
        session.first_day,
        begun,
    )
    _drop(actor, own, record, now)
    return booking


def _drop(actor: Actor, own: Cohort, record: AttendanceRecord, now: datetime) -> None:
    """Ends one booking: the person is told, the history says so, the place
    is free again and an unsent reminder of it goes."""
    session = record.session
    waiting_lists.lock(session.cohort)
    announcements.make_up_cancelled(session, record.participant, _suffix(record), now=now)
    _history(actor, own, record.participant, session, "make_up_cancelled")
    db.session.execute(delete(AttendanceChange).where(AttendanceChange.attendance_id == record.id))
    db.session.delete(record)
    db.session.flush()
    reminders.refresh_unsent([session.id], now)


def end_with_withdrawal(actor: Actor, enrolment: Enrolment, now: datetime | None = None) -> int:
    """The make-ups booked for the cohort a person is withdrawn from, still
    to come, are cancelled with it: they would hold a place for nobody (an
    undone withdrawal does not book them again). Returns how many."""
    now = now or now_utc()
    own = enrolment.cohort
    records = db.session.scalars(
        select(AttendanceRecord)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(
            AttendanceRecord.participant_id == enrolment.participant_id,
            AttendanceRecord.for_cohort_id == own.id,
            Session.cohort_id != own.id,
            AttendanceRecord.mark == Mark.NOT_RECORDED,
            Session.status == SessionStatus.SCHEDULED,
        )
        .order_by(Session.first_day, Session.id)
    ).all()
    ended = 0
    for record in records:
        session = record.session
        if not has_begun(session.first_day, session.starts_at, session.cohort.timezone, now):
            _drop(actor, own, record, now)
            ended += 1
    return ended


def enrolments_of(participant_id: int, cohort_ids: Sequence[int]) -> dict[int, Enrolment]:
    return {
        e.cohort_id: e
        for e in db.session.scalars(
            select(Enrolment).where(
                Enrolment.participant_id == participant_id,
                Enrolment.cohort_id.in_(list(cohort_ids)),
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
        )
    }


def taken(host: Cohort, session: Session) -> int:
    """The session's places held: enrolments, open offers, make-ups booked."""
    enrolled = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.cohort_id == host.id, Enrolment.status == EnrolmentStatus.ENROLLED
        )
    )
    guests = db.session.scalar(
        select(func.count(AttendanceRecord.id)).where(
            AttendanceRecord.session_id == session.id,
            AttendanceRecord.for_cohort_id != host.id,
        )
    )
    return (enrolled or 0) + waiting_lists.held_by_others(host) + (guests or 0)


def _refuse_session(
    person: Participant, own: Cohort, host: Cohort, session: Session, now: datetime
) -> None:
    if host.id == own.id:
        raise MakeUpRefused(
            msg("the session is one of the person's own cohort"), code="own_cohort"
        )
    if host.organisation_id not in sharing([own.organisation_id])[own.organisation_id]:
        raise NotFound()  # another organisation's session, not shared with the person's
    if host.state not in OPEN or host.attendance_deleted_at is not None:
        raise MakeUpRefused(
            msg("the cohort '{name}' is closed", name=host.name), code="cohort_closed"
        )
    if session.status is not SessionStatus.SCHEDULED:
        raise MakeUpRefused(
            msg("the session is cancelled; no make-up can be booked"), code="session_cancelled"
        )
    if has_begun(session.first_day, session.starts_at, host.timezone, now):
        raise MakeUpRefused(
            msg(
                "the session on {day} has begun; a make-up is booked before", day=session.first_day
            ),
            code="session_begun",
        )
    lineage = lineage_of([own.version.curriculum_id]).get(own.version.curriculum_id, set())
    key = session.element.key
    if host.version.curriculum_id not in lineage or not any(
        e.key == key for e in own.version.model.elements
    ):
        raise MakeUpRefused(
            msg("the session is not of an element of {cohort}", cohort=own.name),
            code="not_same_element",
        )


def _refuse_twice(person: Participant, own: Cohort, session: Session, now: datetime) -> None:
    """Refuses an element attended already, or a make-up of it booked already."""
    key = session.element.key
    board = attendance.grid(own)
    records = attendance.attendance_by_person(own, board).get(person.id, {})
    element = own.version.model.element(key)
    record = records.get(key, Attendance())
    if attended(element, record):
        raise MakeUpRefused(
            msg("{name} attended {element} already", name=person.name, element=element.title),
            code="already_attended",
        )
    booked = [b for b in bookings_for([own.id], now) if b.participant_id == person.id]
    already = next((b for b in booked if b.element_key == key), None)
    if already is not None and already.awaiting_mark:
        raise MakeUpRefused(
            msg(
                "the make-up of {element} on {day} in {cohort} waits for its attendance to be "
                "recorded there; cancel it first to book another",
                element=element.title,
                day=already.first_day,
                cohort=already.cohort_name,
            ),
            code="already_booked",
        )
    if already is not None or attendance.current_mark(session.id, person.id) is not None:
        day = already.first_day if already else session.first_day
        name = already.cohort_name if already else session.cohort.name
        raise MakeUpRefused(
            msg(
                "a make-up of {element} is booked already: {day}, {cohort}",
                element=element.title,
                day=day,
                cohort=name,
            ),
            code="already_booked",
        )


def _suffix(record: AttendanceRecord) -> str:
    """Names the booking in its messages' keys: a booking again after a
    cancelled one is told again."""
    stamp = (record.recorded_at or now_utc()).strftime("%Y%m%dT%H%M%S%f")
    return f":make-up:{record.id}:{stamp}"


def booked_of(cohort_id: int, now: datetime | None = None) -> dict[tuple[int, str], Booked]:
    """What the eligibility rule reads of the make-ups booked for the cohort's
    people: (person id, element key) -> day, cohort and whether it waits for
    its mark (cohorts.eligibility); one still to come before one waiting."""
    found: dict[tuple[int, str], Booked] = {}
    for booking in bookings_for([cohort_id], now or now_utc()):
        found.setdefault((booking.participant_id, booking.element_key), booking.booked)
    return found
