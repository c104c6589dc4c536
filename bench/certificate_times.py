"""Printing certificates: a cohort of 30 and an organisation's year of 600
into one PDF each, with QR codes, the letterhead logo and the shipped font.

Reports seconds (median of the runs) and peak memory (tracemalloc, a run of
its own, as tracing slows Python down), next to two references measured in
the same run: a bare reportlab page with the same text in a built-in font and
no QR code (the floor), and the same page with reportlab's own QR widget (the
naive way). A cohort is also printed through the app in-process
(`GET /cohorts/<id>/certificates.pdf`) from a temporary SQLite database.
Target: 600 certificates in under 3 s on one core, memory not growing with
the count.

Run: `make bench` or `.venv/bin/python bench/certificate_times.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PIL import Image
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.exports.certificate_pdf import (  # noqa: E402
    PrintedCertificate,
    PrintedElement,
    register_fonts,
    write_pdf,
)
from app.i18n import Translator  # noqa: E402
from app.services.certificates import grouped, new_code  # noqa: E402

FIRST = ["Zoë", "Łukasz", "Şükrü", "Anna", "Jürgen", "Nguyễn Thị", "Γιώργος", "Ömer", "Marie"]
LAST = ["Öztürk", "Wiśniewski", "Müller-Lüdenscheidt", "Ağaoğlu", "Nguyễn", "Papadopoulos"]
TOPICS = (
    "Rolle der Lernbegleitung",
    "Hilfe zur Selbsthilfe",
    "Lernformate",
    "Lerntheorie",
    "Gesprächsführung",
    "Der Prozess der Lernbegleitung",
    "Erfahrungen teilen",
    "Netzwerk stärken",
)


def certificates(count: int, rng: random.Random) -> list[PrintedCertificate]:
    start = date(2027, 3, 1)
    made = []
    for number in range(1, count + 1):
        code = new_code()
        made.append(
            PrintedCertificate(
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                serial=f"{number:05d}",
                code=grouped(code),
                verify_url=f"https://qualiplan.example.org/verify/{code}",
                verify_text=f"qualiplan.example.org/verify/{code}",
                issued_on=start + timedelta(days=90),
                programme="Lernbegleitung Kompakt: zwei Seminartage und Reflexionstag",
                version_label="Curriculum: Lernbegleitung Kompakt, Version 3",
                period=(start, start + timedelta(days=57)),
                elements=(
                    PrintedElement("Seminartag 1: Rolle und Lernformate", start, start, 7),
                    PrintedElement(
                        "Seminartag 2: Der Prozess", start + timedelta(1), start + timedelta(1), 7
                    ),
                    PrintedElement(
                        "Reflexionstag", start + timedelta(57), start + timedelta(57), 4
                    ),
                ),
                topics=TOPICS,
                teaching_hours=18,
                issuer="Metallwerke Neckartal GmbH",
                signatory="Dr. Ulrike Hägele",
                signatory_role="Leitung Personalentwicklung",
            )
        )
    return made


def logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (1400, 560), (20, 90, 160, 255)).save(out, format="PNG")
    return out.getvalue()


def ours(batch: list[PrintedCertificate], picture: bytes) -> None:
    with tempfile.TemporaryFile() as out:
        write_pdf(batch, out, Translator("de"), logo_png=picture)


def bare(batch: list[PrintedCertificate], qr: bool = False) -> None:
    """The same strings on a page in Helvetica: what reportlab costs at least."""
    with tempfile.TemporaryFile() as out:
        canvas = Canvas(out, pagesize=A4, pageCompression=1)
        for cert in batch:
            canvas.setFont("Helvetica", 12)
            lines = [
                cert.issuer,
                "Zertifikat",
                "Hiermit wird bestätigt, dass",
                cert.name,
                "die Qualifizierung",
                cert.programme,
                *(f"{e.first_day} {e.title} {e.hours}" for e in cert.elements),
                " · ".join(cert.topics),
                cert.signatory,
                cert.signatory_role,
                cert.version_label,
                cert.verify_text,
                f"Nr. {cert.serial} · Code {cert.code}",
            ]
            for row, line in enumerate(lines):
                canvas.drawString(60, 780 - row * 20, line)
            if qr:
                widget = QrCodeWidget(cert.verify_url)
                drawing = Drawing(85, 85)
                drawing.add(widget)
                renderPDF.draw(drawing, canvas, 450, 60)
            canvas.showPage()
        canvas.save()


def seconds(work: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_mb(work: Callable[[], None]) -> float:
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def through_the_app(count: int, runs: int) -> float:
    """A cohort's certificates as the HR clerk downloads them."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import CurriculumRecord, Enrolment, Organisation, Participant, Role, User
    from app.services import attendance
    from app.services import certificates as service
    from app.services.accounts import create_user
    from app.services.cohorts import NewCohort, create_cohort
    from app.services.standards import import_standards
    from bench.large_data import bench_app
    from cohorts.eligibility import Mark

    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        with app.app_context():
            db.create_all()
            import_standards()
            org = Organisation(name="Metallwerke Neckartal GmbH", logo_png=logo())
            db.session.add(org)
            user = create_user("hr@bench.example", "HR", Role.HR, "bench-password-1", [org])
            version = db.session.scalar(
                select(CurriculumRecord).where(CurriculumRecord.key == "compact")
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
            rng = random.Random(7)  # noqa: S311 -- names, not secrets
            for number in range(count):
                person = Participant(
                    organisation=org,
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    email=f"p{number}@bench.example",
                )
                db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
            db.session.flush()
            board = attendance.grid(cohort)
            for session in board.sessions:
                mark = Mark.DONE if session.all_day else Mark.PRESENT
                for person in board.people:
                    attendance.set_mark(session, person, mark, None)
            service.issue_all(cohort, user)
            db.session.commit()
            cohort_id, user_id = cohort.id, user.id
            assert db.session.get(User, user_id) is not None
        client = app.test_client()
        client.post("/login", data={"email": "hr@bench.example", "password": "bench-password-1"})

        def download() -> None:
            response = client.get(f"/cohorts/{cohort_id}/certificates.pdf", buffered=True)
            assert response.status_code == 200, response.status_code
            assert response.data.startswith(b"%PDF")

        return seconds(download, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(2027)  # noqa: S311 -- sample names, not secrets
    register_fonts()
    picture = logo()
    ours(certificates(2, rng), picture)  # warm up: fonts parsed, modules loaded
    print(
        f"{'certificates':>12} {'seconds':>9} {'ms/page':>8} {'peak MB':>8}  bare page  naive QR"
    )
    for count in (30, 600):
        batch = certificates(count, rng)
        took = seconds(lambda b=batch: ours(b, picture), args.runs)
        floor = seconds(lambda b=batch: bare(b), args.runs)
        naive = seconds(lambda b=batch[:30]: bare(b, qr=True), args.runs) / 30
        peak = peak_mb(lambda b=batch: ours(b, picture))
        print(
            f"{count:>12} {took:>9.3f} {took / count * 1000:>8.2f} {peak:>8.1f}"
            f"  {floor / count * 1000:>6.2f} ms  {naive * 1000:>6.2f} ms"
            f"   (÷ floor {took / floor:.1f})"
        )
    app_seconds = through_the_app(30, args.runs)
    print(f"through the app, a cohort of 30 as one PDF: {app_seconds:.3f} s")


if __name__ == "__main__":
    main()
