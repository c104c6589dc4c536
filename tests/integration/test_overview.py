from datetime import date, timedelta

from app.models import CohortState, Role
from app.services.overview import needs_attention
from tests.web.helpers import csrf_token, log_in

TODAY = date(2026, 11, 22)


def test_what_needs_attention(db, make):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org], name="Maria Berg")
    first = make.cohort(org, start=date(2026, 12, 7), region="DE-BY", trainers=[trainer], name="A")
    second = make.cohort(org, start=date(2026, 12, 14), region="DE-BY", name="B")
    # A double booking that reached the database another way (an old import, say).
    second.sessions[0].starts_at = first.sessions[0].starts_at
    second.sessions[0].ends_at = first.sessions[0].ends_at
    second.sessions[0].trainers = [trainer]
    db.session.commit()
    found = [str(a.message) for a in needs_attention({org.id}, TODAY)]
    assert found == [
        "Maria Berg is booked twice on 2026-12-07: A and B",
        "Seminar day 2: the companion process of B on 2026-12-15 has no trainer yet",
        "A starts on 2026-12-07 and nobody is enrolled yet",
        "B starts on 2026-12-14 and nobody is enrolled yet",
    ]
    assert needs_attention({org.id + 1}, TODAY) == []


def test_the_dashboard_shows_it(client, make, db):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="a@example.org")
    make.cohort(org, start=date.today() + timedelta(days=7), region="DE-BY", name="Ohne Leute")
    log_in(client, "a@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Braucht Aufmerksamkeit" in page
    assert "ist noch niemand als Trainer:in eingetragen" in page


def test_only_planners_are_offered_to_plan_a_cohort(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    make.user(Role.CONSULTANT, [org], email="c@example.org")
    log_in(client, "hr@example.org")
    assert "/cohorts/new" not in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "c@example.org")
    assert "/cohorts/new" in client.get("/dashboard").get_data(as_text=True)


def test_a_cancelled_cohort_frees_its_trainers_in_the_overview(db, make):
    """Also when it was cancelled before its sessions were cancelled with it."""
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org], name="Maria Berg")
    first = make.cohort(org, start=date(2026, 12, 7), region="DE-BY", trainers=[trainer], name="A")
    second = make.cohort(org, start=date(2026, 12, 14), region="DE-BY", name="B")
    second.sessions[0].starts_at = first.sessions[0].starts_at
    second.sessions[0].ends_at = first.sessions[0].ends_at
    second.sessions[0].trainers = [trainer]
    second.state = CohortState.CANCELLED
    db.session.commit()
    found = [str(a.message) for a in needs_attention({org.id}, TODAY)]
    assert not any("booked twice" in f for f in found)


def test_a_double_booking_in_another_organisation_counts_and_the_past_does_not(db, make):
    org, elsewhere = make.organisation(), make.organisation("Andere AG")
    trainer = make.user(Role.TRAINER, [org, elsewhere], name="Maria Berg")
    first = make.cohort(org, start=date(2026, 12, 7), region="DE-BY", trainers=[trainer], name="A")
    past = make.cohort(elsewhere, start=date(2025, 3, 3), region="DE-BY", name="Früher")
    other = make.cohort(elsewhere, start=date(2027, 1, 11), region="DE-BY", name="C")
    # The same hours in another organisation's cohort, planned later.
    other.sessions[0].starts_at = first.sessions[0].starts_at
    other.sessions[0].ends_at = first.sessions[0].ends_at
    other.sessions[0].trainers = [trainer]
    past.sessions[0].trainers = [trainer]
    db.session.commit()
    found = [str(a.message) for a in needs_attention({org.id}, TODAY)]
    assert found[0] == "Maria Berg is booked twice on 2026-12-07: A and C"
    assert sum("booked twice" in f for f in found) == 1
