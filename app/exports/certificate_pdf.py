"""Certificates as print-ready A4 PDF: one page per certificate.

The fonts are DejaVu Sans, shipped in app/fonts and embedded (as a subset),
so any name an HR system holds prints with its own letters; no font is
referenced that the file does not carry (a canvas starts in Helvetica unless
told otherwise). Every file says what archives read: title, author (the
organisation), subject, its language (/Lang) and the creator. The QR code is
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
from typing import Any, BinaryIO
from unicodedata import combining

import segno
from babel.dates import format_date
from babel.numbers import format_decimal
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from app.exports import Rendered
from app.i18n import Translator
from curricula.model import DEFAULT_UNIT_MINUTES

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
# The document language as PDF readers (and screen readers) take it.
PDF_LANGUAGES = {"de": "de-DE", "en": "en"}


@dataclass(frozen=True)
class PrintedElement:
    title: str
    first_day: date
    last_day: date
    hours: float
    units: float | None = None  # None: issued when certificates stated hours


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
    # Teaching units (Unterrichtseinheiten) of `unit_minutes`; None on a
    # certificate issued when certificates stated hours, which prints those.
    teaching_units: float | None = None
    unit_minutes: int = DEFAULT_UNIT_MINUTES


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


def new_canvas(
    out: Any,
    tr: Translator,
    *,
    pagesize: tuple[float, float] = A4,
    title: str,
    author: str = "",
    subject: str = "",
) -> Canvas:
    """A canvas for every Qualiplan PDF: compressed, reproducible, starting
    in the embedded font, and with the metadata archives read."""
    register_fonts()
    canvas = Canvas(
        out,
        pagesize=pagesize,
        pageCompression=1,
        invariant=True,
        # Without these the canvas sets Helvetica on every page, a font the
        # file then references without carrying it.
        initialFontName=REGULAR,
        initialFontSize=12,
        lang=PDF_LANGUAGES.get(tr.language, tr.language),
    )
    canvas.setTitle(title)
    canvas.setAuthor(author or "Qualiplan")
    canvas.setSubject(subject or title)
    canvas.setCreator("Qualiplan")
    return canvas


def write_pdf(
    certificates: Iterable[PrintedCertificate],
    out: BinaryIO,
    tr: Translator,
    *,
    logo_png: bytes | None = None,
    title: str = "",
    author: str = "",
    subject: str = "",
) -> int:
    """Writes the certificates to `out` as one PDF; returns the page count.
    `author` is the issuing organisation (by default the first certificate's
    issuer)."""
    canvas = new_canvas(
        out,
        tr,
        title=title or tr.gettext("Certificate"),
        author=author,
        subject=subject or tr.gettext("Certificate"),
    )
    letterhead = _letterhead(canvas, logo_png)
    pages = 0
    for certificate in certificates:
        if not pages and not author:
            # A batch is one organisation's: its issuer is the author.
            canvas.setAuthor(certificate.issuer or "Qualiplan")
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
    number = tr.gettext("Certificate no. %(serial)s", serial=certificate.serial)
    write_pdf(
        [certificate],
        buffer,
        tr,
        logo_png=logo_png,
        title=f"{number} – {certificate.name}" if certificate.name else number,
        author=certificate.issuer,
        subject=certificate.programme,
    )
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
    issuer = _fit(cert.issuer, BOLD, 80 * mm, ((3, 11, 8), (5, 8, 8)))
    for number, line in enumerate(issuer.lines):
        baseline = top - issuer.size - number * issuer.size * 1.27
        _draw(canvas, issuer, line, WIDTH - MARGIN, baseline, align="right")

    y = top - 45 * mm
    canvas.setFont(BOLD, 30)
    canvas.drawCentredString(WIDTH / 2, y, tr.gettext("Certificate"))
    y -= 16 * mm
    canvas.setFont(REGULAR, 12)
    canvas.drawCentredString(WIDTH / 2, y, tr.gettext("This is to certify that"))
    y -= 14 * mm
    # Every name a person can have fits: smaller on one line, then on two,
    # then on as many lines as the longest name needs.
    name = _fit(cert.name, BOLD, TEXT_WIDTH, ((1, 24, 16), (2, 20, 12), (8, 12, 9)))
    for number, line in enumerate(name.lines):
        if number:
            y -= name.size * 1.2
        _draw(canvas, name, line, WIDTH / 2, y, align="centre")
    y -= 12 * mm
    canvas.setFont(REGULAR, 12)
    canvas.drawCentredString(WIDTH / 2, y, tr.gettext("has completed the qualification programme"))
    y -= 10 * mm
    programme = _fit(cert.programme, BOLD, TEXT_WIDTH, ((2, 16, 12), (4, 12, 10)))
    for line in programme.lines:
        _draw(canvas, programme, line, WIDTH / 2, y, align="centre")
        y -= programme.size * 1.24
    y -= 3 * mm
    closing = _closing(cert, tr)
    fitted = _fit(closing, REGULAR, TEXT_WIDTH, ((2, 12, 10),))
    for line in fitted.lines:
        _draw(canvas, fitted, line, WIDTH / 2, y, align="centre")
        y -= 6 * mm

    # The sessions and topics end above the signature block, however long
    # the texts above them were.
    floor = _signature(canvas, cert, tr) + 6 * mm
    _verification(canvas, cert, tr)
    y -= 8 * mm
    if y - 6 * mm < floor:
        return  # only where the longest texts meet: no room for even one session
    canvas.setFont(BOLD, 10)
    canvas.drawString(MARGIN, y, tr.gettext("Sessions attended"))
    y -= 6 * mm
    for shown, element in enumerate(cert.elements[:10]):
        title = _fit(element.title, REGULAR, TEXT_WIDTH - 70 * mm, ((3, 9.5, 9.5),))
        if y - (len(title.lines) - 1) * 4.5 * mm < floor:
            _more(canvas, y, len(cert.elements) - shown, tr)
            return
        days = _day(element.first_day, tr)
        if element.last_day != element.first_day:
            days += " – " + _day(element.last_day, tr)
        canvas.setFont(REGULAR, 9.5)
        canvas.drawString(MARGIN, y, days)
        if element.units is not None:
            if element.units:
                units = tr.gettext("%(units)s units", units=_hours(element.units, tr))
                canvas.drawRightString(WIDTH - MARGIN, y, units)
        elif element.hours:
            canvas.drawRightString(WIDTH - MARGIN, y, _hours(element.hours, tr) + " h")
        for line in title.lines:
            _draw(canvas, title, line, MARGIN + 52 * mm, y)
            y -= 4.5 * mm
        y -= 0.5 * mm
    if len(cert.elements) > 10:
        _more(canvas, y, len(cert.elements) - 10, tr)
        y -= 4.5 * mm

    if cert.topics and y - 9.5 * mm >= floor:
        y -= 4 * mm
        canvas.setFont(BOLD, 10)
        canvas.drawString(MARGIN, y, tr.gettext("Topics"))
        y -= 5.5 * mm
        room = 1 + int((y - floor) // (4.5 * mm))
        topics = _fit(" · ".join(cert.topics), REGULAR, TEXT_WIDTH, ((min(6, room), 9, 9),))
        for line in topics.lines:
            _draw(canvas, topics, line, MARGIN, y)
            y -= 4.5 * mm


def _closing(cert: PrintedCertificate, tr: Translator) -> str:
    """The sentence that ends the statement: the period and the teaching time."""
    if cert.teaching_units is None:
        hours = _hours(cert.teaching_hours, tr)
        if cert.period:
            return tr.gettext(
                "from %(first)s to %(last)s, with %(hours)s teaching hours.",
                first=_day(cert.period[0], tr),
                last=_day(cert.period[1], tr),
                hours=hours,
            )
        return tr.gettext("with %(hours)s teaching hours.", hours=hours)
    values = {"units": _hours(cert.teaching_units, tr), "minutes": cert.unit_minutes}
    if cert.period:
        return tr.gettext(
            "from %(first)s to %(last)s, with %(units)s teaching units of %(minutes)d minutes.",
            first=_day(cert.period[0], tr),
            last=_day(cert.period[1], tr),
            **values,
        )
    return tr.gettext("with %(units)s teaching units of %(minutes)d minutes.", **values)


def _more(canvas: Canvas, y: float, count: int, tr: Translator) -> None:
    canvas.setFont(REGULAR, 9.5)
    canvas.drawString(MARGIN + 52 * mm, y, tr.gettext("and %(count)d more", count=count))


def _signature(canvas: Canvas, cert: PrintedCertificate, tr: Translator) -> float:
    """The date, the line to sign on, who signs and the curriculum, from the
    bottom up; returns the block's top."""
    width = TEXT_WIDTH - 75 * mm  # left of the verification block, the right 70 mm
    label = _fit(cert.version_label, REGULAR, width, ((2, 7.5, 6), (3, 6, 6)))
    for number, line in enumerate(label.lines):
        _draw(canvas, label, line, MARGIN, MARGIN + (len(label.lines) - 1 - number) * 3.5 * mm)
    y = MARGIN + 22 * mm  # the baseline of the role, or where it would be
    if cert.signatory_role:
        role = _fit(cert.signatory_role, REGULAR, width, ((1, 9, 7.5), (2, 7.5, 7.5)))
        y -= 1.5 * mm
        for number, line in enumerate(reversed(role.lines)):
            if number:
                y += 3.8 * mm
            _draw(canvas, role, line, MARGIN, y)
        y += 1.5 * mm
    signatory = _fit(cert.signatory or cert.issuer, BOLD, width, ((1, 10, 8), (2, 8, 8)))
    y += 3 * mm
    for number, line in enumerate(reversed(signatory.lines)):
        if number:
            y += 4.2 * mm
        _draw(canvas, signatory, line, MARGIN, y)
    y += 5 * mm
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, y, MARGIN + 75 * mm, y)
    y += 6 * mm
    canvas.setFont(REGULAR, 10)
    canvas.drawString(MARGIN, y, _day(cert.issued_on, tr))
    return y + 10


