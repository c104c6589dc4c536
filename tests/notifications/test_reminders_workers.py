"""Two workers run the reminder task at the same moment, each with its own
connection to one database: every reminder is recorded once, and neither
run fails."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app import queue
from app.extensions import db
from app.models import Enrolment, Notification, Organisation, Participant, Role
from app.services import reminders
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from tests.conftest import PASSWORD, app_for, separate_database

# Tue 22.10.2030 08:00 in Berlin: 7 days before the cohort's first session.
MOMENT = datetime(2030, 10, 22, 6, 0, tzinfo=UTC)
PEOPLE = 40


def _world() -> None:
    import_standards()
    org = Organisation(name="Zwei Worker AG")
    db.session.add(org)
    trainer = create_user("t@example.org", "Tina", Role.TRAINER, PASSWORD, [org])
    db.session.flush()
    cohort, _ = create_cohort(
        NewCohort(
            organisation=org,
            version=_compact(),
            name="Gruppe 1",
            start=date(2030, 10, 29),
            region="DE-BE",
            trainers=[trainer],
        ),
        actor=None,
    )
    for number in range(PEOPLE):
        person = Participant(
            organisation=org,
            first_name="P",
            last_name=f"{number}",
            email=f"p{number}@example.org",
        )
        db.session.add(person)
        db.session.add(Enrolment(cohort=cohort, participant=person))
    db.session.commit()


def _compact():
    from app.models import CurriculumRecord

    record = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
        )
    )
    return record.versions[-1]


def test_two_workers_at_once_record_each_reminder_once(app, tmp_path):
    shared = app
    with separate_database(tmp_path, "reminder_workers") as url:
        other = app_for(url)
        try:
            with other.app_context():
                db.create_all()
                _world()
            start = threading.Barrier(2)
            counts: list[int] = []
            errors: list[BaseException] = []

            def worker() -> None:
                try:
                    with other.app_context():
                        start.wait(timeout=30)
                        counts.append(reminders.record_due(MOMENT - timedelta(minutes=10)))
                        db.session.commit()
                except BaseException as error:  # noqa: BLE001 -- reported below
                    errors.append(error)

            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert errors == []
            assert sum(counts) == PEOPLE + 1  # each participant and the trainer, once
            with other.app_context():
                recorded = db.session.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.kind == "reminder")
                )
                assert recorded == PEOPLE + 1
                db.session.remove()
                db.engine.dispose()
        finally:
            queue.init_app(shared)  # the other app took over the queue
            queue.huey.flush()
