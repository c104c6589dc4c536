"""Erasing one person from ten years of a large organisation.

Erasure searches every history row of the organisation for each name and
address the person ever had (a tandem confirmation lists everyone), so its
cost grows with the history. Loads bench/large_data.py's organisation into a
temporary SQLite file, adds the history the app would have written (each
person created and renamed once, each enrolment, two tandem confirmations
per cohort naming everyone), then erases people one by one through the
service, each with its own commit (on SQLite that includes emptying the
write-ahead log). The floor, measured in the same run: reading the
organisation's history rows once, the one pass erasure cannot do without.

Run: `.venv/bin/python bench/erasure_times.py [--years 10] [--people 5]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_data import bench_app, build  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import Change, Enrolment, Organisation, Participant  # noqa: E402
from app.services import privacy  # noqa: E402
from app.services.policy import Actor  # noqa: E402


def add_history(organisation_id: int) -> int:
    people = {p.id: p for p in db.session.scalars(select(Participant))}  # all in one organisation
    rows = []
    for person in people.values():
        state = {"first_name": person.first_name, "last_name": person.last_name}
        rows.append(_change(organisation_id, "participant", person.id, "created", None, state))
        renamed = state | {"last_name": person.last_name + "-Alt"}
        rows.append(_change(organisation_id, "participant", person.id, "updated", renamed, state))
    by_cohort: dict[int, list[str]] = {}
    for cohort_id, person_id in db.session.execute(
        select(Enrolment.cohort_id, Enrolment.participant_id)
    ):
        name = people[person_id].name
        by_cohort.setdefault(cohort_id, []).append(name)
        change = _change(organisation_id, "enrolment", person_id, "enrolled", None, None)
        rows.append(change | {"cohort_id": cohort_id, "after": {"participant": name}})
    for cohort_id, names in by_cohort.items():
        groups = [names[i : i + 2] for i in range(0, len(names), 2)]
        for _ in range(2):
            change = _change(organisation_id, "tandems", cohort_id, "tandems", None, None)
            rows.append(change | {"cohort_id": cohort_id, "after": {"tandems": groups}})
    db.session.execute(insert(Change), rows)
    db.session.commit()
    return len(rows)


def _change(organisation_id, subject, subject_id, action, before, after):  # type: ignore[no-untyped-def]
    return {
        "organisation_id": organisation_id,
        "cohort_id": None,
        "subject": subject,
        "subject_id": subject_id,
        "action": action,
        "before": before,
        "after": after,
    }


def floor(organisation_id: int) -> float:
    started = time.perf_counter()
    for _ in db.session.execute(
        select(Change.id, Change.before, Change.after)
        .where(Change.organisation_id == organisation_id)
        .execution_options(yield_per=500)
    ):
        pass
    db.session.rollback()
    return time.perf_counter() - started


def erase_one(person: Participant) -> float:
    started = time.perf_counter()
    privacy.erase(Actor.system(), person.id, person.name)
    db.session.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--people", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            counts = build(args.years, random.Random(2027))
            organisation_id = db.session.scalar(select(Organisation.id))
            changes = add_history(organisation_id)
            print(
                f"data: {counts['participants']:,} participants, "
                f"{counts['enrolments']:,} enrolments, {changes:,} history rows"
            )
            floors = [floor(organisation_id) for _ in range(3)]
            enrolled = db.session.scalars(
                select(Participant).join(Enrolment).distinct().limit(args.people)
            ).all()
            times = [erase_one(person) for person in enrolled]
            low = statistics.median(floors)
            median = statistics.median(times)
            print(f"floor, reading the history once: {low * 1000:,.0f} ms")
            print(
                f"erasing one person (median of {len(times)}): {median * 1000:,.0f} ms "
                f"({median / low:.1f} × the floor; slowest {max(times) * 1000:,.0f} ms)"
            )
            db.engine.dispose()


if __name__ == "__main__":
    main()
