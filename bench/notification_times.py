"""What telling people costs the request that changes something: a session
of a blended cohort (seven sessions, 30 people enrolled, a trainer) moved
through the session page, with everything after it moving along, among ten
years of a large organisation's data (bench/large_data.py).

Each move records an invitation per moved session and person (and one
message in words for those who follow a feed) in the request's transaction.
Measured: the whole request, the same request with the recording switched
off (the difference is what telling people costs), and the floor, the start
page, in the same run. Every request is a fresh one (its own app context and
database session), as in page_times.py.

Run: `.venv/bin/python bench/notification_times.py [--years N] [--rounds N]`
on a temporary SQLite file, or with DATABASE_URL (an empty PostgreSQL
database that may be filled).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from large_data import PASSWORD, bench_app, build
from sqlalchemy import event, func, insert, select

from app.extensions import db
from app.models import (
    CurriculumRecord,
    Enrolment,
    Notification,
    Organisation,
    Participant,
    Session,
    User,
)
from app.services import announcements, notifications
from app.services.cohorts import NewCohort, create_cohort

PEOPLE = 30


def a_cohort_of_30(organisation: Organisation, start: date) -> tuple[int, int]:
    """A blended cohort still to come with a trainer and 30 people, a fifth
    of them following a feed; its id and its first session's."""
    version = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == "blended", CurriculumRecord.organisation_id.is_(None)
        )
    ).versions[-1]
    trainer = db.session.scalar(select(User).where(User.email == "trainer0@bench.example"))
    cohort, _ = create_cohort(
        NewCohort(
            organisation=organisation,
            version=version,
            name="Bench: 30 people",
            start=start,
            region="DE-NW",
            trainers=[trainer],
        ),
        actor=None,
    )
    db.session.flush()
    people = [
        {
            "organisation_id": organisation.id,
            "first_name": f"Gast{n}",
            "last_name": f"Bench{n}",
            "email": f"gast{n}@bench.example",
            "language": "en" if n % 3 == 0 else "de",
            "calendar_choice": "feed" if n % 5 == 0 else "invitations",
            "manager_name": "",
            "manager_email": "",
            "lock_version": 1,
        }
        for n in range(PEOPLE)
    ]
    db.session.execute(insert(Participant), people)
    ids = db.session.scalars(select(Participant.id).where(Participant.last_name.like("Bench%")))
    db.session.execute(
        insert(Enrolment), [{"cohort_id": cohort.id, "participant_id": i} for i in ids]
    )
    db.session.commit()
    first = min(cohort.sessions, key=lambda s: (s.first_day, s.id))
    return cohort.id, first.id


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
            print(
                f"loaded in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}: "
                + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
            )
            today = date.today()
            start = today - timedelta(days=today.weekday()) + timedelta(weeks=10)
            organisation = db.session.scalar(select(Organisation).order_by(Organisation.id))
            cohort_id, session_id = a_cohort_of_30(organisation, start)
            engine = db.engine
            db.session.remove()
        # From here on no app context is held: each request makes its own.
        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD})
        page = f"/cohorts/{cohort_id}/sessions/{session_id}"
        days = [start + timedelta(days=7), start]  # later and back, in turn

        def state() -> tuple[int, int]:
            with app.app_context():
                version = db.session.get(Session, session_id).lock_version
                count = db.session.scalar(select(func.count(Notification.id))) or 0
                db.session.remove()
            return version, count

        statements: list[str] = []
        writing: list[float] = []  # when the INSERT of notifications began

        def counted(*args) -> None:  # type: ignore[no-untyped-def]
            statements.append(args[2])
            if args[2].startswith("INSERT INTO notifications"):
                writing.append(time.perf_counter())

        def finished(*args) -> None:  # type: ignore[no-untyped-def]
            if writing:
                spent["insert"].append((time.perf_counter() - writing.pop()) * 1000)

        def moves(rounds: int) -> tuple[float, int, int]:
            """Median ms of a move request, its statements and notifications."""
            timings, queries, recorded = [], [], []
            for n in range(rounds):
                version, before = state()
                form = {
                    "move-version": str(version),
                    "move-day": days[n % 2].isoformat(),
                    "move-pin": "y",
                }
                statements.clear()
                event.listen(engine, "before_cursor_execute", counted)
                event.listen(engine, "after_cursor_execute", finished)
                took = time.perf_counter()
                response = client.post(f"{page}/move", data=form)
                took = time.perf_counter() - took
                event.remove(engine, "before_cursor_execute", counted)
                event.remove(engine, "after_cursor_execute", finished)
                assert response.status_code == 302, response.get_data(as_text=True)[:500]
                timings.append(took * 1000)
                queries.append(len(statements))
                recorded.append(state()[1] - before)
            return statistics.median(timings), max(queries), min(recorded)

        def floor(rounds: int) -> float:
            timings = []
            for _ in range(rounds):
                took = time.perf_counter()
                assert client.get("/").status_code == 200
                timings.append((time.perf_counter() - took) * 1000)
            return statistics.median(timings)

        # Where the time of telling goes: recording in the transaction (the
        # rows are written by the commit's flush, measured with the request),
        # and telling the queue after the commit.
        spent: dict[str, list[float]] = {"record": [], "kick": [], "insert": []}

        def timed(name, function):  # type: ignore[no-untyped-def]
            def run(*args, **kwargs):  # type: ignore[no-untyped-def]
                took = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[name].append((time.perf_counter() - took) * 1000)

            return run

        original = announcements.moved, notifications._kick
        announcements.moved = timed("record", announcements.moved)  # type: ignore[assignment]
        notifications._kick = timed("kick", notifications._kick)  # type: ignore[assignment]
        moves(4)  # warm up: templates, statements, the queue's store
        base = floor(args.rounds)
        for times in spent.values():
            times.clear()
        telling, queries, recorded = moves(args.rounds)
        announcements.moved, notifications._kick = original  # type: ignore[assignment]
        silent = announcements.moved
        announcements.moved = lambda cohort, changes: None  # type: ignore[assignment]
        try:
            quiet, quiet_queries, _ = moves(args.rounds)
        finally:
            announcements.moved = silent  # type: ignore[assignment]
        print(f"a move in a cohort of {PEOPLE} ({args.rounds} rounds, medians):")
        print(f"{'':<34}{'ms':>8}{'× floor':>9}{'queries':>9}")
        print(f"{'start page (floor)':<34}{base:>8.1f}{1:>9.1f}{'':>9}")
        print(f"{'move, telling everyone':<34}{telling:>8.1f}{telling / base:>9.1f}{queries:>9}")
        off = "move, recording switched off"
        print(f"{off:<34}{quiet:>8.1f}{quiet / base:>9.1f}{quiet_queries:>9}")
        print(
            f"telling costs {telling - quiet:.1f} ms for {recorded} notifications "
            f"({queries - quiet_queries} statements); target: under 50 ms"
        )
        print(
            f"of which: recording {statistics.median(spent['record']):.1f} ms, "
            f"writing them (INSERT) {sum(spent['insert']) / args.rounds:.1f} ms, "
            f"telling the queue after the commit {statistics.median(spent['kick']):.1f} ms"
        )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
