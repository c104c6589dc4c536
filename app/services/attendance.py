"""Taking attendance and deciding eligibility from it.

A mark is written at once for each tap; every write also lands in the
change history with the value before, so when two trainers save the same
cell at the same moment the later one wins and both stay on record.

Which mark may be set, by whom and when is decided here once, for every
door (the grid, the participant's personal page, the API):

- staff whose role may take attendance (`Action.TAKE_ATTENDANCE`) in the
  cohort's organisation mark anyone enrolled; a participant reached by their
  personal link marks only their own self-paced phases, done or not done;
- only in a cohort that is neither cancelled nor completed (a completed
  cohort is read-only until an admin reopens it) and whose attendance was
  not deleted at the end of the retention period;
- only for a scheduled session that has begun: a timed one at its start, a
  whole-day span on its first day in the cohort's time zone;
- only for someone enrolled by the session's first day (who came later is
  not expected there and makes the element up in another cohort);
- only a mark that fits the session: present, absent, excused or partly for
  a session; done or not done for a whole-day phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.marks import WORDS
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Cohort,
    CohortState,
    CurriculumElement,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Session,
    SessionStatus,
    User,
)
from app.services import participants, policy
from app.services.errors import DomainError, InvalidInput, NotFound, StaleEdit
from app.services.policy import Action, Actor
from cohorts.eligibility import Attendance, Decision, Mark, decide
from curricula.messages import Message, msg
from curricula.model import Mode

# What one tap sets next: sessions, and self-study phases.
SESSION_CYCLE = (Mark.NOT_RECORDED, Mark.PRESENT, Mark.ABSENT, Mark.EXCUSED, Mark.PARTLY)
PHASE_CYCLE = (Mark.NOT_RECORDED, Mark.DONE, Mark.NOT_DONE)
PARTLY_DEFAULT_MINUTES = 30


MAX_MINUTES_MISSED = 600


def least_minutes(mark: Mark) -> int:
    """A partly mark misses some time; another misses none, so 0 is fine
    there (and not kept)."""
    return 1 if mark is Mark.PARTLY else 0


def minutes_range(mark: Mark) -> Message:
    """The minutes a door may send with `mark`, as its refusal says them."""
    return msg(
        "the minutes missed lie between {least} and {most}",
        least=least_minutes(mark),
        most=MAX_MINUTES_MISSED,
    )


# The grid's minutes field is shown for partly marks only, with this range.
MINUTES_RANGE = minutes_range(Mark.PARTLY)

# How many people a guest search shows at most: a name narrows it further.
GUEST_MATCHES = 20


def next_mark(current: Mark, all_day: bool) -> Mark:
    cycle = PHASE_CYCLE if all_day else SESSION_CYCLE
    index = cycle.index(current) if current in cycle else 0
    return cycle[(index + 1) % len(cycle)]


def marks_for(session: Session) -> tuple[Mark, ...]:
    """The marks that fit a session: a whole-day phase is done or not."""
    return PHASE_CYCLE if session.all_day else SESSION_CYCLE


def enrolled_on(enrolment: Enrolment, cohort: Cohort) -> date:
    """The day of the enrolment where the cohort meets."""
    return enrolment.enrolled_at.astimezone(ZoneInfo(cohort.timezone)).date()


def has_begun(session: Session, now: datetime) -> bool:
    """A timed session has begun at its start; a whole-day span on its
    first day where the cohort meets."""
    if not session.all_day and session.starts_at is not None:
        return session.starts_at <= now
    return session.first_day <= now.astimezone(ZoneInfo(session.cohort.timezone)).date()


@dataclass(frozen=True)
class Grid:
    sessions: list[Session]
    people: list[Participant]
    marks: dict[tuple[int, int], AttendanceRecord]
    enrolled_on: dict[int, date]

    def expected(self, session: Session, person: Participant) -> bool:
        """Whether the person was enrolled by the session's first day."""
        return self.enrolled_on[person.id] <= session.first_day

    def mark(self, session: Session, person: Participant) -> Mark:
        if not self.expected(session, person):
            return Mark.NOT_EXPECTED
        record = self.marks.get((session.id, person.id))
        return record.mark if record else Mark.NOT_RECORDED

    def minutes(self, session: Session, person: Participant) -> int:
        record = self.marks.get((session.id, person.id))
        return record.minutes_missed if record else 0

    def rate(self, session: Session) -> tuple[int, int]:
        """People present (or done) and people expected: no names, no ranking."""
        expected = [p for p in self.people if self.expected(session, p)]
        present = sum(
            1 for p in expected if self.mark(session, p) in (Mark.PRESENT, Mark.PARTLY, Mark.DONE)
        )
        return present, len(expected)


