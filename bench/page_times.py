"""Server-side time and SQL statements of the main pages with ten years of a
large organisation loaded: 40 cohorts a year (400), about 2,400 sessions,
6,000 participants and 25,000 enrolments.

Every measured request is a fresh one, as a browser's: the data is loaded
inside an app context that is closed before the first request, so each
request pushes its own app context, opens its own database session and
looks its user up again (a shared context would keep the user and every
record read before in the session's identity map and hide those
statements).

The floor is the start page (a template, no data) measured in the same run.
"CPU ms" is the median CPU time of this process per request: on SQLite all
of the work, on PostgreSQL all but the database server's; on a machine
busy with other work it moves much less than the wall-clock median.
Run: `make bench` or `.venv/bin/python bench/page_times.py [--years N]`.
The database is a temporary SQLite file (or DATABASE_URL, which must point at
an empty database that may be filled).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from large_data import PASSWORD, bench_app, build
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from app.extensions import db
from app.models import Cohort, Enrolment, Participant
from app.services import attendance, personal_links
from app.services.policy import Actor

# What a request is: a GET of a page, or a POST with its form.
Request = tuple[str, str, dict[str, str] | None]


def measure(
    client, request: Request, rounds: int, engine: Engine
) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    method, url, form = request
    send: Callable[[], object] = (
        (lambda: client.get(url))
        if method == "GET"
        else (lambda: client.post(url, data=form, headers={"Accept": "application/json"}))
    )
    for _ in range(3):
        assert send().status_code == 200, url  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    timings, cpu, counts, size = [], [], [], 0
    event.listen(engine, "before_cursor_execute", count)
    for _ in range(rounds):
        statements.clear()
        started, used = time.perf_counter(), time.process_time()
        response = send()
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        counts.append(len(statements))
        assert response.status_code == 200, url  # type: ignore[attr-defined]
        size = len(response.get_data())  # type: ignore[attr-defined]
    event.remove(engine, "before_cursor_execute", count)
    return statistics.median(timings) * 1000, statistics.median(cpu) * 1000, max(counts), size


def explain(client, request: Request, engine: Engine, *, profile: bool) -> None:  # type: ignore[no-untyped-def]
    """One request of the page (after a first one) with its statements and,
    with `profile`, the functions it spends most time in."""
    method, url, form = request
    statements: list[str] = []

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    def send() -> None:
        if method == "GET":
            client.get(url)
        else:
            client.post(url, data=form, headers={"Accept": "application/json"})

    send()  # templates compiled, fonts read: what the first request pays
    event.listen(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile()
    profiler.enable()
    send()
    profiler.disable()
    event.remove(engine, "before_cursor_execute", count)
    print(f"--- {method} {url}: {len(statements)} statements")
    for statement in statements:
        print("   ", " ".join(statement.split())[:160])
    if profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def blended_cohort() -> tuple[int, int, int]:
    """A running blended cohort (seven sessions, some of them begun) and a
    cell of it that takes a mark: its enrolments are dated before its start,
    as a cohort's are (the bulk load enrols everyone today)."""
    today = date.today()
    cohort = db.session.scalars(
        select(Cohort)
        .where(Cohort.start_date <= today - timedelta(days=100))
        .order_by(Cohort.start_date.desc())
    ).first()
    while cohort is not None and len(attendance.grid(cohort).sessions) != 7:
        cohort = db.session.scalars(
            select(Cohort)
            .where(Cohort.start_date < cohort.start_date)
            .order_by(Cohort.start_date.desc())
        ).first()
    assert cohort is not None, "no blended cohort in the data"
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .values(
            enrolled_at=datetime.combine(
                cohort.start_date - timedelta(days=14), datetime.min.time(), tzinfo=UTC
            )
        )
    )
    db.session.commit()
    board = attendance.grid(cohort)
    begun = next(
        s for s in board.sessions if not s.all_day and attendance.has_begun(s, datetime.now(UTC))
    )
    return cohort.id, begun.id, board.people[0].id


