"""The overview says how far each cohort is and what comes next."""

from datetime import date, timedelta

from app.models import Role
from tests.web.helpers import log_in


def test_each_cohort_shows_its_progress_and_next_session(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    today = date.today()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=2)  # a Monday
    running = make.cohort(org, name="Läuft", start=start, region="DE-BE")
    sessions = sorted(running.sessions, key=lambda s: s.first_day)
    over = sum(1 for s in sessions if s.last_day < today)
    upcoming = next(s for s in sessions if s.last_day >= today)
    expected_next = f"als Nächstes: {upcoming.element.title_de}, "
    expected_day = f"{upcoming.first_day:%d.%m.%Y}</span>"
    log_in(client, "trainerin@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert f'<progress max="{len(sessions)}" value="{over}">' in page
    assert f"{over} von {len(sessions)} Terminen vorbei" in page
    assert expected_next in page
    assert expected_day in page
