"""Server time of the pages people use while the worker forms the tandems
of a 600-person pool (issue 16: the page stays under 100 ms).

The data is `large_data.build` (three years by default) plus a cohort of
600 enrolled people. A worker in a process of its own (as `qualiplan
worker` runs beside the web server) takes the job from the queue; this
process measures the pages with Flask's test client while the job's state
is "running", and starts the job again (shuffle) until every page has its
samples. The same pages are measured before, with the worker idle, and the
floor is the start page (a template, no data), in the same run.

Run: `.venv/bin/python bench/job_page_times.py [--years N] [--samples N]`.
The database is a temporary SQLite file (the queue a SQLite file beside
it), or DATABASE_URL: an empty PostgreSQL database that may be filled (the
queue then lives in it too).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from large_data import PASSWORD, build
from sqlalchemy import func, insert, select

from app import create_app
from app.extensions import db
from app.models import Cohort, Enrolment, Job, JobState, Participant
from app.services.cohorts import NewCohort, create_cohort
from config import Config, database_url

POOL = 600


def bench_app(folder: Path):  # type: ignore[no-untyped-def]
    url = database_url(os.environ.get("DATABASE_URL")) or f"sqlite:///{folder / 'bench.db'}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        # Beside the SQLite database; with PostgreSQL the queue is in it.
        "QUEUE_URL": "" if url.startswith("postgresql") else f"sqlite:///{folder / 'queue.db'}",
    }
    return create_app(type("BenchConfig", (Config,), settings))


def worker(folder: str, stop) -> None:  # type: ignore[no-untyped-def]
    """What `qualiplan worker` does, in its own process: run what is queued."""
    from app import queue

    bench_app(Path(folder))
    while not stop.is_set():
        if not queue.run_pending():
            time.sleep(0.05)


def large_pool() -> tuple[int, int]:
    """A cohort with POOL people enrolled (of those already loaded), and a
    cohort of the usual size beside it."""
    some = db.session.scalars(select(Cohort).order_by(Cohort.start_date.desc())).first()
    cohort, _ = create_cohort(
        NewCohort(
            organisation=some.organisation,
            version=some.version,
            name="Großer Pool",
            start=some.start_date,
            region="DE-NW",
            trainers=[],
        ),
        actor=None,
    )
    db.session.flush()
    people = db.session.scalars(select(Participant.id).order_by(Participant.id).limit(POOL))
    db.session.execute(
        insert(Enrolment), [{"cohort_id": cohort.id, "participant_id": p} for p in people]
    )
    db.session.commit()
    return cohort.id, some.id


def start_job(client, cohort_id: int) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/cohorts/{cohort_id}/tandems").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    action = "shuffle" if "tandems/shuffle" in page else "propose"
    response = client.post(f"/cohorts/{cohort_id}/tandems/{action}", data={"version": version})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/jobs/"), location
    return location


def timed(client, url: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = client.get(url)
    took = time.perf_counter() - started
    assert response.status_code == 200, url
    return took * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20, help="per page while the job runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            sizes = build(args.years, random.Random(7))  # noqa: S311 -- bench data
            cohort_id, usual_id = large_pool()
            print(
                f"loaded in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}: "
                + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
                + f"; a pool of {POOL} in cohort {cohort_id}"
            )
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD})
        pages: dict[str, str] = {
            "start page (floor)": "/",
            "overview (dashboard)": "/dashboard",
            "cohort page (the pool's)": f"/cohorts/{cohort_id}",
            "cohort page (a usual one)": f"/cohorts/{usual_id}",
            "tandems of the pool": f"/cohorts/{cohort_id}/tandems",
            "cohort list": "/cohorts",
        }
        quiet: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(3):
            for url in pages.values():
                timed(client, url)  # warm-up: templates compiled, caches filled
        for _ in range(args.samples):
            for name, url in pages.items():
                quiet[name].append(timed(client, url))

        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        process = context.Process(target=worker, args=(folder, stop), daemon=True)
        process.start()
        busy: dict[str, list[float]] = {name: [] for name in pages}
        jobs_run, job_seconds, polls = 0, [], []
        try:
            while min(len(v) for v in busy.values()) < args.samples:
                job_url = start_job(client, cohort_id)
                jobs_run += 1
                asked = time.perf_counter()
                while client.get(f"{job_url}.json").get_json()["state"] == "queued":
                    time.sleep(0.01)
                while True:
                    sample: dict[str, float] = {}
                    for name, url in pages.items():
                        sample[name] = timed(client, url)
                    polled = time.perf_counter()
                    state = client.get(f"{job_url}.json").get_json()["state"]
                    polls.append((time.perf_counter() - polled) * 1000)
                    if state != "running":
                        break  # this round may have overlapped the job's end
                    for name, took in sample.items():
                        busy[name].append(took)
                assert state == "done", client.get(f"{job_url}.json").get_json()
                job_seconds.append(time.perf_counter() - asked)
        finally:
            stop.set()
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
        with app.app_context():
            tandems = db.session.scalar(
                select(func.count(Job.id)).where(Job.state == JobState.DONE)
            )
            assert tandems == jobs_run

        print(
            f"{jobs_run} tandem job(s) of {POOL} people in the worker process, "
            f"{statistics.median(job_seconds):.1f} s each (median, from the click to done)"
        )
        median: Callable[[list[float]], float] = statistics.median
        floor_quiet, floor_busy = (
            median(quiet["start page (floor)"]),
            median(busy["start page (floor)"]),
        )
        print(
            f"{'page':<28}{'idle ms':>9}{'× floor':>9}{'job ms':>9}{'× floor':>9}"
            f"{'job max':>9}{'< 100 ms':>10}"
        )
        for name in pages:
            idle, during = median(quiet[name]), median(busy[name])
            worst = max(busy[name])
            print(
                f"{name:<28}{idle:>9.1f}{idle / floor_quiet:>9.1f}{during:>9.1f}"
                f"{during / floor_busy:>9.1f}{worst:>9.1f}{'yes' if during < 100 else 'NO':>10}"
            )
        print(
            f"{'job state (JSON, polled)':<28}{'':>18}{median(polls):>9.1f}"
            f"{median(polls) / floor_busy:>9.1f}{max(polls):>9.1f}"
        )
        print(
            f"({len(busy['start page (floor)'])} samples a page during the job(s); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
