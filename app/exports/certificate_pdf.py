"""Certificates as print-ready A4 PDF: one page per certificate.

The fonts are DejaVu Sans, shipped in app/fonts and embedded (as a subset),
so any name an HR system holds prints with its own letters. The QR code is
drawn as one vector path of filled runs, which costs a fraction of a
millisecond per page; the letterhead logo is stored once per file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import BinaryIO

import segno
from babel.dates import format_date
from babel.numbers import format_decimal
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from app.exports import Rendered
from app.i18n import Translator

FONTS = Path(__file__).resolve().parent.parent / "fonts"
REGULAR, BOLD = "QualiplanSans", "QualiplanSans-Bold"
MIMETYPE = "application/pdf"

WIDTH, HEIGHT = A4
# Wider than any office printer's unprintable edge.
MARGIN = 22 * mm
TEXT_WIDTH = WIDTH - 2 * MARGIN
QR_SIZE = 30 * mm
# A fixed mask: any of the eight is valid, and choosing the "best" one costs
# five times as long as the rest of the QR code.
QR_MASK = 2
# Without the weekday the schedule pages show: a certificate states dates.
DAY_PATTERNS = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}


@dataclass(frozen=True)
class PrintedElement:
    title: str
    first_day: date
    last_day: date
    hours: float


@dataclass(frozen=True)
class PrintedCertificate:
    """Everything one certificate page says, in the language it is printed in."""

    name: str
    serial: str
    code: str  # grouped for reading, e.g. "7KQ2-M9XD-4TRA-HC3P"
    verify_url: str  # in the QR code
    verify_text: str  # printed under it: short, without the scheme
    issued_on: date
    programme: str
    version_label: str
    period: tuple[date, date] | None
    elements: tuple[PrintedElement, ...]
    topics: tuple[str, ...]
    teaching_hours: float
    issuer: str
    signatory: str
    signatory_role: str


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


def missing_glyphs(text: str) -> str:
    """The characters of `text` the certificate font cannot print."""
    register_fonts()
    font = pdfmetrics.getFont(REGULAR)
    widths = font.face.charWidths  # type: ignore[attr-defined]
    return "".join(sorted({c for c in text if not c.isspace() and ord(c) not in widths}))


def write_pdf(
    certificates: Iterable[PrintedCertificate],
    out: BinaryIO,
    tr: Translator,
    *,
    logo_png: bytes | None = None,
    title: str = "",
) -> int:
    """Writes the certificates to `out` as one PDF; returns the page count."""
    register_fonts()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=True)
    canvas.setTitle(title or tr.gettext("Certificate"))
    canvas.setCreator("Qualiplan")
    letterhead = _letterhead(canvas, logo_png)
    pages = 0
    for certificate in certificates:
        _page(canvas, certificate, tr, letterhead)
        canvas.showPage()
        pages += 1
    if not pages:
        canvas.setFont(REGULAR, 12)
        canvas.drawString(MARGIN, HEIGHT - MARGIN, tr.gettext("No certificates to print."))
        canvas.showPage()
    canvas.save()
    return pages


def render_certificate(
    certificate: PrintedCertificate, tr: Translator, *, logo_png: bytes | None, filename: str
) -> Rendered:
    buffer = io.BytesIO()
    write_pdf([certificate], buffer, tr, logo_png=logo_png, title=certificate.name)
    return Rendered(filename, MIMETYPE, buffer.getvalue())


def _letterhead(canvas: Canvas, logo_png: bytes | None) -> str | None:
    """The logo as a form object drawn on every page, stored in the file once."""
    if not logo_png:
        return None
    image = ImageReader(io.BytesIO(logo_png))
    width, height = image.getSize()
    scale = min(55 * mm / width, 22 * mm / height)
    canvas.beginForm("letterhead")
    canvas.drawImage(
        image,
        MARGIN,
        HEIGHT - MARGIN - height * scale,
        width * scale,
        height * scale,
        mask="auto",
    )
    canvas.endForm()
    return "letterhead"


def _page(
    canvas: Canvas, cert: PrintedCertificate, tr: Translator, letterhead: str | None
) -> None:
    top = HEIGHT - MARGIN
    if letterhead:
        canvas.doForm(letterhead)
    canvas.setFont(BOLD, 11)
    for number, line in enumerate(simpleSplit(cert.issuer, BOLD, 11, 80 * mm)[:3]):
        canvas.drawRightString(WIDTH - MARGIN, top - 11 - number * 14, line)

    y = top - 45 * mm
    canvas.setFont(BOLD, 30)
    canvas.drawCentredString(WIDTH / 2, y, tr.gettext("Certificate"))
    y -= 16 * mm
    canvas.setFont(REGULAR, 12)
    canvas.drawCentredString(WIDTH / 2, y, tr.gettext("This is to certify that"))
    y -= 14 * mm
    size = _fitting_size(cert.name, BOLD, 24, TEXT_WIDTH)
    canvas.setFont(BOLD, size)
    canvas.drawCentredString(WIDTH / 2, y, cert.name)
    y -= 12 * mm
    canvas.setFont(REGULAR, 12)
    canvas.drawCentredString(WIDTH / 2, y, tr.gettext("has completed the qualification programme"))
    y -= 10 * mm
    canvas.setFont(BOLD, 16)
    for line in simpleSplit(cert.programme, BOLD, 16, TEXT_WIDTH)[:2]:
        canvas.drawCentredString(WIDTH / 2, y, line)
        y -= 7 * mm
    y -= 3 * mm
    canvas.setFont(REGULAR, 12)
    hours = _hours(cert.teaching_hours, tr)
    if cert.period:
        closing = tr.gettext(
            "from %(first)s to %(last)s, with %(hours)s teaching hours.",
            first=_day(cert.period[0], tr),
            last=_day(cert.period[1], tr),
            hours=hours,
        )
    else:
        closing = tr.gettext("with %(hours)s teaching hours.", hours=hours)
    for line in simpleSplit(closing, REGULAR, 12, TEXT_WIDTH)[:2]:
        canvas.drawCentredString(WIDTH / 2, y, line)
        y -= 6 * mm

    y -= 8 * mm
    canvas.setFont(BOLD, 10)
    canvas.drawString(MARGIN, y, tr.gettext("Sessions attended"))
    y -= 6 * mm
    canvas.setFont(REGULAR, 9.5)
    for element in cert.elements[:10]:
        days = _day(element.first_day, tr)
        if element.last_day != element.first_day:
            days += " – " + _day(element.last_day, tr)
        canvas.drawString(MARGIN, y, days)
        if element.hours:
            canvas.drawRightString(WIDTH - MARGIN, y, _hours(element.hours, tr) + " h")
        for line in simpleSplit(element.title, REGULAR, 9.5, TEXT_WIDTH - 70 * mm)[:2]:
            canvas.drawString(MARGIN + 52 * mm, y, line)
            y -= 4.5 * mm
        y -= 0.5 * mm

    if cert.topics:
        y -= 4 * mm
        canvas.setFont(BOLD, 10)
        canvas.drawString(MARGIN, y, tr.gettext("Topics"))
        y -= 5.5 * mm
        canvas.setFont(REGULAR, 9)
        lines = simpleSplit(" · ".join(cert.topics), REGULAR, 9, TEXT_WIDTH)
        for line in lines[:6]:
            canvas.drawString(MARGIN, y, line)
            y -= 4.5 * mm

    _signature(canvas, cert, tr)
    _verification(canvas, cert, tr)


def _signature(canvas: Canvas, cert: PrintedCertificate, tr: Translator) -> None:
    y = MARGIN + 22 * mm
    canvas.setFont(REGULAR, 10)
    canvas.drawString(MARGIN, y + 14 * mm, _day(cert.issued_on, tr))
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, y + 8 * mm, MARGIN + 75 * mm, y + 8 * mm)
    canvas.setFont(BOLD, 10)
    canvas.drawString(MARGIN, y + 3 * mm, cert.signatory or cert.issuer)
    canvas.setFont(REGULAR, 9)
    if cert.signatory_role:
        canvas.drawString(MARGIN, y - 1.5 * mm, cert.signatory_role)
    canvas.setFont(REGULAR, 7.5)
    # Left of the verification block, which takes the right 70 mm.
    label = simpleSplit(cert.version_label, REGULAR, 7.5, TEXT_WIDTH - 75 * mm)[:2]
    for number, line in enumerate(label):
        canvas.drawString(MARGIN, MARGIN + (len(label) - 1 - number) * 3.5 * mm, line)


def _verification(canvas: Canvas, cert: PrintedCertificate, tr: Translator) -> None:
    left = WIDTH - MARGIN - QR_SIZE
    bottom = MARGIN + 12 * mm
    _qr(canvas, cert.verify_url, left, bottom, QR_SIZE)
    canvas.setFont(REGULAR, 7.5)
    right = WIDTH - MARGIN
    canvas.drawRightString(right, bottom - 4 * mm, tr.gettext("Check this certificate at"))
    canvas.drawRightString(right, bottom - 7.5 * mm, cert.verify_text)
    canvas.setFont(BOLD, 8)
    numbers = tr.gettext("No. %(serial)s · Code %(code)s", serial=cert.serial, code=cert.code)
    canvas.drawRightString(right, bottom - 11.5 * mm, numbers)


def _qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as filled rectangles, one per run of dark modules in a row,
    in module units so that the page holds short integers."""
    matrix = segno.make_qr(data, error="m", mask=QR_MASK, boost_error=False).matrix
    modules = len(matrix)
    canvas.saveState()
    canvas.translate(x, y + size)
    canvas.scale(size / modules, -size / modules)
    path = canvas.beginPath()
    for top, row in enumerate(matrix):
        start = None
        for column, dark in enumerate(row):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                path.rect(start, top, column - start, 1)
                start = None
        if start is not None:
            path.rect(start, top, modules - start, 1)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _fitting_size(text: str, font: str, size: float, width: float) -> float:
    """The largest size up to `size` at which `text` fits on one line."""
    natural = pdfmetrics.stringWidth(text, font, size)
    return size if natural <= width else max(10.0, size * width / natural)


def _day(day: date, tr: Translator) -> str:
    return format_date(day, DAY_PATTERNS[tr.language], locale=tr.language)


def _hours(hours: float, tr: Translator) -> str:
    return format_decimal(round(hours, 2), locale=tr.language)