def two_cohort_person() -> tuple[str, list[str]]:
    """A personal link of someone enrolled in the most cohorts (the personal
    page lists each of them), and 50 e-mail addresses to paste for a bulk
    enrolment."""
    counted = (
        select(Enrolment.participant_id, func.count().label("n"))
        .group_by(Enrolment.participant_id)
        .order_by(func.count().desc(), Enrolment.participant_id)
        .limit(1)
    )
    person_id = db.session.execute(counted).first()[0]
    _person, token = personal_links.create_link(Actor.system(), person_id)
    db.session.commit()
    emails = list(db.session.scalars(select(Participant.email).order_by(Participant.id).limit(50)))
    return token, emails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--only", action="append", default=[], help="measure only pages whose name holds this"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print where each measured page spends its time"
    )
    parser.add_argument(
        "--statements", action="store_true", help="print the SQL statements of each page"
    )
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
            blended, session_id, person_id = blended_cohort()
            token, emails = two_cohort_person()
            engine = db.engine
            db.session.remove()
        # From here on no app context is held: each request makes its own.
        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD})
        dashboard = client.get("/dashboard").get_data(as_text=True)
        cohort_id = re.search(r'href="/cohorts/(\d+)"', dashboard).group(1)
        page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
        session_path = re.search(r'href="(/cohorts/\d+/sessions/\d+)"', page).group(1)
        person_path = re.search(r'href="(/participants/\d+)"', page).group(1)
        year_path = re.search(r'href="(/organisations/\d+/year/\d+)"', dashboard).group(1)
        grid = f"/cohorts/{blended}/attendance"
        pages: dict[str, Request] = {
            "start page (floor)": ("GET", "/", None),
            "dashboard": ("GET", "/dashboard", None),
            "cohort list": ("GET", "/cohorts", None),
            "cohort page": ("GET", f"/cohorts/{cohort_id}", None),
            "cohort's at-risk page": ("GET", f"/cohorts/{cohort_id}/at-risk", None),
            "session page": ("GET", session_path, None),
            "participants": ("GET", "/participants", None),
            "participant search": ("GET", "/participants?q=nachname12", None),
            "participant": ("GET", person_path, None),
            "tandems of a cohort": ("GET", f"/cohorts/{cohort_id}/tandems", None),
            "year overview": ("GET", year_path, None),
            "curricula": ("GET", "/curricula", None),
            "a curriculum": ("GET", "/curricula/1", None),
            "plan a cohort": ("GET", "/cohorts/new", None),
            "attendance grid": ("GET", grid, None),
            "grid: guest search": ("GET", f"{grid}?guests={session_id}&q=nachname1", None),
            "grid: a tap": ("POST", f"{grid}/{session_id}/{person_id}", {"mark": "present"}),
            "sign-in sheet (PDF)": (
                "GET",
                f"{grid[: -len('/attendance')]}/sessions/{session_id}/sign-in-sheet.pdf",
                None,
            ),
            "schedule (PDF)": ("GET", f"/cohorts/{blended}/schedule.pdf", None),
            "attendance report (PDF)": ("GET", f"/cohorts/{blended}/attendance-report.pdf", None),
            "attendance report (XLSX)": (
                "GET",
                f"/cohorts/{blended}/attendance-report.xlsx",
                None,
            ),
            "certificates of a cohort": ("GET", f"/cohorts/{blended}/certificates", None),
            "bulk: enrol 50 pasted": (
                "POST",
                "/participants/bulk",
                {"action": "enrol", "cohort": str(blended), "pasted": "\n".join(emails)},
            ),
            "personal page (by link)": ("GET", f"/p/{token}", None),
            "settings": ("GET", "/settings", None),
            "settings: users": ("GET", "/settings/users", None),
            "settings: an organisation": ("GET", "/settings/organisations/1", None),
            "settings: closure days of a year": (
                "GET",
                f"/settings/organisations/1/closures/{date.today().year}",
                None,
            ),
            "participants CSV": ("GET", "/participants/export", None),
        }
        floor, _, _, _ = measure(client, pages["start page (floor)"], args.rounds, engine)
        print(f"{'page':<26}{'median ms':>10}{'× floor':>9}{'CPU ms':>8}{'queries':>9}{'KB':>8}")
        for name, request in pages.items():
            if args.only and not any(part in name for part in args.only):
                continue
            if args.profile or args.statements:
                explain(client, request, engine, profile=args.profile)
            try:
                took, used, queries, size = measure(client, request, args.rounds, engine)
            except AssertionError as missing:
                print(f"{name:<26}{'(not answered: ' + str(missing) + ')':>28}")
                continue
            print(
                f"{name:<26}{took:>10.1f}{took / floor:>9.1f}{used:>8.1f}"
                f"{queries:>9}{size / 1024:>8.0f}"
            )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
