"""Two bookings of a session's last place at the same moment, in two
processes on one database: one gets the place, the other is refused as
full. On PostgreSQL the second transaction waits for the first one's lock
on the session's cohort; on SQLite for its write lock."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import AttendanceRecord, Enrolment, Organisation
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from tests.conftest import app_for, separate_database
from tests.races import at_once

# Books one person's make-up once the test says "go", and holds its
# transaction open a moment before committing, so that the other process
# runs into it.
BOOK = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from app import create_app
from app.extensions import db
from app.models import Enrolment
from app.services import make_ups
from app.services.errors import DomainError
from app.services.policy import Actor

person, cohort, session, folder = (*map(int, sys.argv[1:4]), Path(sys.argv[4]))
app = create_app()
with app.app_context():
    db.session.execute(db.select(Enrolment.id)).all()  # connected, nothing held
    db.session.rollback()
    (folder / f"ready-{person}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    now = datetime(2027, 3, 10, tzinfo=UTC)
    try:
        make_ups.book(Actor.system(), person, cohort, session, now=now)
        db.session.flush()
        time.sleep(0.5)
        db.session.commit()
        print("booked")
    except DomainError as refused:
        db.session.rollback()
        print("refused", refused.code)
"""


def _world(url: str):
    """Cohort A of two people who missed seminar day 2; cohort B of two
    places, one taken."""
    from app.models import CurriculumRecord, Participant
    from app.services import attendance
    from cohorts.eligibility import Mark

    app = app_for(url)
    with app.app_context():
        db.create_all()
        import_standards()
        org = Organisation(name="Gleichzeitig AG")
        db.session.add(org)
        db.session.flush()
        version = db.session.scalar(
            select(CurriculumRecord).where(
                CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
            )
        ).versions[-1]
        cohorts = []
        for name, start, capacity in (
            ("A", date(2027, 3, 1), None),
            ("B", date(2027, 5, 3), 2),
        ):
            cohort, _ = create_cohort(
                NewCohort(
                    organisation=org,
                    version=version,
                    name=name,
                    start=start,
                    region="DE-BW",
                    capacity=capacity,
                ),
                actor=None,
            )
            cohorts.append(cohort)
        first, second = cohorts
        people = [
            Participant(
                organisation=org, first_name=f"P{n}", last_name="Parallel", email=f"p{n}@x.example"
            )
            for n in range(3)
        ]
        db.session.add_all(people)
        db.session.add_all([Enrolment(cohort=first, participant=p) for p in people[:2]])
        db.session.add(Enrolment(cohort=second, participant=people[2]))
        db.session.flush()
        missed = next(s for s in first.sessions if s.element.key == "seminar-2")
        for person in people[:2]:
            attendance.set_mark(missed, person, Mark.ABSENT, None)
        target = next(s for s in second.sessions if s.element.key == "seminar-2")
        db.session.commit()
        ids = first.id, target.id, [p.id for p in people[:2]]
        db.session.remove()
        db.engine.dispose()
    return app, ids


def test_two_bookings_of_the_last_place_at_once_give_it_to_one(tmp_path):
    with separate_database(tmp_path, "make_up_race") as url:
        app, (cohort_id, session_id, people) = _world(url)
        outcomes = at_once(url, tmp_path, BOOK, {p: [p, cohort_id, session_id] for p in people})
        for code, _, err in outcomes:
            assert code == 0, err
        said = sorted(out.strip() for _, out, _ in outcomes)
        assert said == ["booked", "refused session_full"]

        with app.app_context():
            guests = db.session.scalars(
                select(AttendanceRecord.participant_id).where(
                    AttendanceRecord.session_id == session_id
                )
            ).all()
            db.session.remove()
            db.engine.dispose()
        assert len(guests) == 1
        assert guests[0] in people