def grid(cohort: Cohort) -> Grid:
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(Session.cohort_id == cohort.id, Session.status == SessionStatus.SCHEDULED)
            .options(joinedload(Session.element))
            .order_by(Session.first_day, Session.starts_at, Session.id)
        )
    )
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .options(joinedload(Enrolment.participant))
    ).all()
    people = sorted((e.participant for e in enrolments), key=lambda p: p.sort_key)
    records = db.session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.session_id.in_([s.id for s in sessions]))
    ).all()
    return Grid(
        sessions=sessions,
        people=people,
        marks={(r.session_id, r.participant_id): r for r in records},
        enrolled_on={e.participant_id: enrolled_on(e, cohort) for e in enrolments},
    )


def set_mark(
    session: Session,
    person: Participant,
    mark: Mark,
    actor: User | None,
    *,
    minutes: int = 0,
    for_cohort: Cohort | None = None,
) -> AttendanceRecord:
    """Write one mark now, with its change on record. The write alone, without
    the rules: the doors go through `record_mark` and its siblings below;
    this is for data that is known to be right (the demo, test fixtures)."""
    if mark is not Mark.PARTLY:
        minutes = 0
    elif minutes <= 0:
        minutes = PARTLY_DEFAULT_MINUTES
    record = _record(session, person)
    if record is None:
        try:
            with db.session.begin_nested():
                record = AttendanceRecord(
                    session=session,
                    participant=person,
                    for_cohort=for_cohort or session.cohort,
                )
                db.session.add(record)
        except IntegrityError:
            # Someone else wrote the first mark of this cell a moment ago.
            record = _record(session, person)
            assert record is not None  # noqa: S101 -- the other write is committed
    before_mark, before_minutes = record.mark or Mark.NOT_RECORDED, record.minutes_missed or 0
    record.mark, record.minutes_missed, record.recorded_by = mark, minutes, actor
    db.session.add(
        AttendanceChange(
            attendance=record,
            user=actor,
            before_mark=before_mark,
            before_minutes=before_minutes,
            after_mark=mark,
            after_minutes=minutes,
        )
    )
    return record


def _record(session: Session, person: Participant) -> AttendanceRecord | None:
    return current_mark(session.id, person.id)


def current_mark(session_id: int, participant_id: int) -> AttendanceRecord | None:
    """The cell's record as stored, if any (after `record_mark` found it visible)."""
    return db.session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.session_id == session_id,
            AttendanceRecord.participant_id == participant_id,
        )
    )


def _fill_open(session: Session, people: Sequence[Participant], actor: User | None) -> int:
    """Everyone expected and not yet recorded is present (or done); marks
    already taken stay. Returns how many were marked."""
    mark = Mark.DONE if session.all_day else Mark.PRESENT
    changed = 0
    for person in people:
        record = _record(session, person)
        if record is None or record.mark is Mark.NOT_RECORDED:
            set_mark(session, person, mark, actor)
            changed += 1
    return changed


@dataclass(frozen=True)
class Guest:
    participant: Participant
    cohort: Cohort  # the cohort the make-up counts for
    mark: Mark | None  # None: not recorded in this session yet


def _may_make_up(session: Session):  # type: ignore[no-untyped-def]
    """Enrolled in another cohort of the organisation whose curriculum has
    this session's element: who may make the element up here."""
    cohort = session.cohort
    has_element = exists().where(
        CurriculumElement.version_id == Cohort.version_id,
        CurriculumElement.key == session.element.key,
    )
    return (
        select(Participant, Cohort)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(
            Cohort.organisation_id == cohort.organisation_id,
            Cohort.id != cohort.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            has_element,
        )
    )


