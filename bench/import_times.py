"""Participant import: hostile files refused at once, and 5,000 rows imported
near the floor.

Refusals: each file is read in a process of its own (so that the memory
high-water mark is its own): time to the refusal, the peak of Python
allocations (tracemalloc) and the growth of the process's resident memory.
Targets: under 1 s and under 50 MB.

Imports: 5,000 people in a CSV and an XLSX file, all in one cohort, into a
new organisation each round, on a temporary SQLite file or DATABASE_URL
(an empty PostgreSQL database). The floor is the same file read and checked
plus one bulk INSERT of the people (what an import cannot do without); the
import adds the history entries, the enrolments and theirs. Target: the
import within 3 x the floor.

Run: .venv/bin/python bench/import_times.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from large_data import bench_app  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy import delete, insert, select  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import Change, CurriculumRecord, Enrolment, Organisation, Participant  # noqa: E402
from app.services.cohorts import NewCohort, create_cohort  # noqa: E402
from app.services.participant_import import (  # noqa: E402
    ImportRejected,
    check,
    import_rows,
    propose_mapping,
    read_table,
)
from app.services.standards import import_standards  # noqa: E402
from tests import hostile_files  # noqa: E402

HOSTILE = {
    "XLSX declaring A1:XFD1048576": ("dimension.xlsx", hostile_files.huge_dimension),
    "XLSX of 300,000 rows": ("rows.xlsx", hostile_files.many_rows),
    "XLSX row of 16,384 columns": ("wide.xlsx", hostile_files.wide_row),
    "CSV of 300,000 rows": ("rows.csv", hostile_files.csv_rows),
}
PEOPLE = 5000


def refuse(label: str) -> None:
    """One refusal, measured in this process; prints a JSON line."""
    name, build = HOSTILE[label]
    data = build()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    message = _outcome(name, data)
    took = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    # Again for the peak of Python's allocations: tracing slows every
    # allocation, so the time above is taken without it.
    tracemalloc.start()
    _outcome(name, data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "size": len(data),
                "seconds": took,
                "peak_mb": peak / 2**20,
                "rss_mb": grown / 1024,
                "message": message,
            }
        )
    )


def _outcome(name: str, data: bytes) -> str:
    try:
        read_table(name, data)
    except ImportRejected as error:
        return str(error.message)
    return "accepted"


def refusals() -> None:
    print("| file | size | refused in | Python peak | RSS growth | message |")
    print("|---|---|---|---|---|---|")
    for label in HOSTILE:
        out = subprocess.run(
            [sys.executable, __file__, "--refuse", label],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        met = "met" if r["seconds"] < 1 and max(r["peak_mb"], r["rss_mb"]) < 50 else "missed"
        print(
            f"| {label} | {r['size'] / 1024:,.1f} KB | {r['seconds'] * 1000:,.0f} ms "
            f"| {r['peak_mb']:.1f} MB | {r['rss_mb']:.1f} MB | {r['message']} ({met}) |"
        )


def files() -> dict[str, tuple[str, bytes]]:
    header = ["Personalnummer", "Vorname", "Nachname", "E-Mail", "Abteilung", "Standort", "Gruppe"]
    rows = [
        [f"{100000 + n}", f"Vor{n}", f"Nach{n}", f"p{n}@firma.example", "Produktion", "Ulm", "G1"]
        for n in range(PEOPLE)
    ]
    csv = "\r\n".join(";".join(r) for r in [header, *rows]).encode("utf-8-sig")
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in [header, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return {"CSV": ("people.csv", csv), "XLSX": ("people.xlsx", out.getvalue())}


def new_organisation(number: int) -> Organisation:
    organisation = Organisation(name=f"Import {number}", default_region="DE-BW")
    db.session.add(organisation)
    version = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
        )
    ).versions[-1]
    create_cohort(
        NewCohort(
            organisation=organisation,
            version=version,
            name="G1",
            start=date(2030, 3, 4),
            region="DE-BW",
        ),
        actor=None,
    )
    db.session.commit()
    return organisation


def read_and_check(name: str, data: bytes, organisation: Organisation):  # type: ignore[no-untyped-def]
    table = read_table(name, data)
    rows, problems = check(table, propose_mapping(table.headers), organisation)
    assert not problems, problems[:3]
    return rows


def floor(name: str, data: bytes, organisation: Organisation) -> float:
    started = time.perf_counter()
    rows = read_and_check(name, data, organisation)
    db.session.execute(
        insert(Participant),
        [
            {
                "organisation_id": organisation.id,
                "first_name": r.values["first_name"],
                "last_name": r.values["last_name"],
                "email": r.values["email"],
                "department": r.values["department"],
                "site": r.values["site"],
                "employee_number": r.values["employee_number"],
            }
            for r in rows
        ],
    )
    db.session.commit()
    return time.perf_counter() - started


def full(name: str, data: bytes, organisation: Organisation) -> float:
    started = time.perf_counter()
    rows = read_and_check(name, data, organisation)
    summary = import_rows(rows, organisation, None)
    db.session.commit()
    assert (summary.created, summary.enrolled) == (PEOPLE, PEOPLE), summary
    return time.perf_counter() - started


def empty(organisation: Organisation) -> None:
    people = select(Participant.id).where(Participant.organisation_id == organisation.id)
    db.session.execute(delete(Enrolment).where(Enrolment.participant_id.in_(people)))
    db.session.execute(delete(Change).where(Change.organisation_id == organisation.id))
    db.session.execute(delete(Participant).where(Participant.organisation_id == organisation.id))
    db.session.commit()


def imports(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            import_standards()
            db.session.commit()
            print(f"database: {db.engine.dialect.name}")
            print("| file | floor (read + check + one INSERT) | import | import / floor |")
            print("|---|---|---|---|")
            number = 0
            for label, (name, data) in files().items():
                floors, times = [], []
                for _ in range(rounds):
                    number += 1
                    organisation = new_organisation(number)
                    floors.append(floor(name, data, organisation))
                    empty(organisation)
                    times.append(full(name, data, organisation))
                    empty(organisation)
                f, t = statistics.median(floors), statistics.median(times)
                met = "met" if t <= 3 * f else "missed"
                print(
                    f"| {label}, {PEOPLE:,} rows | {f * 1000:,.0f} ms | {t * 1000:,.0f} ms "
                    f"| {t / f:.2f} x ({met}) |"
                )
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--refusals-only", action="store_true")
    parser.add_argument("--refuse", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refuse:
        refuse(args.refuse)
        return
    refusals()
    if not args.refusals_only:
        print()
        imports(args.rounds)


if __name__ == "__main__":
    main()
