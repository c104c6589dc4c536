"""Server-side time and SQL statements of the at-risk list of an organisation
with 600 learning companions in its current cohorts: 18 running cohorts of
30 people (their sessions so far recorded, about one mark in ten absent or
excused), 4 planned cohorts of 15 to make elements up in, some make-ups
booked, and two years of completed cohorts (1,000 more people, their
attendance) that the list must not read.

Measured as requests: the list alone (the overview's panel, templates/
make_ups/_overview.html, served at a bench-only address), the overview with
it, and the cohort page of a running cohort with its panel. Each request
goes through Flask's test client from outside any app context, so it builds
its own app context, database session and user look-up, as in production.
The floor is the start page (a template, no database), requested in turn
with each page, so that both meet the same load of the machine. Median and
95th percentile of `--rounds` requests after three warm-ups. Target: the
list under 100 ms (median).

Run: `.venv/bin/python bench/at_risk_times.py [--rounds 30]`; on PostgreSQL
with `DATABASE_URL=postgresql://…/<an empty database>`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from flask import render_template_string
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_data import PASSWORD, bench_app  # noqa: E402
from measuring import measure  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    AttendanceRecord,
    Cohort,
    CohortState,
    CurriculumRecord,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
    SessionStatus,
)
from app.services import at_risk  # noqa: E402
from app.services.accounts import create_user  # noqa: E402
from app.services.cohorts import NewCohort, create_cohort  # noqa: E402
from app.services.policy import Actor  # noqa: E402
from app.services.standards import import_standards  # noqa: E402
from cohorts.eligibility import Mark  # noqa: E402

TARGET_MS = 100.0
LIST = "/bench/at-risk"
RUNNING, PER_RUNNING = 18, 30
PLANNED, PER_PLANNED = 4, 15
HISTORY, PER_HISTORY = 40, 25


def build(rng: random.Random, today: date) -> dict[str, int]:
    import_standards()
    org = Organisation(name="Lernbegleitung 600", default_region="DE-NW")
    db.session.add(org)
    create_user("admin@bench.example", "Admin", Role.ADMIN, PASSWORD, [org])
    db.session.commit()
    versions = {
        r.key: r.versions[-1]
        for r in db.session.scalars(
            select(CurriculumRecord).where(CurriculumRecord.organisation_id.is_(None))
        )
    }
    plans = (
        [
            (today - timedelta(days=730 - 17 * n), CohortState.COMPLETED, PER_HISTORY, n)
            for n in range(HISTORY)
        ]
        + [
            (today - timedelta(days=12 + 8 * n), CohortState.RUNNING, PER_RUNNING, n)
            for n in range(RUNNING)
        ]
        + [
            (today + timedelta(days=14 + 12 * n), CohortState.PLANNED, PER_PLANNED, n)
            for n in range(PLANNED)
        ]
    )
    made: list[tuple[Cohort, int]] = []
    for start, state, people, n in plans:
        cohort, _ = create_cohort(
            NewCohort(
                organisation=org,
                version=versions["blended" if n % 3 else "compact"],
                name=f"{state.value.title()} {start.isoformat()}",
                start=start,
                region="DE-NW",
                capacity=40,
                trainers=[],
            ),
            actor=None,
        )
        cohort.state = state
        made.append((cohort, people))
    db.session.commit()
    rows, number = [], 0
    for _, people in made:
        for _ in range(people):
            rows.append(
                {
                    "organisation_id": org.id,
                    "first_name": f"Vorname{number}",
                    "last_name": f"Nachname{number}",
                    "email": f"person{number}@bench.example",
                    "department": "",
                    "site": "",
                    "manager_name": "",
                    "manager_email": "",
                    "lock_version": 1,
                }
            )
            number += 1
    db.session.execute(insert(Participant), rows)
    ids = iter(db.session.scalars(select(Participant.id).order_by(Participant.id)).all())
    enrolments, marks, members = [], [], {}
    for cohort, people in made:
        enrolled_at = datetime.combine(cohort.start_date - timedelta(days=14), clock(), UTC)
        members[cohort.id] = [next(ids) for _ in range(people)]
        enrolments += [
            {
                "cohort_id": cohort.id,
                "participant_id": p,
                "status": EnrolmentStatus.ENROLLED,
                "enrolled_at": enrolled_at,
            }
            for p in members[cohort.id]
        ]
        for session in cohort.sessions:
            if session.first_day >= today or session.status is not SessionStatus.SCHEDULED:
                continue
            for p in members[cohort.id]:
                draw = rng.random()
                mark = (
                    (Mark.DONE if session.all_day else Mark.PRESENT)
                    if draw > 0.1
                    else (
                        Mark.NOT_DONE
                        if session.all_day
                        else rng.choice([Mark.ABSENT, Mark.EXCUSED])
                    )
                )
                marks.append(
                    {
                        "session_id": session.id,
                        "participant_id": p,
                        "for_cohort_id": cohort.id,
                        "mark": mark,
                        "minutes_missed": 0,
                    }
                )
    db.session.execute(insert(Enrolment), enrolments)
    db.session.execute(insert(AttendanceRecord), marks)
    db.session.commit()
    # Some of those at risk have a make-up booked already.
    found = at_risk.of_organisations(Actor.system(), now=datetime.now(UTC), limit=None)
    booked = 0
    for entry in found.entries[::4]:
        offer = next((o for m in entry.missed for o in m.offers), None)
        if offer is not None:
            db.session.add(
                AttendanceRecord(
                    session_id=offer.session_id,
                    participant_id=entry.participant.id,
                    for_cohort_id=entry.cohort.id,
                    mark=Mark.NOT_RECORDED,
                )
            )
            booked += 1
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    current = sum(p for c, p in made if c.state is not CohortState.COMPLETED)
    return {
        "companions in current cohorts": current,
        "people in all": number,
        "cohorts": len(made),
        "marks": len(marks),
        "at risk": len(found.entries),
        "make-ups booked": booked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))

        # The whole list of the organisation's current cohorts, drawn as the
        # overview draws its first entries (which the overview row measures).
        def at_risk_list() -> str:
            found = at_risk.of_organisations(Actor.system(), limit=None)
            return render_template_string(
                '{% set back = "overview" %}{% include "make_ups/_entries.html" %}', found=found
            )

        app.add_url_rule(LIST, "bench_at_risk", at_risk_list)
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            sizes = build(random.Random(7), date.today())  # noqa: S311 -- bench data
            print(
                f"{db.engine.dialect.name}: loaded in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
            )
            engine = db.engine
            running = db.session.scalar(
                select(Cohort.id)
                .where(Cohort.state == CohortState.RUNNING)
                .order_by(Cohort.start_date)
                .limit(1)
            )
            db.session.remove()
        pages = {
            "at-risk list": LIST,
            "overview with it": "/dashboard",
            "cohort page with it": f"/cohorts/{running}",
        }
        # The client lives outside any app context: each request makes its own.
        client = app.test_client()
        response = client.post(
            "/login", data={"email": "admin@bench.example", "password": PASSWORD}
        )
        assert response.status_code == 302, response.status_code
        shown = client.get(LIST).get_data(as_text=True)
        print(f"the list shows {shown.count('at-risk-entry')} people")
        print(
            f"{'page':<22}{'median ms':>10}{'p95 ms':>9}{'floor ms':>9}"
            f"{'× floor':>9}{'queries':>9}  target (median)"
        )
        for name, url in pages.items():
            took, p95, floor, queries = measure(client, url, args.rounds, engine)
            verdict = ("met" if took < TARGET_MS else "missed") if url == LIST else ""
            print(
                f"{name:<22}{took:>10.1f}{p95:>9.1f}{floor:>9.1f}"
                f"{took / floor:>9.1f}{queries:>9}  {verdict}"
            )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
