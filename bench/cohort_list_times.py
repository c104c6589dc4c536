"""Server-side time and SQL statements of the cohort list with ten years of a
large organisation (bench/large_data.py: 400 cohorts, about 2,400 sessions,
6,000 participants, 25,000 enrolments), its cohorts in the states their
dates give them (over: completed, one in thirteen cancelled; under way:
running; to come: planned).

Each request goes through Flask's test client from outside any app context,
so it builds its own app context, database session and user look-up, as in
production. The floor is the start page (a template, no database),
requested in turn with each list, so that both meet the same load of the
machine. Median and 95th percentile of `--rounds` requests after three
warm-ups. Target: every list under 100 ms (median).

Run: `.venv/bin/python bench/cohort_list_times.py [--years 10] [--rounds 30]`;
on PostgreSQL with `DATABASE_URL=postgresql://…/<an empty database>`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_data import PASSWORD, bench_app, build  # noqa: E402
from measuring import measure  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import Cohort, CohortState, CurriculumRecord, Session, User  # noqa: E402

TARGET_MS = 100.0


def give_states(today: date) -> dict[CohortState, int]:
    """Each cohort the state its dates give it, as years of use would."""
    spans = dict(
        db.session.execute(
            select(Session.cohort_id, func.max(Session.last_day)).group_by(Session.cohort_id)
        ).all()
    )
    counts = dict.fromkeys(CohortState, 0)
    for number, cohort in enumerate(db.session.scalars(select(Cohort).order_by(Cohort.id))):
        if number % 13 == 5:
            cohort.state = CohortState.CANCELLED
        elif spans.get(cohort.id, cohort.start_date) < today:
            cohort.state = CohortState.COMPLETED
        elif cohort.start_date <= today:
            cohort.state = CohortState.RUNNING
        counts[cohort.state] += 1
    db.session.commit()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            sizes = build(args.years, random.Random(7))  # noqa: S311 -- bench data
            states = give_states(date.today())
            print(
                f"{db.engine.dialect.name}: loaded in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
                + "; "
                + ", ".join(f"{count} {state.value}" for state, count in states.items())
            )
            engine = db.engine
            trainer = db.session.scalar(select(User.id).where(User.email.like("trainer3@%")))
            blended = db.session.scalar(
                select(CurriculumRecord.id).where(CurriculumRecord.key == "blended")
            )
            db.session.remove()
        year = date.today().year - 3
        lists = {
            "cohort list": "/cohorts",
            f"search 'gruppe {year}'": f"/cohorts?q=gruppe+{year}",
            "search, no match": "/cohorts?q=m%C3%BCller",
            "completed, by name": "/cohorts?state=completed&sort=name",
            "one year": f"/cohorts?year={year}",
            "trainer + curriculum": f"/cohorts?trainer={trainer}&curriculum={blended}",
            "by participants": "/cohorts?sort=-participants",
            "by state, page 9": "/cohorts?sort=state&page=9",
            "every filter": f"/cohorts?q=gruppe&state=completed&state=cancelled&year={year}"
            f"&region=DE-BW&trainer={trainer}&curriculum={blended}&sort=-start",
        }
        # The client lives outside any app context: each request makes its own.
        client = app.test_client()
        response = client.post(
            "/login", data={"email": "admin@bench.example", "password": PASSWORD}
        )
        assert response.status_code == 302, response.status_code
        print(
            f"{'list':<24}{'median ms':>10}{'p95 ms':>9}{'floor ms':>9}"
            f"{'× floor':>9}{'queries':>9}  target (median)"
        )
        for name, url in lists.items():
            took, p95, floor, queries = measure(client, url, args.rounds, engine)
            verdict = "met" if took < TARGET_MS else "missed"
            print(
                f"{name:<24}{took:>10.1f}{p95:>9.1f}{floor:>9.1f}"
                f"{took / floor:>9.1f}{queries:>9}  {verdict}"
            )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