def find_guests(actor: Actor, session: Session, query: str) -> tuple[list[Guest], bool]:
    """People the participants list finds for `query` (the same search:
    case, accents and umlaut spellings aside) who may make this session's
    element up here, in a cohort still open for marks, and are not yet
    recorded in this session: at most GUEST_MATCHES of them, and whether
    there are more. Bounded, however many years the organisation has."""
    found_by_name = participants.matching(
        actor, query, participants.Filters(organisation_id=session.cohort.organisation_id)
    ).with_only_columns(Participant.id)
    statement = _may_make_up(session).where(
        Participant.id.in_(found_by_name),
        Cohort.state.not_in([CohortState.CANCELLED, CohortState.COMPLETED]),
        Cohort.attendance_deleted_at.is_(None),
        ~exists().where(
            AttendanceRecord.session_id == session.id,
            AttendanceRecord.participant_id == Participant.id,
        ),
    )
    rows = db.session.execute(
        statement.order_by(
            Participant.last_name, Participant.first_name, Cohort.start_date, Cohort.id
        ).limit(GUEST_MATCHES + 1)
    ).all()
    found = [Guest(person, other, None) for person, other in rows[:GUEST_MATCHES]]
    return found, len(rows) > GUEST_MATCHES


def _guest(session: Session, participant_id: int, for_cohort_id: int) -> Guest | None:
    """The person as a guest for their cohort, if they may make the element
    up: of the organisation, or booked here already (app.services.make_ups
    checked the booking, also for an organisation that shares its sessions)."""
    booked = db.session.execute(
        select(Participant, Cohort)
        .join(AttendanceRecord, AttendanceRecord.participant_id == Participant.id)
        .join(Cohort, Cohort.id == AttendanceRecord.for_cohort_id)
        .where(
            AttendanceRecord.session_id == session.id,
            AttendanceRecord.participant_id == participant_id,
            AttendanceRecord.for_cohort_id == for_cohort_id,
            Cohort.id != session.cohort_id,
        )
    ).first()
    if booked:
        return Guest(booked[0], booked[1], None)
    row = db.session.execute(
        _may_make_up(session).where(Participant.id == participant_id, Cohort.id == for_cohort_id)
    ).first()
    return Guest(row[0], row[1], None) if row else None


def guests_of(sessions: Sequence[Session]) -> dict[int, list[AttendanceRecord]]:
    """Make-ups recorded in these sessions (of one cohort), for people of
    other cohorts: one question for all sessions."""
    found: dict[int, list[AttendanceRecord]] = {s.id: [] for s in sessions}
    if not sessions:
        return found
    records = db.session.scalars(
        select(AttendanceRecord)
        .where(
            AttendanceRecord.session_id.in_(list(found)),
            AttendanceRecord.for_cohort_id != sessions[0].cohort_id,
        )
        .options(
            joinedload(AttendanceRecord.participant),
            joinedload(AttendanceRecord.for_cohort),
        )
        .order_by(AttendanceRecord.id)
    )
    for record in records:
        found[record.session_id].append(record)
    return found


def guests(session: Session) -> list[AttendanceRecord]:
    """Make-ups recorded in this session, for people of other cohorts."""
    return guests_of([session])[session.id]


def decisions(cohort: Cohort, board: Grid) -> dict[int, Decision]:
    """The certificate decision of everyone enrolled, with reasons."""
    curriculum = cohort.version.model
    return {
        person_id: decide(curriculum, records)
        for person_id, records in attendance_by_person(cohort, board).items()
    }


def attendance_by_person(cohort: Cohort, board: Grid) -> dict[int, dict[str, Attendance]]:
    """What the eligibility rule reads: each person's attendance per element
    key, with the make-ups done elsewhere and those booked still to come."""
    from app.services.make_ups import booked_of  # make_ups reads this module

    made_up, booked = _made_up(cohort), booked_of(cohort.id)
    return {
        person.id: {
            session.element.key: Attendance(
                mark=board.mark(session, person),
                minutes_missed=board.minutes(session, person),
                day=session.first_day,
                made_up=made_up.get((person.id, session.element.key)),
                booked=booked.get((person.id, session.element.key)),
            )
            for session in board.sessions
        }
        for person in board.people
    }


def _made_up(cohort: Cohort) -> dict[tuple[int, str], date]:
    """Elements people of this cohort attended in another cohort's session."""
    rows = db.session.execute(
        select(AttendanceRecord.participant_id, Session.first_day, CurriculumElement.key)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(
            AttendanceRecord.for_cohort_id == cohort.id,
            Session.cohort_id != cohort.id,
            AttendanceRecord.mark.in_([Mark.PRESENT, Mark.DONE]),
        )
    ).all()
    return {(person, key): day for person, day, key in rows}


# The rules of taking attendance (see the module's text) and the use cases
# every door calls. Each check answers the refusal it stands for, or None, so
# the pages can show beforehand what a tap would be refused for.