def _verification(canvas: Canvas, cert: PrintedCertificate, tr: Translator) -> None:
    left = WIDTH - MARGIN - QR_SIZE
    bottom = MARGIN + 12 * mm
    _qr(canvas, cert.verify_url, left, bottom, QR_SIZE)
    canvas.setFont(REGULAR, 7.5)
    right = WIDTH - MARGIN
    canvas.drawRightString(right, bottom - 4 * mm, tr.gettext("Check this certificate at"))
    address = _fit(cert.verify_text, REGULAR, 70 * mm, ((1, 7.5, 5.5),))
    _draw(canvas, address, address.lines[0], right, bottom - 7.5 * mm, align="right")
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


@dataclass(frozen=True)
class _Fitted:
    font: str
    size: float
    lines: tuple[str, ...]


def _fit(
    text: str, font: str, width: float, stages: tuple[tuple[int, float, float], ...]
) -> _Fitted:
    """`text` in lines of at most `width`: each stage (lines, largest size,
    smallest size) is tried in turn, shrinking in half points; the first
    that holds the text wins. Past the last stage the last line ends in an
    ellipsis, so that no text ever leaves its place."""
    size = stages[0][1]
    lines: list[str] = []
    for most, largest, smallest in stages:
        size = largest
        while True:
            lines = _wrap(text, font, size, width)
            if len(lines) <= most or size <= smallest:
                break
            size = max(smallest, size - 0.5)
        if len(lines) <= most:
            return _Fitted(font, size, tuple(lines))
    most = stages[-1][0]
    last = _prefix(" ".join(lines[most - 1 :]), font, size, width - _width("…", font, size))
    return _Fitted(font, size, (*lines[: most - 1], last.rstrip() + "…"))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Words onto lines of at most `width`; a word longer than a line is
    broken after a hyphen where one fits ("Zwischen-|Webinar"), else
    between its letters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while _width(word, font, size) > width:
            head = _prefix(word, font, size, width)
            hyphen = head.rfind("-")
            if 0 < hyphen < len(head) - 1:
                head = head[: hyphen + 1]
            lines.append(head)
            word = word[len(head) :]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def _prefix(text: str, font: str, size: float, width: float) -> str:
    """The longest start of `text` within `width`, at least one letter with
    its combining marks; never cut between a letter and its accents."""
    cuts = [i for i in range(1, len(text) + 1) if i == len(text) or not combining(text[i])]
    low, high = 0, len(cuts) - 1
    while low < high:  # the last cut that fits, by bisection
        middle = (low + high + 1) // 2
        if _width(text[: cuts[middle]], font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[: cuts[low]]


def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def _draw(
    canvas: Canvas, fitted: _Fitted, line: str, x: float, y: float, *, align: str = "left"
) -> None:
    canvas.setFont(fitted.font, fitted.size)
    if align == "centre":
        canvas.drawCentredString(x, y, line)
    elif align == "right":
        canvas.drawRightString(x, y, line)
    else:
        canvas.drawString(x, y, line)


def _day(day: date, tr: Translator) -> str:
    return format_date(day, DAY_PATTERNS[tr.language], locale=tr.language)


def _hours(hours: float, tr: Translator) -> str:
    return format_decimal(round(hours, 2), locale=tr.language)
