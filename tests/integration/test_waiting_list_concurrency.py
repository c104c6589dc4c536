"""Two withdrawals from one full cohort at the same moment, in two processes
on one database: the two places go to the first two people waiting, one
each; no place is offered twice and nobody gets two. On PostgreSQL the
second transaction waits for the first one's lock on the cohort; on SQLite
for its write lock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Enrolment, EnrolmentStatus, Notification, Organisation
from app.models.registrations import Registration, RegistrationState
from app.services import waiting_lists
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from tests.conftest import app_for, separate_database
from tests.races import at_once

# Withdraws one enrolment once the test says "go", and holds its
# transaction open a moment before committing, so that the other process
# runs into it.
WITHDRAW = """
import sys, time
from pathlib import Path
from app import create_app
from app.extensions import db
from app.models import Enrolment
from app.services import enrolments

enrolment_id, folder = int(sys.argv[1]), Path(sys.argv[2])
app = create_app()
with app.app_context():
    db.session.execute(db.select(Enrolment.id)).all()  # connected, nothing held
    db.session.rollback()
    (folder / f"ready-{enrolment_id}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    enrolment = db.session.get(Enrolment, enrolment_id)
    enrolments.withdraw(enrolment, None)
    db.session.flush()
    time.sleep(0.5)
    db.session.commit()
print("withdrawn", enrolment_id)
"""


def _world(url: str):
    """A cohort of two places, both taken, and three people waiting."""
    from app.models import CurriculumRecord, Participant

    app = app_for(url)
    with app.app_context():
        db.create_all()
        import_standards()
        org = Organisation(name="Parallel AG")
        db.session.add(org)
        db.session.flush()
        version = db.session.scalar(
            select(CurriculumRecord).where(
                CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
            )
        ).versions[-1]
        cohort, _ = create_cohort(
            NewCohort(
                organisation=org,
                version=version,
                name="Gleichzeitig",
                start=date(2027, 3, 1),
                region="DE-BW",
                capacity=2,
            ),
            actor=None,
        )
        people = [
            Participant(
                organisation=org,
                first_name=f"P{number}",
                last_name="Parallel",
                email=f"p{number}@example.org",
            )
            for number in range(5)
        ]
        db.session.add_all(people)
        enrolled = [Enrolment(cohort=cohort, participant=p) for p in people[:2]]
        db.session.add_all(enrolled)
        db.session.flush()
        moment = datetime.now(UTC)
        for number, person in enumerate(people[2:]):
            waiting_lists.join(cohort, person, None, moment + timedelta(seconds=number))
        db.session.commit()
        ids = cohort.id, [e.id for e in enrolled], [p.id for p in people[2:]]
        db.session.remove()
        db.engine.dispose()
    return app, ids


def test_two_withdrawals_at_once_offer_two_places_to_two_people(tmp_path):
    with separate_database(tmp_path, "waiting_race") as url:
        app, (cohort_id, enrolment_ids, waiting_ids) = _world(url)
        said = at_once(url, tmp_path, WITHDRAW, {i: [i] for i in enrolment_ids})
        for code, out, err in said:
            assert code == 0, err
            assert out.startswith("withdrawn")

        with app.app_context():
            enrolled = db.session.scalar(
                select(db.func.count(Enrolment.id)).where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED
                )
            )
            rows = db.session.scalars(
                select(Registration)
                .where(Registration.cohort_id == cohort_id)
                .order_by(Registration.registered_at, Registration.id)
            ).all()
            states = [(r.participant_id, r.state) for r in rows]
            told = db.session.scalars(
                select(Notification.participant_id).where(Notification.kind == "offer")
            ).all()
            db.session.remove()
            db.engine.dispose()
        # The first two in line hold one offer each; the third still waits.
        assert states == [
            (waiting_ids[0], RegistrationState.OFFERED),
            (waiting_ids[1], RegistrationState.OFFERED),
            (waiting_ids[2], RegistrationState.WAITING),
        ]
        assert sorted(told) == sorted(waiting_ids[:2])
        assert enrolled + len(told) <= 2  # the capacity, open offers counted
