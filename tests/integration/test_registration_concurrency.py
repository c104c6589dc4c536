"""Two HR clerks accept two registrations for a cohort's last place at the
same moment, in two processes on one database: one person gets the place,
the other goes on the waiting list; the cohort is never over its capacity.
And a person withdraws their registration while HR accepts it: either the
withdrawal comes first (HR is refused) or the acceptance (the withdrawal is
refused); never a withdrawn registration with an enrolment. On PostgreSQL
the second waits for the first one's lock on the cohort; on SQLite for its
write lock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CurriculumRecord,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
)
from app.models.registrations import Registration, RegistrationState
from app.models.tokens import new_token, token_hash
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from tests.conftest import PASSWORD, app_for, separate_database
from tests.races import at_once

# Accepts one registration once the test says "go", and holds its
# transaction open a moment before committing, so that the other process
# runs into it.
ACCEPT = """
import sys, time
from pathlib import Path
from app import create_app
from app.extensions import db
from app.models import User
from app.services import registrations
from app.services.policy import Actor

cohort_id, registration_id, user_id, folder = (*map(int, sys.argv[1:4]), Path(sys.argv[4]))
app = create_app()
with app.app_context():
    actor = Actor.of_user(db.session.get(User, user_id))
    db.session.rollback()
    (folder / f"ready-{registration_id}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    done = registrations.accept(actor, cohort_id, registration_id)
    db.session.flush()
    time.sleep(0.5)
    db.session.commit()
    print("decided", done.state.value)
"""


def _world(url: str):
    """A cohort of one place, and two registrations the managers confirmed."""
    app = app_for(url)
    with app.app_context():
        db.create_all()
        import_standards()
        org = Organisation(name="Parallel AG")
        db.session.add(org)
        db.session.flush()
        hr = create_user("hr@parallel.example", "Helga", Role.HR, PASSWORD, [org])
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
                start=date.today() + timedelta(days=60),
                region="DE-BW",
                capacity=1,
            ),
            actor=None,
        )
        now = datetime.now(UTC)
        rows = []
        for number in range(2):
            person = Participant(
                organisation=org,
                first_name=f"P{number}",
                last_name="Parallel",
                email=f"p{number}@example.org",
            )
            registration = Registration(
                organisation_id=org.id,
                cohort=cohort,
                participant=person,
                state=RegistrationState.REGISTERED,
                registered_at=now,
                changed_at=now,
            )
            db.session.add_all([person, registration])
            registration.confirm_email(now, None, now)
            registration.confirm_by_manager(now, 120)
            rows.append(registration)
        db.session.commit()
        ids = cohort.id, [r.id for r in rows], hr.id
        db.session.remove()
        db.engine.dispose()
    return app, ids


def test_two_acceptances_for_the_last_place_give_it_to_one(tmp_path):
    with separate_database(tmp_path, "registration_race") as url:
        app, (cohort_id, registration_ids, hr_id) = _world(url)
        said = at_once(url, tmp_path, ACCEPT, {i: [cohort_id, i, hr_id] for i in registration_ids})
        for code, out, err in said:
            assert code == 0, err
            assert out.startswith("decided")

        with app.app_context():
            enrolled = db.session.scalar(
                select(func.count(Enrolment.id)).where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED
                )
            )
            states = sorted(
                r.state.value
                for r in db.session.scalars(
                    select(Registration).where(Registration.cohort_id == cohort_id)
                )
            )
            db.session.remove()
            db.engine.dispose()
        assert enrolled == 1
        assert states == ["accepted", "waiting"]


# HR accepts ("accept", with the cohort, registration and user) or the
# person withdraws ("withdraw", with their status link's secret), once the
# test says "go"; each holds its transaction open a moment before
# committing, and says what came of it.
ACCEPT_OR_WITHDRAW = """
import sys, time
from pathlib import Path
from app import create_app
from app.extensions import db
from app.models import User
from app.services import registrations
from app.services.errors import DomainError
from app.services.policy import Actor

what, folder = sys.argv[1], Path(sys.argv[-1])
app = create_app()
with app.app_context():
    if what == "accept":
        cohort_id, registration_id, user_id = map(int, sys.argv[2:5])
        actor = Actor.of_user(db.session.get(User, user_id))
    db.session.rollback()
    (folder / f"ready-{what}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    try:
        if what == "accept":
            done = registrations.accept(actor, cohort_id, registration_id)
        else:
            done = registrations.withdraw(sys.argv[2], "application")
        db.session.flush()
        time.sleep(0.5)
        db.session.commit()
        print("decided", done.state.value)
    except DomainError as refusal:
        db.session.rollback()
        print("refused", refusal.code or type(refusal).__name__)
"""


def test_a_withdrawal_and_an_acceptance_at_once_give_one_outcome(tmp_path):
    with separate_database(tmp_path, "registration_withdraw_race") as url:
        app, (cohort_id, registration_ids, hr_id) = _world(url)
        registration_id = registration_ids[0]
        secret = new_token()
        with app.app_context():
            registration = db.session.get(Registration, registration_id)
            registration.status_token_hash = token_hash(secret)
            registration.status_token_expires_at = datetime.now(UTC) + timedelta(days=90)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        said = at_once(
            url,
            tmp_path,
            ACCEPT_OR_WITHDRAW,
            {
                "accept": ["accept", cohort_id, registration_id, hr_id],
                "withdraw": ["withdraw", secret],
            },
        )
        for code, _, err in said:
            assert code == 0, err
        accepted, withdrawn = (out.split() for _, out, _ in said)

        with app.app_context():
            enrolled = db.session.scalar(
                select(func.count(Enrolment.id)).where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED
                )
            )
            state = db.session.get(Registration, registration_id).state
            db.session.remove()
            db.engine.dispose()
        if state is RegistrationState.ACCEPTED:
            assert accepted == ["decided", "accepted"]
            assert withdrawn[0] == "refused", withdrawn
            assert enrolled == 1
        else:
            assert state is RegistrationState.WITHDRAWN
            assert withdrawn == ["decided", "withdrawn"]
            assert accepted == ["refused", "withdrawn"]
            assert enrolled == 0
