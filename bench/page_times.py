"""Server-side time and SQL queries of the main pages with ten years of a
large organisation loaded: 40 cohorts a year (400), about 2,400 sessions,
6,000 participants and 25,000 enrolments.

The floor is the start page (a template, no database) measured in the same
run. Run: `make bench` or `.venv/bin/python bench/page_times.py [--years N]`.
The database is a temporary SQLite file (or DATABASE_URL, which must point at
an empty database that may be filled).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from large_data import PASSWORD, build
from sqlalchemy import event

from app import create_app
from app.extensions import db
from config import Config, database_url


def measure(client, url: str, rounds: int, engine) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    statements: list[str] = []

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    timings = []
    event.listen(engine, "before_cursor_execute", count)
    for _ in range(rounds):
        statements.clear()
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    event.remove(engine, "before_cursor_execute", count)
    return statistics.median(timings) * 1000, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = (
            database_url(os.environ.get("DATABASE_URL"))
            or f"sqlite:///{Path(folder) / 'bench.db'}"
        )
        config = type(
            "BenchConfig",
            (Config,),
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
            },
        )
        app = create_app(config)
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            sizes = build(args.years, random.Random(7))  # noqa: S311 -- bench data
            print(
                f"loaded in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
            )
            engine = db.engine
            client = app.test_client()
            client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD})
            dashboard = client.get("/dashboard").get_data(as_text=True)
            cohort_id = re.search(r'href="/cohorts/(\d+)"', dashboard).group(1)
            page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
            session_path = re.search(r'href="(/cohorts/\d+/sessions/\d+)"', page).group(1)
            person_path = re.search(r'href="(/participants/\d+)"', page).group(1)
            year_path = re.search(r'href="(/organisations/\d+/year/\d+)"', dashboard).group(1)
            pages = {
                "start page (floor)": "/",
                "dashboard": "/dashboard",
                "cohort page": f"/cohorts/{cohort_id}",
                "session page": session_path,
                "participants": "/participants",
                "participant search": "/participants?q=nachname12",
                "participant": person_path,
                "tandems of a cohort": f"/cohorts/{cohort_id}/tandems",
                "year overview": year_path,
                "curricula": "/curricula",
                "a curriculum": "/curricula/1",
                "plan a cohort": "/cohorts/new",
                "participants CSV": "/participants/export",
            }
            floor, _ = measure(client, pages["start page (floor)"], args.rounds, engine)
            print(f"{'page':<22}{'median ms':>10}{'× floor':>9}{'queries':>9}")
            for name, path in pages.items():
                took, queries = measure(client, path, args.rounds, engine)
                print(f"{name:<22}{took:>10.1f}{took / floor:>9.1f}{queries:>9}")
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