def closed(cohort: Cohort) -> DomainError | None:
    """Why none of the cohort's marks can change, if so."""
    if cohort.state is CohortState.CANCELLED:
        return DomainError(
            msg("the cohort is cancelled; its attendance cannot change"), code="cohort_cancelled"
        )
    if cohort.state is CohortState.COMPLETED:
        return DomainError(
            msg(
                "the cohort is completed; its attendance can change only after an admin reopens it"
            ),
            code="cohort_completed",
        )
    if cohort.attendance_deleted_at is not None:
        return DomainError(
            msg(
                "the attendance details of the cohort were deleted "
                "at the end of the retention period"
            ),
            code="attendance_deleted",
        )
    return None


def not_open(session: Session, now: datetime) -> DomainError | None:
    """Why no mark can be taken in `session` at `now`, if so."""
    refused = closed(session.cohort)
    if refused is not None:
        return refused
    if session.status is not SessionStatus.SCHEDULED:
        return DomainError(
            msg("the session is cancelled; no attendance is taken"), code="session_cancelled"
        )
    if not has_begun(session, now):
        zone = ZoneInfo(session.cohort.timezone)
        start: date | datetime = (
            session.starts_at.astimezone(zone)
            if not session.all_day and session.starts_at is not None
            else session.first_day
        )
        return DomainError(
            msg("the session has not begun yet; attendance is taken from {start}", start=start),
            code="session_not_begun",
        )
    return None


def _unfit(session: Session, mark: Mark) -> DomainError | None:
    if mark in marks_for(session):
        return None
    return DomainError(
        msg("'{mark}' cannot be set for this session", mark=mark.value),
        code="mark_not_for_session",
        field="mark",
    )


def _not_expected(enrolment: Enrolment, session: Session) -> DomainError | None:
    day = enrolled_on(enrolment, session.cohort)
    if day <= session.first_day:
        return None
    return DomainError(
        msg(
            "enrolled on {enrolled}, after the session on {day}; "
            "the element can be made up in another cohort",
            enrolled=day,
            day=session.first_day,
        ),
        code="enrolled_after_session",
    )


def _refuse(*refusals: DomainError | None) -> None:
    for refusal in refusals:
        if refusal is not None:
            raise refusal


def _marking(actor: Actor, cohort_id: int, session_id: int) -> tuple[Cohort, Session]:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.TAKE_ATTENDANCE, cohort.organisation_id)
    session = db.session.get(Session, session_id)
    if session is None or session.cohort_id != cohort.id:
        raise NotFound()
    return cohort, session


def _active_enrolment(cohort_id: int, participant_id: int) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort_id,
            Enrolment.participant_id == participant_id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    )


def record_mark(
    actor: Actor,
    cohort_id: int,
    session_id: int,
    participant_id: int,
    mark: Mark | str,
    *,
    minutes: int | None = None,
    now: datetime | None = None,
    expected: Mark | str | None = None,
) -> AttendanceRecord:
    """Set one person's mark in one session (a tap in the grid, a PUT of the
    API), under the rules of the module's text. `mark` may be the value as
    sent: records the actor may not see are not found before it is read.

    `expected` is the mark the tapping person saw. When given, a mark that
    someone else changed since is not overwritten (StaleEdit, code
    `mark_changed`, naming who set what), and a tap sent again after its
    answer was lost changes nothing and answers as the first time."""
    now = now or datetime.now(UTC)
    cohort, session = _marking(actor, cohort_id, session_id)
    person = policy.get(actor, Participant, participant_id)
    enrolment = _active_enrolment(cohort.id, person.id)
    if enrolment is None:
        # Both records are visible to the actor: a refusal, not a missing record.
        raise DomainError(msg("the person is not enrolled in this cohort"), code="not_enrolled")
    try:
        mark = Mark(mark)
    except ValueError:
        raise InvalidInput(
            msg("this mark cannot be set here"), code="invalid_mark", field="mark"
        ) from None
    kept = minutes_missed(mark, minutes)
    _refuse(not_open(session, now), _unfit(session, mark), _not_expected(enrolment, session))
    if expected is not None:
        record = _record(session, person)
        if record is not None and _holds(record, mark, kept):
            return record
        _refuse(_changed_meanwhile(record, expected))
    return set_mark(session, person, mark, actor.user, minutes=kept)


