from datetime import date

from sqlalchemy import func, select

from app.models import Cohort, CohortState, CurriculumRecord, Organisation, Participant, Role, User
from app.services.demo import load_demo

TODAY = date(2026, 11, 22)


def test_the_demo_is_what_a_first_look_needs(db):
    logins = load_demo(TODAY)
    db.session.commit()
    assert db.session.scalar(select(func.count(Organisation.id))) == 2
    assert {login.role for login in logins} == set(Role)
    assert db.session.scalar(select(func.count(User.id)).where(User.role == Role.TRAINER)) == 3
    curricula = db.session.scalars(select(CurriculumRecord)).all()
    forks = [c for c in curricula if c.upstream is not None]
    assert sorted(c.key for c in curricula if c.is_standard) == ["blended", "compact"]
    assert len(forks) == 1
    assert forks[0].upstream.key == "compact"
    cohorts = db.session.scalars(select(Cohort)).all()
    assert len(cohorts) == 6
    assert {c.state for c in cohorts} == {
        CohortState.COMPLETED,
        CohortState.RUNNING,
        CohortState.PLANNED,
    }
    assert len({c.region for c in cohorts}) >= 3
    assert 110 <= db.session.scalar(select(func.count(Participant.id))) <= 130
    assert all(c.sessions for c in cohorts)
