"""Calendar feeds under load, next to the framework's floor.

With ten years of a large organisation loaded (bench/large_data.py), requests
a participant's feed and a cohort's feed through the WSGI app in-process,
once in full and once conditionally (If-None-Match, as calendar clients ask
again), and a trivial endpoint of the same app (/health) as the floor.
Reports requests per second and the 95th percentile, and ratios against the
floor. Targets: a feed reaches at least half of the floor's throughput; a
repeated conditional request costs less than a tenth of a full one.

Run: `make bench` or `.venv/bin/python bench/feed_times.py [--requests N]`.
`--through-core` runs the feed check through SQLAlchemy Core
(`connection.execute(statement).first()`) instead of `app.prepared_read`, to
weigh what the driver-level path buys.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from large_data import bench_app, build
from sqlalchemy import select

from app.extensions import db
from app.models import Cohort, Enrolment, Purpose
from app.services import calendars, tokens

# The targets, set for participant and cohort feeds: a feed reaches half of
# the floor's throughput (served from the render cache, as almost every
# request is); a conditional request costs less than a tenth of a response
# rendered anew. The trainer feed (the busiest trainer's ten years, 250
# sessions) is measured beside them, without a target.
THROUGHPUT = 0.5
CONDITIONAL = 0.1


def _verdict(name: str, met: bool) -> str:
    if name.startswith("trainer"):
        return "(no target)"
    return "met" if met else "missed"


def run(client, url: str, requests: int, headers=None, uncached=False):  # type: ignore[no-untyped-def]
    """Requests per second and p95 (ms); `uncached` renders every response anew."""
    expected = 304 if headers else 200
    for _ in range(20):
        assert client.get(url, headers=headers).status_code == expected, url
    timings = []
    started = time.perf_counter()
    for _ in range(requests):
        if uncached:
            calendars._RENDERED.clear()
        begin = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append(time.perf_counter() - begin)
        assert response.status_code == expected, url
    total = time.perf_counter() - started
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    return requests / total, p95


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


def _busiest_trainer(organisation_id: int) -> str:
    """A feed token for the trainer with the most sessions (ten years of them)."""
    from sqlalchemy import func

    from app.models.cohorts import session_trainers

    user_id = db.session.scalar(
        select(session_trainers.c.user_id)
        .group_by(session_trainers.c.user_id)
        .order_by(func.count().desc())
    )
    return tokens.issue(Purpose.TRAINER_FEED, user_id, organisation_id, None)


class CoreRead:
    """The feed check as SQLAlchemy Core runs any statement."""

    def __init__(self, statement) -> None:  # type: ignore[no-untyped-def]
        self.statement = statement

    def first(self, bind, params):  # type: ignore[no-untyped-def]
        from sqlalchemy import Engine

        if isinstance(bind, Engine):
            with bind.connect() as connection:
                row = connection.execute(self.statement, params).first()
        else:
            row = bind.execute(self.statement, params).first()
        return tuple(row) if row is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--through-core", action="store_true")
    args = parser.parse_args()
    if args.through_core:
        calendars._FEED_STATE = CoreRead(calendars._FEED_STATE.statement)  # type: ignore[assignment]
        print("feed check through SQLAlchemy Core")
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            sizes = build(args.years, random.Random(7))  # noqa: S311 -- bench data
            print(", ".join(f"{count:,} {name}" for name, count in sizes.items()))
            # A participant of a running cohort with the most enrolments, and that cohort.
            enrolment = db.session.scalars(select(Enrolment).order_by(Enrolment.id.desc())).first()
            cohort = db.session.get(Cohort, enrolment.cohort_id)
            person_feed = tokens.issue(
                Purpose.PARTICIPANT_FEED, enrolment.participant_id, cohort.organisation_id, None
            )
            cohort_feed = tokens.issue(
                Purpose.COHORT_FEED, cohort.id, cohort.organisation_id, None
            )
            blended_feed = _blended(cohort.organisation_id)
            trainer_feed = _busiest_trainer(cohort.organisation_id)
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        # (url, conditional, rendered anew each time)
        cases = {
            "floor (/health)": ("/health", False, False),
            "participant feed, rendered": (f"/feeds/{person_feed}.ics", False, True),
            "participant feed": (f"/feeds/{person_feed}.ics", False, False),
            "participant feed, 304": (f"/feeds/{person_feed}.ics", True, False),
            "cohort feed, rendered": (f"/feeds/{cohort_feed}.ics", False, True),
            "cohort feed": (f"/feeds/{cohort_feed}.ics", False, False),
            "cohort feed, 304": (f"/feeds/{cohort_feed}.ics", True, False),
            "blended cohort feed, rendered": (f"/feeds/{blended_feed}.ics", False, True),
            "blended cohort feed": (f"/feeds/{blended_feed}.ics", False, False),
            "blended cohort feed, 304": (f"/feeds/{blended_feed}.ics", True, False),
            "trainer feed, rendered": (f"/feeds/{trainer_feed}.ics", False, True),
            "trainer feed": (f"/feeds/{trainer_feed}.ics", False, False),
            "trainer feed, 304": (f"/feeds/{trainer_feed}.ics", True, False),
        }
        results = {}
        for name, (url, conditional, uncached) in cases.items():
            headers = None
            if conditional:
                headers = {"If-None-Match": client.get(url).headers["ETag"]}
            count = args.requests // 10 if uncached else args.requests
            results[name] = run(client, url, count, headers, uncached)
        floor = results["floor (/health)"][0]
        print(f"{'request':<28}{'req/s':>9}{'p95 ms':>9}{'÷ floor':>9}  target ≥ {THROUGHPUT}")
        for name, (rate, p95) in results.items():
            ratio = rate / floor
            verdict = ""
            if name != "floor (/health)" and not name.endswith("rendered"):
                verdict = _verdict(name, ratio >= THROUGHPUT)
            print(f"{name:<28}{rate:>9.0f}{p95:>9.2f}{ratio:>9.2f}  {verdict}".rstrip())
        print(f"a 304 against a rendered response, target < {CONDITIONAL}:")
        for kind in ("participant feed", "cohort feed", "blended cohort feed", "trainer feed"):
            rendered, again = results[f"{kind}, rendered"][0], results[f"{kind}, 304"][0]
            cost = rendered / again
            verdict = _verdict(kind, cost < CONDITIONAL)
            print(f"  {kind:<26}{cost:>9.3f}  {verdict}")
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
