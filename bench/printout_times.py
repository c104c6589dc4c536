"""Printing a cohort's paper with ten years of a large organisation loaded:
the sign-in sheet of a 40-person session and the attendance report (PDF and
XLSX) of a blended cohort (7 sessions, every mark taken), plus its schedule.

Each is measured through the app (the WSGI app in process, a fresh request
context per request, logged in as a trainer: median of the rounds after
warm-ups, with the number of SQL statements) and as the renderer alone (the
same plain data to bytes). The floor, measured in the same run: the same
strings drawn by bare reportlab in a built-in font at fixed places on the
same number of pages, without fitting, grid or embedded font.

Run: `.venv/bin/python bench/printout_times.py [--years 10] [--rounds 20]`.
The database is a temporary SQLite file, or DATABASE_URL (an empty database
that may be filled), e.g. postgresql://postgres@127.0.0.1:5432/<empty>.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import event, insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_data import PASSWORD, bench_app, build  # noqa: E402

from app.exports.attendance_report import (  # noqa: E402
    mark_text,
    outcome,
    render_report_pdf,
    render_report_xlsx,
)
from app.exports.cohort_schedule_pdf import render_schedule  # noqa: E402
from app.exports.sign_in_sheet import render_sign_in_sheet  # noqa: E402
from app.extensions import db  # noqa: E402
from app.i18n import Translator  # noqa: E402
from app.models import (  # noqa: E402
    AttendanceRecord,
    Cohort,
    CurriculumRecord,
    Enrolment,
    Organisation,
    Participant,
    Role,
    Session,
)
from app.services import printouts  # noqa: E402
from app.services.accounts import create_user  # noqa: E402
from app.services.cohorts import NewCohort, create_cohort  # noqa: E402
from app.services.policy import Actor  # noqa: E402
from cohorts.eligibility import Mark  # noqa: E402

TRAINER = "printing-trainer@bench.example"
MARKS = (Mark.PRESENT,) * 6 + (Mark.ABSENT, Mark.EXCUSED, Mark.PARTLY)


def prepare(rng: random.Random) -> dict[str, int]:
    """A compact cohort of 40 people next year and a blended cohort of the
    data set with every mark taken; a trainer who teaches both."""
    org = db.session.scalar(select(Organisation))
    trainer = create_user(TRAINER, "Tina Trainerin", Role.TRAINER, PASSWORD, [org])
    compact = db.session.scalar(
        select(CurriculumRecord).where(CurriculumRecord.key == "compact")
    ).versions[-1]
    start = date(date.today().year + 1, 3, 1)
    start += timedelta(days=-start.weekday() % 7)  # a Monday
    cohort, _ = create_cohort(
        NewCohort(
            organisation=org,
            version=compact,
            name="Kompakt Esslingen",
            start=start,
            region="DE-BW",
            venue="Schulungszentrum Esslingen, Raum 4",
            trainers=[trainer],
        ),
        actor=None,
    )
    db.session.flush()
    people = rng.sample(list(db.session.scalars(select(Participant.id))), 40)
    db.session.execute(
        insert(Enrolment), [{"cohort_id": cohort.id, "participant_id": p} for p in people]
    )
    blended = db.session.scalars(
        select(Cohort)
        .join(Cohort.version)
        .join(CurriculumRecord)
        .where(CurriculumRecord.key == "blended", Cohort.start_date < date.today())
        .order_by(Cohort.start_date.desc())
    ).first()
    sessions = list(db.session.scalars(select(Session).where(Session.cohort_id == blended.id)))
    enrolled = list(
        db.session.scalars(
            select(Enrolment.participant_id).where(Enrolment.cohort_id == blended.id)
        )
    )
    # Enrolled before the cohort began, as HR does.
    before = datetime.combine(blended.start_date, datetime.min.time(), UTC) - timedelta(days=14)
    db.session.execute(
        update(Enrolment).where(Enrolment.cohort_id == blended.id).values(enrolled_at=before)
    )
    rows = []
    for session in sessions:
        for person in enrolled:
            mark = rng.choice(MARKS)
            if session.all_day:
                mark = Mark.DONE if mark is Mark.PRESENT else Mark.NOT_DONE
            rows.append(
                {
                    "session_id": session.id,
                    "participant_id": person,
                    "for_cohort_id": blended.id,
                    "mark": mark,
                    "minutes_missed": 45 if mark is Mark.PARTLY else 0,
                }
            )
    db.session.execute(insert(AttendanceRecord), rows)
    db.session.commit()
    first = db.session.scalars(
        select(Session).where(Session.cohort_id == cohort.id).order_by(Session.first_day)
    ).first()
    return {
        "compact": cohort.id,
        "session": first.id,
        "blended": blended.id,
        "blended_people": len(enrolled),
        "blended_sessions": len(sessions),
    }


def median_ms(work: Callable[[], object], rounds: int) -> float:
    for _ in range(2):
        work()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def floor_pdf(lines_per_page: Iterable[list[str]], size: tuple[float, float]) -> bytes:
    """The same strings in Helvetica at fixed places: what reportlab costs at least."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=size, pageCompression=1, invariant=True)
    for lines in lines_per_page:
        canvas.setFont("Helvetica", 8)
        for row, line in enumerate(lines):
            canvas.drawString(40, size[1] - 40 - (row % 60) * 12, line[:120])
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    tr = Translator("de")
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            sizes = build(args.years, random.Random(7))  # noqa: S311 -- bench data
            ids = prepare(random.Random(11))  # noqa: S311 -- bench data
            print(
                f"{db.engine.dialect.name}: loaded in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
                + f"; the blended cohort has {ids['blended_people']} people and "
                f"{ids['blended_sessions']} sessions"
            )
            engine = db.engine
            system = Actor.system()
            now = datetime.now(UTC)
            sheet = printouts.sign_in_sheet(system, ids["compact"], ids["session"], "de")
            report = printouts.attendance_report(system, ids["blended"], "de", now=now)
            plan = printouts.schedule(system, ids["blended"], "de", now=now)
            db.session.remove()

        client = app.test_client()
        client.post("/login", data={"email": TRAINER, "password": PASSWORD})
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        def through_app(url: str) -> tuple[float, int, bytes]:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            took = median_ms(lambda: client.get(url), args.rounds)
            statements.clear()
            body = client.get(url).data
            return took, len(statements), body

        sheet_rows = [
            [
                f"{n} {p.last_name}, {p.first_name} {p.department} {p.site}"
                for n, p in enumerate(sheet.people, 1)
            ]
        ]
        report_rows = [
            [
                " ".join(
                    (
                        p.last_name,
                        p.first_name,
                        p.department,
                        *(mark_text(m, tr) for m in p.marks),
                        outcome(p, tr),
                    )
                )
                for p in report.people
            ]
        ]
        cases = [
            (
                f"sign-in sheet, {len(sheet.people)} people",
                f"/cohorts/{ids['compact']}/sessions/{ids['session']}/sign-in-sheet.pdf",
                lambda: render_sign_in_sheet(sheet, tr, filename="x.pdf"),
                sheet_rows,
                A4,
            ),
            (
                f"attendance report PDF, {len(report.people)} × {len(report.sessions)}",
                f"/cohorts/{ids['blended']}/attendance-report.pdf",
                lambda: render_report_pdf(report, tr, filename="x.pdf"),
                report_rows,
                landscape(A4),
            ),
            (
                f"attendance report XLSX, {len(report.people)} × {len(report.sessions)}",
                f"/cohorts/{ids['blended']}/attendance-report.xlsx",
                lambda: render_report_xlsx(report, tr, filename="x.xlsx"),
                None,
                None,
            ),
            (
                f"schedule, {len(plan.sessions)} sessions",
                f"/cohorts/{ids['blended']}/schedule.pdf",
                lambda: render_schedule(plan, tr, filename="x.pdf"),
                [[f"{s.title} {s.mode} {s.venue} {s.online_link}" for s in plan.sessions]],
                A4,
            ),
        ]
        print(
            f"{'printout':<38}{'app ms':>8}{'render ms':>10}{'floor ms':>9}"
            f"{'× floor':>8}{'pages':>6}{'stmts':>6}"
        )
        for name, url, render, rows, size in cases:  # type: ignore[assignment]
            took, count, body = through_app(url)
            rendered = median_ms(render, args.rounds)
            pdf = body.startswith(b"%PDF")
            pages = len(PdfReader(io.BytesIO(body)).pages) if pdf else 0
            if rows is not None and size is not None:
                # The same strings spread over the same number of pages.
                per_page = max(1, -(-len(rows[0]) // max(1, pages)))
                split = [rows[0][i : i + per_page] for i in range(0, len(rows[0]), per_page)]
                floor = median_ms(lambda s=split, z=size: floor_pdf(s, z), args.rounds)
                ratio = f"{rendered / floor:>8.1f}"
                floor_text = f"{floor:>9.1f}"
            else:
                floor_text, ratio = f"{'–':>9}", f"{'–':>8}"
            shown = str(pages) if pdf else "–"
            print(
                f"{name:<38}{took:>8.1f}{rendered:>10.1f}{floor_text}{ratio}{shown:>6}{count:>6}"
            )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
