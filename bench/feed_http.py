"""Calendar feeds through a real HTTP server, next to the framework's floor.

Loads ten years of a large organisation into a temporary SQLite file, starts
gunicorn on a free port of 127.0.0.1 (two workers, for the two cores here)
and loads it with wrk: the floor (/health), a participant's and a cohort's
feed, each in full and conditionally (If-None-Match). Prints requests per
second, the 95th-percentile latency and throughput ratios against the floor,
and whether each feed reaches the target: half of the floor's throughput.

Needs gunicorn (pip) and wrk (Debian package `wrk`).
Run: `.venv/bin/python bench/feed_http.py [--seconds 5] [--connections 8]`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from large_data import bench_app, build
from servers import gunicorn
from sqlalchemy import select

from app.extensions import db
from app.models import Cohort, Enrolment, Purpose
from app.services import tokens

HERE = Path(__file__).resolve().parent
TARGET = 0.5  # of the floor's throughput


def wrk(url: str, seconds: int, connections: int, header: str | None) -> tuple[float, float]:
    """Requests per second and p95 in ms (wrk's own histogram, bench/percentiles.lua)."""
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(HERE / "percentiles.lua"),
    ]
    if header:
        command += ["-H", header]
    output = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    result = dict(item.split("=") for item in output.split("RESULT ", 1)[1].split())
    assert result["errors"] == "0", f"{url}: {result['errors']} failed requests"
    return float(result["rate"]), float(result["p95"])


def _blended(organisation_id: int) -> str:
    """A feed token for a blended cohort (seven sessions), the typical size."""
    from app.models import CurriculumRecord, CurriculumVersion

    cohort = db.session.scalars(
        select(Cohort)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .join(CurriculumRecord, CurriculumRecord.id == CurriculumVersion.curriculum_id)
        .where(CurriculumRecord.key == "blended")
    ).first()
    return tokens.issue(Purpose.COHORT_FEED, cohort.id, organisation_id, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian package `wrk`)")
    folder = Path(tempfile.mkdtemp())
    app = bench_app(folder)
    with app.app_context():
        db.create_all()
        build(args.years, random.Random(7))  # noqa: S311 -- bench data
        enrolment = db.session.scalars(select(Enrolment).order_by(Enrolment.id.desc())).first()
        cohort = db.session.get(Cohort, enrolment.cohort_id)
        person = tokens.issue(
            Purpose.PARTICIPANT_FEED, enrolment.participant_id, cohort.organisation_id, None
        )
        whole = tokens.issue(Purpose.COHORT_FEED, cohort.id, cohort.organisation_id, None)
        blended = _blended(cohort.organisation_id)
        db.session.commit()
        url = str(db.engine.url)
        db.engine.dispose()
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    try:
        with gunicorn(environment, "app:create_app()", args.workers) as base:
            measure(base, person, whole, blended, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(base: str, person: str, whole: str, blended: str, args) -> None:  # type: ignore[no-untyped-def]
    """Each feed in full and conditionally, next to the floor, through wrk."""
    results = {}
    cases = {
        "floor (/health)": "/health",
        "participant feed": f"/feeds/{person}.ics",
        "cohort feed": f"/feeds/{whole}.ics",
        "blended cohort feed": f"/feeds/{blended}.ics",
    }
    for name, path in cases.items():
        results[name] = wrk(base + path, args.seconds, args.connections, None)
        if path.endswith(".ics"):
            with urllib.request.urlopen(base + path) as response:  # noqa: S310
                etag = response.headers["ETag"]
            results[f"{name}, 304"] = wrk(
                base + path, args.seconds, args.connections, f"If-None-Match: {etag}"
            )
    floor = results["floor (/health)"][0]
    print(
        f"gunicorn, {args.workers} workers; wrk, 2 threads, {args.connections} connections, "
        f"{args.seconds} s each"
    )
    print(f"{'request':<28}{'req/s':>9}{'p95 ms':>9}{'÷ floor':>9}  target ≥ {TARGET}")
    for name, (rate, p95) in results.items():
        ratio = rate / floor
        verdict = "" if name == "floor (/health)" else ("met" if ratio >= TARGET else "missed")
        print(f"{name:<28}{rate:>9.0f}{p95:>9.2f}{ratio:>9.2f}  {verdict}".rstrip())


if __name__ == "__main__":
    main()
