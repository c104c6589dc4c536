"""The attendance grid asks the database the same number of questions
however many sessions the cohort has, however many people it holds and
however much else the organisation has done over the years; so does the
answer to a tap, with its counters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import update

from app.models import AttendanceRecord, Enrolment, Participant, Role
from app.services import attendance
from cohorts.eligibility import Mark
from tests.web.helpers import csrf_token, log_in
from tests.web.test_query_counts import counting

TODAY = date.today()
# A Monday long enough ago that every session of both formats has begun.
LONG_AGO = TODAY - timedelta(days=TODAY.weekday(), weeks=45)


def build(make, db, *, key: str, people: int, other_cohorts: int, name: str):
    """A cohort of `key` with `people` enrolled and some marks, beside
    `other_cohorts` cohorts of the same organisation whose people could be
    guests (and whose marks must not be read)."""
    org = make.organisation(f"Org {name}")
    trainer = make.user(Role.TRAINER, [org], email=f"trainer-{name}@example.org")
    cohorts = []
    for number in range(other_cohorts + 1):
        cohort = make.cohort(
            org,
            key=key,
            start=LONG_AGO + timedelta(weeks=number),
            region="DE-BW",
            name=f"{name} {number}",
        )
        cohorts.append(cohort)
        for n in range(people):
            person = Participant(
                organisation=org,
                first_name=f"P{n}",
                last_name=f"N{number}",
                email=f"{name}-{number}-{n}@example.org",
            )
            db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
    db.session.flush()
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.cohort_id.in_([c.id for c in cohorts]))
        .values(enrolled_at=datetime.combine(LONG_AGO - timedelta(weeks=2), time(8), tzinfo=UTC))
    )
    for cohort in cohorts:
        board = attendance.grid(cohort)
        for index, person in enumerate(board.people):
            session = board.sessions[index % len(board.sessions)]
            attendance.set_mark(
                session, person, Mark.DONE if session.all_day else Mark.ABSENT, None
            )
    # Someone of another cohort made an element up here.
    first, other = cohorts[0], cohorts[-1]
    guest = attendance.grid(other).people[0]
    attendance.set_mark(first.sessions[0], guest, Mark.PRESENT, None, for_cohort=other)
    db.session.commit()
    board = attendance.grid(first)
    session = board.sessions[1]  # nobody's mark there yet but the second person's
    mark = "not_done" if session.all_day else "excused"
    return trainer.email, first.id, session.id, board.people[0].id, mark


def statements(app, make, db, **world) -> dict[str, int]:
    email, cohort_id, session_id, person_id, mark = build(make, db, **world)
    client = app.test_client()
    log_in(client, email)
    page = f"/cohorts/{cohort_id}/attendance"
    client.get(page)  # warm caches (curriculum parsing) first
    token = csrf_token(client, page)
    counts = {}
    with counting(db.engine) as seen:
        assert client.get(page).status_code == 200
    counts["grid"] = len(seen)
    with counting(db.engine) as seen:
        tapped = client.post(
            f"{page}/{session_id}/{person_id}",
            data={"csrf_token": token, "mark": mark, "was": "not_recorded"},
            headers={"Accept": "application/json"},
        )
        assert tapped.status_code == 200, tapped.get_data(as_text=True)
    counts["tap"] = len(seen)
    with counting(db.engine) as seen:
        found = client.get(f"{page}?guests={session_id}&q=P1")
        assert found.status_code == 200
        assert 'name="guest"' in found.get_data(as_text=True)
    counts["guest search"] = len(seen)
    assert db.session.query(AttendanceRecord).count() > 0
    return counts


def test_the_grid_asks_the_same_questions_for_more_sessions_people_and_years(
    app, client, make, db
):
    # `client` sets the isolated test client class used by app.test_client().
    small = statements(app, make, db, key="compact", people=2, other_cohorts=1, name="klein")
    large = statements(app, make, db, key="blended", people=25, other_cohorts=12, name="gross")
    assert large == small
