"""What signed credentials add to issuing certificates: a cohort of 600
people who all attended, issued at once (`issue_eligible`, as the button on
the cohort's certificate page does), with their Open Badges 3.0 credentials
(built, signed with Ed25519, each given its status list entry) and with the
credentials switched off. The difference is what credentials cost.

Each round issues inside a transaction that is rolled back afterwards, so
every round starts from the same state; the rounds alternate between the
two ways. The organisation's signing key and its status list count exist
beforehand (made on the first certificate ever, not on every one). Reported:
the median of the rounds (wall clock, and the CPU time of this process,
which other work on a shared machine disturbs less), the difference and the
ratio. Target: credentials
add less than 0.5 s to 600 certificates.

Run: `.venv/bin/python bench/credential_times.py [--people N] [--rounds N]`
on a temporary SQLite file, or with DATABASE_URL (a PostgreSQL database of
your own; its tables are dropped and made anew).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_data import bench_app  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from app.credentials import keys, status  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    AttendanceRecord,
    Certificate,
    CredentialRecord,
    CurriculumRecord,
    Enrolment,
    Organisation,
    Participant,
    Role,
)
from app.services import attendance, certificates  # noqa: E402
from app.services.accounts import create_user  # noqa: E402
from app.services.cohorts import NewCohort, create_cohort  # noqa: E402
from app.services.policy import Actor  # noqa: E402
from app.services.standards import import_standards  # noqa: E402
from cohorts.eligibility import Mark  # noqa: E402


def a_cohort(people: int) -> tuple[int, int]:
    """A compact cohort with `people` enrolled who attended everything; the
    cohort's id and an admin's id."""
    import_standards()
    org = Organisation(name="Metallwerke Neckartal GmbH")
    db.session.add(org)
    admin = create_user("admin@bench.example", "Admin", Role.ADMIN, "bench-password-1", [org])
    version = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
        )
    ).versions[-1]
    cohort, _ = create_cohort(
        NewCohort(
            organisation=org,
            version=version,
            name="Kompakt Esslingen",
            start=date(2027, 3, 1),
            region="DE-BW",
        ),
        actor=None,
    )
    db.session.flush()
    db.session.execute(
        insert(Participant),
        [
            {
                "organisation_id": org.id,
                "first_name": f"Gast{n}",
                "last_name": f"Müller{n}",
                "email": f"gast{n}@bench.example",
                "manager_name": "",
                "manager_email": "",
                "lock_version": 1,
            }
            for n in range(people)
        ],
    )
    ids = db.session.scalars(select(Participant.id).where(Participant.organisation_id == org.id))
    db.session.execute(
        insert(Enrolment), [{"cohort_id": cohort.id, "participant_id": p} for p in ids]
    )
    db.session.flush()
    board = attendance.grid(cohort)
    for session in board.sessions:
        mark = Mark.DONE if session.all_day else Mark.PRESENT
        for person in board.people:
            attendance.set_mark(session, person, mark, None)
    # The key and the list count exist after the organisation's first certificate.
    keys.current(org.id)
    status.take(org.id, 0)
    db.session.commit()
    records = db.session.scalar(select(func.count()).select_from(AttendanceRecord))
    assert records == people * len(board.sessions), records
    return cohort.id, admin.id


def issue(cohort_id: int, admin_id: int, people: int) -> None:
    from app.models import User

    actor = Actor.of_user(db.session.get(User, admin_id))
    issued = certificates.issue_eligible(actor, cohort_id)
    assert len(issued) == people, len(issued)


def timed(work: Callable[[], None]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds of `work`."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        work()
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        db.session.rollback()
        db.session.expunge_all()


def run(people: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.drop_all()
            db.create_all()
            cohort_id, admin_id = a_cohort(people)
            kind = db.engine.dialect.name

            def with_credentials() -> None:
                issue(cohort_id, admin_id, people)
                signed = db.session.scalar(select(func.count()).select_from(CredentialRecord))
                assert signed == people, signed

            def without_credentials() -> None:
                with mock.patch("app.services.certificates.credentials.issued"):
                    issue(cohort_id, admin_id, people)
                assert not db.session.scalar(select(func.count()).select_from(CredentialRecord))

            timed(with_credentials)  # warm up: modules, catalogs, the curriculum
            timed(without_credentials)
            plain, signed = [], []
            for _ in range(rounds):
                plain.append(timed(without_credentials))
                signed.append(timed(with_credentials))
            assert not db.session.scalar(select(func.count()).select_from(Certificate))
            base, total = (statistics.median(t[0] for t in ts) for ts in (plain, signed))
            base_cpu, total_cpu = (statistics.median(t[1] for t in ts) for ts in (plain, signed))
            print(
                f"{kind:>10} {people:>6} {base:>10.3f} {total:>10.3f} {total - base:>10.3f}"
                f" {total / base:>6.2f}  {(total - base) / people * 1000:.2f} ms each;"
                f" CPU of this process: {base_cpu:.3f} s -> {total_cpu:.3f} s,"
                f" +{total_cpu - base_cpu:.3f} s"
            )
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'database':>10} {'people':>6} {'plain s':>10} {'signed s':>10} {'added s':>10}"
        f" {'ratio':>6}"
    )
    run(args.people, args.rounds)


if __name__ == "__main__":
    main()
