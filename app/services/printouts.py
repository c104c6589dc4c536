"""What the paper of a cohort says: the sign-in sheet of a session, the
schedule, the attendance report.

Who may see the cohort may print it: every list shows what the cohort's
pages already show that person (names, departments and sites of the people
enrolled, the marks of the attendance page and what the certificate rule
decides), and nothing else — no e-mail addresses, employee numbers or
managers. A cohort of another organisation is not found.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.exports.attendance_report import (
    AttendanceReport,
    ReportMark,
    ReportPerson,
    ReportSession,
)
from app.exports.cohort_schedule_pdf import CohortSchedule, ScheduledSession
from app.exports.sign_in_sheet import SignInPerson, SignInSheet
from app.extensions import db
from app.models import Cohort, Enrolment, EnrolmentStatus, Session, SessionStatus
from app.services import attendance, policy
from app.services.cohorts import local_today
from app.services.errors import DomainError, NotFound
from app.services.policy import Actor
from cohorts.eligibility import decide
from curricula.messages import msg
from curricula.model import MODE_TITLES, Mode


def has_sign_in_sheet(session: Session) -> bool:
    """A session at a time people meet; a phase of whole days (videos,
    self-study) is marked done in the attendance grid instead."""
    return (
        not session.all_day
        and session.starts_at is not None
        and session.ends_at is not None
        and session.status is SessionStatus.SCHEDULED
    )


def sign_in_sheet(actor: Actor, cohort_id: int, session_id: int, language: str) -> SignInSheet:
    """The people expected in the session (enrolled by its first day), in
    alphabetical order."""
    cohort = policy.get(actor, Cohort, cohort_id)
    session = db.session.get(Session, session_id, options=[selectinload(Session.trainers)])
    if session is None or session.cohort_id != cohort.id:
        raise NotFound()
    if session.status is not SessionStatus.SCHEDULED:
        raise DomainError(
            msg("the session is cancelled; it has no sign-in sheet"), code="session_cancelled"
        )
    if not has_sign_in_sheet(session):
        raise DomainError(
            msg(
                "a phase of whole days has no sign-in sheet; "
                "it is marked done in the attendance grid"
            ),
            code="no_sign_in_sheet",
        )
    starts, ends = _local_times(session)
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .options(selectinload(Enrolment.participant))
    ).all()
    people = sorted(
        (
            e.participant
            for e in enrolments
            if attendance.enrolled_on(e, cohort) <= session.first_day
        ),
        key=lambda p: p.sort_key,
    )
    mode = Mode(session.mode)
    return SignInSheet(
        organisation=cohort.organisation.name,
        programme=cohort.version.curriculum.title(language),
        cohort=cohort.name,
        session=session.element.title(language),
        day=session.first_day,
        starts=starts,
        ends=ends,
        mode=MODE_TITLES[mode].get(language),
        venue=_venue(session, mode),
        online_link=_link(session, mode),
        trainers=tuple(t.name for t in session.trainers),
        people=tuple(
            SignInPerson(p.first_name, p.last_name, p.department, p.site) for p in people
        ),
    )


def schedule(actor: Actor, cohort_id: int, language: str, *, now: datetime) -> CohortSchedule:
    """Every session that takes place, in order, with local times."""
    cohort = policy.get(actor, Cohort, cohort_id)
    sessions = db.session.scalars(
        select(Session)
        .where(Session.cohort_id == cohort.id, Session.status == SessionStatus.SCHEDULED)
        .options(selectinload(Session.trainers), selectinload(Session.element))
        .order_by(Session.first_day, Session.starts_at, Session.id)
    ).all()
    printed = []
    for session in sessions:
        mode = Mode(session.mode)
        starts, ends = _local_times(session) if has_sign_in_sheet(session) else (None, None)
        printed.append(
            ScheduledSession(
                title=session.element.title(language),
                first_day=session.first_day,
                last_day=session.last_day,
                starts=starts,
                ends=ends,
                mode=MODE_TITLES[mode].get(language),
                venue=_venue(session, mode),
                online_link=_link(session, mode),
                trainers=tuple(t.name for t in session.trainers),
            )
        )
    return CohortSchedule(
        organisation=cohort.organisation.name,
        programme=cohort.version.curriculum.title(language),
        cohort=cohort.name,
        trainers=tuple(t.name for t in cohort.trainers),
        as_of=local_today(cohort, now),
        sessions=tuple(printed),
    )


def attendance_report(
    actor: Actor, cohort_id: int, language: str, *, now: datetime
) -> AttendanceReport:
    """The attendance page on paper: the same grid, the same marks, the same
    decisions of the certificate rule (including elements made up in
    another cohort)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    if cohort.attendance_deleted_at is not None:
        raise DomainError(
            msg(
                "the attendance details of the cohort were deleted "
                "at the end of the retention period"
            ),
            code="attendance_deleted",
        )
    board = attendance.grid(cohort)
    records = attendance.attendance_by_person(cohort, board)
    curriculum = cohort.version.model
    keys = [s.element.key for s in board.sessions]
    people = []
    for person in board.people:
        # What the certificate rule reads is what the report prints.
        read = records[person.id]
        decision = decide(curriculum, read)
        people.append(
            ReportPerson(
                first_name=person.first_name,
                last_name=person.last_name,
                department=person.department,
                site=person.site,
                marks=tuple(
                    ReportMark(read[key].mark, read[key].minutes_missed, read[key].made_up)
                    for key in keys
                ),
                eligible=decision.eligible,
                reasons=() if decision.eligible else decision.reasons,
                teaching_units=curriculum.units(decision.teaching_hours),
            )
        )
    sessions = []
    for session in board.sessions:
        present, expected = board.rate(session)
        sessions.append(
            ReportSession(
                title=session.element.title(language),
                first_day=session.first_day,
                last_day=session.last_day,
                present=present,
                expected=expected,
            )
        )
    return AttendanceReport(
        organisation=cohort.organisation.name,
        programme=cohort.version.curriculum.title(language),
        cohort=cohort.name,
        trainers=tuple(t.name for t in cohort.trainers),
        as_of=local_today(cohort, now),
        sessions=tuple(sessions),
        people=tuple(people),
        teaching_units=curriculum.teaching_units,
        unit_minutes=curriculum.unit_minutes,
    )


def _local_times(session: Session) -> tuple[time, time]:
    """Start and end where the cohort meets, of a session that has both."""
    zone = ZoneInfo(session.cohort.timezone)
    if session.starts_at is None or session.ends_at is None:
        raise ValueError("a session of whole days has no times")
    return session.starts_at.astimezone(zone).time(), session.ends_at.astimezone(zone).time()


def _venue(session: Session, mode: Mode) -> str:
    """Where to come: for sessions in person (as the calendars say it)."""
    return (session.effective_venue or "") if mode in (Mode.IN_PERSON, Mode.EITHER) else ""


def _link(session: Session, mode: Mode) -> str:
    return (session.effective_link or "") if mode in (Mode.ONLINE, Mode.EITHER) else ""
