"""Taking attendance and deciding eligibility from it.

A mark is written at once for each tap; every write also lands in the
change history with the value before, so when two trainers save the same
cell at the same moment the later one wins and both stay on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Cohort,
    CurriculumElement,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Session,
    SessionStatus,
    User,
)
from cohorts.eligibility import Attendance, Decision, Mark, decide

# What one tap sets next: sessions, and self-study phases.
SESSION_CYCLE = (Mark.NOT_RECORDED, Mark.PRESENT, Mark.ABSENT, Mark.EXCUSED, Mark.PARTLY)
PHASE_CYCLE = (Mark.NOT_RECORDED, Mark.DONE, Mark.NOT_DONE)
PARTLY_DEFAULT_MINUTES = 30


def next_mark(current: Mark, all_day: bool) -> Mark:
    cycle = PHASE_CYCLE if all_day else SESSION_CYCLE
    index = cycle.index(current) if current in cycle else 0
    return cycle[(index + 1) % len(cycle)]


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
            .options(selectinload(Session.element))
            .order_by(Session.first_day, Session.starts_at, Session.id)
        )
    )
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .options(selectinload(Enrolment.participant))
    ).all()
    zone = ZoneInfo(cohort.timezone)
    people = sorted((e.participant for e in enrolments), key=lambda p: p.sort_key)
    records = db.session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.session_id.in_([s.id for s in sessions]))
    ).all()
    return Grid(
        sessions=sessions,
        people=people,
        marks={(r.session_id, r.participant_id): r for r in records},
        enrolled_on={e.participant_id: e.enrolled_at.astimezone(zone).date() for e in enrolments},
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
    """Write one mark now, with its change on record."""
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
    return db.session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id,
            AttendanceRecord.participant_id == person.id,
        )
    )


def all_present(session: Session, people: Sequence[Participant], actor: User | None) -> int:
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


def guest_candidates(session: Session) -> list[Guest]:
    """People of the organisation in other open cohorts whose curriculum has
    this session's element: they may make it up here."""
    cohort = session.cohort
    rows = db.session.execute(
        select(Participant, Cohort)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(CurriculumElement, CurriculumElement.version_id == Cohort.version_id)
        .where(
            Cohort.organisation_id == cohort.organisation_id,
            Cohort.id != cohort.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            CurriculumElement.key == session.element.key,
        )
        .order_by(Participant.last_name, Participant.first_name, Cohort.start_date)
        .limit(500)
    ).all()
    recorded = {
        r.participant_id: r.mark
        for r in db.session.scalars(
            select(AttendanceRecord).where(AttendanceRecord.session_id == session.id)
        )
    }
    return [Guest(person, other, recorded.get(person.id)) for person, other in rows]


def guests(session: Session) -> list[AttendanceRecord]:
    """Make-ups recorded in this session, for people of other cohorts."""
    return list(
        db.session.scalars(
            select(AttendanceRecord)
            .where(
                AttendanceRecord.session_id == session.id,
                AttendanceRecord.for_cohort_id != session.cohort_id,
            )
            .options(
                selectinload(AttendanceRecord.participant),
                selectinload(AttendanceRecord.for_cohort),
            )
        )
    )


def decisions(cohort: Cohort, board: Grid) -> dict[int, Decision]:
    """The certificate decision of everyone enrolled, with reasons."""
    curriculum = cohort.version.model
    return {
        person_id: decide(curriculum, records)
        for person_id, records in attendance_by_person(cohort, board).items()
    }


def attendance_by_person(cohort: Cohort, board: Grid) -> dict[int, dict[str, Attendance]]:
    """What the eligibility rule reads: each person's attendance per element key."""
    made_up = _made_up(cohort)
    return {
        person.id: {
            session.element.key: Attendance(
                mark=board.mark(session, person),
                minutes_missed=board.minutes(session, person),
                day=session.first_day,
                made_up=made_up.get((person.id, session.element.key)),
            )
            for session in board.sessions
        }
        for person in board.people
    }


def _made_up(cohort: Cohort) -> dict[tuple[int, str], date]:
    """Elements people of this cohort attended in another cohort's session."""
    rows = db.session.execute(
        select(AttendanceRecord.participant_id, Session.first_day, Session.element_id)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(
            AttendanceRecord.for_cohort_id == cohort.id,
            Session.cohort_id != cohort.id,
            AttendanceRecord.mark.in_([Mark.PRESENT, Mark.DONE]),
        )
    ).all()
    keys = {
        e.id: e.key
        for e in db.session.scalars(
            select(CurriculumElement).where(
                CurriculumElement.id.in_([element_id for _, _, element_id in rows])
            )
        )
    }
    return {(person, keys[element]): day for person, day, element in rows}