def minutes_missed(mark: Mark, minutes: int | None) -> int:
    """The minutes missed kept with `mark`, as a door sent them; the rule of
    the grid and the API alike. None given is the usual 30 for partly (a tap
    on partly). A count given for partly lies between 1 and the most: 0 is
    refused, not taken as 30; for another mark, which misses no time, it
    lies between 0 and the most and is not kept."""
    if minutes is not None and not least_minutes(mark) <= minutes <= MAX_MINUTES_MISSED:
        raise InvalidInput(minutes_range(mark), code="invalid_minutes", field="minutes_missed")
    if mark is not Mark.PARTLY:
        return 0
    return PARTLY_DEFAULT_MINUTES if minutes is None else minutes


def _holds(record: AttendanceRecord | None, mark: Mark, minutes: int) -> bool:
    if record is None:
        return mark is Mark.NOT_RECORDED
    return record.mark is mark and record.minutes_missed == minutes


def _changed_meanwhile(record: AttendanceRecord | None, expected: Mark | str) -> StaleEdit | None:
    try:
        seen = Mark(expected)
    except ValueError:
        return StaleEdit(code="mark_changed")
    current = record.mark if record is not None else Mark.NOT_RECORDED
    if current is seen:
        return None
    who = record.recorded_by.name if record is not None and record.recorded_by else None
    return StaleEdit(
        msg(
            "in the meantime {who} set this mark to '{mark}'; yours was not saved",
            who=who or msg("someone else"),
            mark=WORDS[current],
        ),
        code="mark_changed",
    )


@dataclass(frozen=True)
class MarkChange:
    """One cell of the grid as a form sent it: the mark chosen, and the mark
    the page showed when it was loaded."""

    session_id: int
    participant_id: int
    mark: str
    minutes: int | None  # None: not given
    seen: str


@dataclass(frozen=True)
class NotSaved:
    session: Session
    participant: Participant
    reason: Message


def record_marks(
    actor: Actor, cohort_id: int, changes: Sequence[MarkChange], *, now: datetime | None = None
) -> tuple[int, list[NotSaved]]:
    """Many cells at once (the grid sent as a form, without its script):
    each under the rules of `record_mark`, which refuse the whole form.
    Cells someone else changed since the page was loaded keep their mark and
    are named in the answer; the others are saved. Returns how many were."""
    now = now or datetime.now(UTC)
    # Who may not mark here is refused even when nothing was changed.
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.TAKE_ATTENDANCE, cohort.organisation_id)
    saved, not_saved = 0, []
    for change in changes:
        try:
            record_mark(
                actor,
                cohort_id,
                change.session_id,
                change.participant_id,
                change.mark,
                minutes=change.minutes,
                now=now,
                expected=change.seen,
            )
        except StaleEdit as stale:
            session = db.session.get(Session, change.session_id)
            person = db.session.get(Participant, change.participant_id)
            assert session is not None  # noqa: S101 -- found by record_mark
            assert person is not None  # noqa: S101 -- found by record_mark
            not_saved.append(NotSaved(session, person, stale.message))
        else:
            saved += 1
    return saved, not_saved


@dataclass(frozen=True)
class Tally:
    """The counters a tap changes: the session's, the cohort's, the person's."""

    present: int
    expected: int
    eligible: int
    people: int
    decision: Decision


def tally(record: AttendanceRecord) -> Tally:
    """The counters after `record` was written, read as the grid reads them."""
    session, cohort = record.session, record.session.cohort
    board = grid(cohort)
    decided = decisions(cohort, board)
    shown = next(s for s in board.sessions if s.id == session.id)
    present, expected = board.rate(shown)
    return Tally(
        present=present,
        expected=expected,
        eligible=sum(1 for d in decided.values() if d.eligible),
        people=len(board.people),
        decision=decided[record.participant_id],
    )


def mark_all_present(
    actor: Actor, cohort_id: int, session_id: int, *, now: datetime | None = None
) -> int:
    """Everyone expected in the session and not yet recorded is present (or
    done); marks already taken stay. Returns how many were set."""
    now = now or datetime.now(UTC)
    cohort, session = _marking(actor, cohort_id, session_id)
    _refuse(not_open(session, now))
    board = grid(cohort)
    return _fill_open(session, [p for p in board.people if board.expected(session, p)], actor.user)


def record_make_up(
    actor: Actor,
    cohort_id: int,
    session_id: int,
    participant_id: int,
    for_cohort_id: int,
    *,
    now: datetime | None = None,
) -> AttendanceRecord:
    """Someone of another cohort attended this session to make its element
    up; it counts for their own cohort, which must be open for marks too.
    Who came later to their own cohort is exactly who makes an element up,
    so the date of their enrolment does not matter here."""
    now = now or datetime.now(UTC)
    _, session = _marking(actor, cohort_id, session_id)
    _refuse(not_open(session, now))
    guest = _guest(session, participant_id, for_cohort_id)
    if guest is None:
        raise InvalidInput(msg("choose someone from the list"), code="not_a_guest", field="guest")
    _refuse(closed(guest.cohort))
    mark = Mark.DONE if session.all_day else Mark.PRESENT
    return set_mark(session, guest.participant, mark, actor.user, for_cohort=guest.cohort)


def is_self_paced(session: Session) -> bool:
    return session.all_day and session.mode == Mode.SELF_PACED


def _own_refusal(
    session: Session, enrolment: Enrolment | None, now: datetime
) -> DomainError | None:
    if enrolment is None:
        return NotFound()
    if not is_self_paced(session):
        return DomainError(
            msg("only self-paced phases are marked here; the trainers record the sessions"),
            code="not_self_paced",
        )
    return not_open(session, now) or _not_expected(enrolment, session)


def record_own_self_study(
    participant: Participant, session_id: int, done: bool, *, now: datetime | None = None
) -> AttendanceRecord:
    """A participant, reached by their personal link (which is their only
    key, so there is no role to check), marks one of their own self-paced
    phases done or not done. A session of a cohort they are not enrolled in
    is not found."""
    now = now or datetime.now(UTC)
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound()
    _refuse(_own_refusal(session, _active_enrolment(session.cohort_id, participant.id), now))
    return set_mark(session, participant, Mark.DONE if done else Mark.NOT_DONE, None)


def own_self_study_open(
    participant: Participant, sessions: Sequence[Session], now: datetime
) -> set[int]:
    """The ids among `sessions` that the participant may mark now."""
    enrolments = {
        e.cohort_id: e
        for e in db.session.scalars(
            select(Enrolment).where(
                Enrolment.participant_id == participant.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
        )
    }
    return {s.id for s in sessions if _own_refusal(s, enrolments.get(s.cohort_id), now) is None}


@dataclass(frozen=True)
class GuestSearch:
    """Who a search for a guest of one session found."""

    session_id: int
    query: str
    found: list[Guest]
    more: bool  # more people match than are shown: the name narrows it


@dataclass(frozen=True)
class Page:
    """What the attendance page of a cohort shows to one actor."""

    cohort: Cohort
    board: Grid
    decisions: dict[int, Decision]
    guests: dict[int, list[AttendanceRecord]]
    # Whether the actor's role may take attendance and the cohort is open for it.
    can_record: bool
    # Why the cohort's attendance is read-only, if it is.
    closed: Message | None
    # Sessions not open for marks yet (or any more), with the reason.
    waiting: dict[int, Message]
    # A search for a guest, when one was asked for in a session open for marks.
    guest_search: GuestSearch | None = None

    def takes_marks(self, session: Session) -> bool:
        return self.can_record and session.id not in self.waiting


def attendance_page(
    actor: Actor,
    cohort_id: int,
    *,
    now: datetime | None = None,
    guest_search: tuple[int, str] | None = None,
) -> Page:
    """The grid, its counters and the make-ups, in a number of questions to
    the database that does not grow with the sessions, the people or the
    years of data. `guest_search` is a session's id and a name to look for."""
    now = now or datetime.now(UTC)
    cohort = policy.get(actor, Cohort, cohort_id)
    board = grid(cohort)
    refusal = closed(cohort)
    can_record = refusal is None and policy.may(
        actor, Action.TAKE_ATTENDANCE, cohort.organisation_id
    )
    waiting = {}
    for session in board.sessions:
        why = not_open(session, now)
        if why is not None:
            waiting[session.id] = why.message
    search = None
    if can_record and guest_search is not None and guest_search[1].strip():
        session_id, query = guest_search
        searched = next((s for s in board.sessions if s.id == session_id), None)
        if searched is not None and searched.id not in waiting:
            found, more = find_guests(actor, searched, query)
            search = GuestSearch(searched.id, query.strip(), found, more)
    return Page(
        cohort=cohort,
        board=board,
        decisions=decisions(cohort, board),
        guests=guests_of(board.sessions),
        can_record=can_record,
        closed=refusal.message if refusal else None,
        waiting=waiting,
        guest_search=search,
    )
