"""Lists on A4 paper: a heading, a table whose header row comes again on
every page, signature lines and "Seite 1 von 2" at the foot of each page.

The sign-in sheet, the printable schedule and the attendance report are
such lists. Pages are laid out before anything is drawn, so every page
knows the page count, and rows are never split between pages. Text is
set in the certificate's font and fitted into its cell with the
certificate's rules (smaller, then on more lines, then cut with an
ellipsis), so that nothing ever leaves its cell or the page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

from babel.dates import format_date
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from app import lists
from app.exports import Rendered
from app.exports.certificate_pdf import BOLD, MIMETYPE, REGULAR, new_canvas, register_fonts

# The certificate's text fitting, the one implementation of it.
from app.exports.certificate_pdf import _draw as draw_fitted
from app.exports.certificate_pdf import _fit as fit
from app.exports.certificate_pdf import _Fitted as Fitted
from app.exports.certificate_pdf import _width as text_width
from app.i18n import Translator

# Narrower than a certificate's (lists need the width), still wider than
# any office printer's unprintable edge.
MARGIN: float = 15 * mm
PADDING: float = 1.5 * mm
LEADING = 1.2
GRID_GREY = 0.55
HEADER_GREY = 0.9
SHADE_GREY = 0.96

# (most lines, largest size, smallest size), tried in turn.
Stages = tuple[tuple[int, float, float], ...]
CELL = ((1, 9.0, 8.5), (2, 8.5, 7.5), (3, 7.5, 6.5), (4, 6.5, 6.0))
HEADER_CELL = ((1, 8.0, 7.0), (2, 7.5, 7.0), (4, 7.0, 6.0), (7, 6.0, 6.0))
FACT = ((1, 9.5, 9.0), (2, 9.0, 8.0))
TITLE = ((1, 16.0, 13.0), (2, 13.0, 11.0))
FOOT = ((1, 7.5, 6.0),)
NOTE = ((3, 7.5, 6.5), (8, 6.5, 6.0))
LONG_DAY = {"de": "EEEE, dd.MM.yyyy", "en": "EEEE, d MMMM yyyy"}
# --- The words of printed lists ------------------------------------------


def listed_name(first_name: str, last_name: str) -> str:
    """As a list sorted by family name prints it: "Öztürk, Ayşe"."""
    return f"{last_name}, {first_name}" if first_name else last_name


def long_day(day: date, tr: Translator) -> str:
    return format_date(day, LONG_DAY[tr.language], locale=tr.language)


def clock(starts: time, ends: time, tr: Translator) -> str:
    # Spaces around the dash: a narrow column breaks the line there.
    return tr.gettext("%(start)s – %(end)s", start=f"{starts:%H:%M}", end=f"{ends:%H:%M}")


def days(first: date, last: date, tr: Translator) -> str:
    return tr.date(first) if first == last else f"{tr.date(first)} – {tr.date(last)}"


def short_day(day: date, tr: Translator) -> str:
    """A date without its weekday, where the weekday is said elsewhere."""
    return lists.short_day(day, tr.language)


# --- Pages ---------------------------------------------------------------


def fit_words(text: str, font: str, width: float, stages: Stages) -> Fitted:
    """`fit`, preferring a smaller size to a word broken between its letters
    in a narrow column: stages whose smallest size cannot hold the longest
    word are left out, and each starts no larger than the size at which it
    fits (and never below the stage's smallest)."""
    longest = max((text_width(word, font, 1) for word in text.split()), default=0.0)
    if longest:
        # Stages too large for the longest word are skipped while a later one holds it.
        stages = tuple(s for s in stages if longest * s[2] <= width) or stages[-1:]
        stages = tuple(
            (lines, max(smallest, min(largest, width / longest)), smallest)
            for lines, largest, smallest in stages
        )
    return fit(text, font, width, stages)


@dataclass(frozen=True)
class Column:
    title: str
    # A share of the table's width, so the same columns fit portrait and
    # landscape pages.
    weight: float
    align: Literal["left", "right", "centre"] = "left"
    stages: Stages = CELL


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    # Rows are at least this high (a signature needs room).
    row_height: float = 7 * mm
    # Empty rows after the last, at least this many, and as many more as
    # fill the last page (people who come without being on the list).
    blank_rows: int = 0
    # Rows set in bold after the others (totals).
    closing_rows: tuple[tuple[str, ...], ...] = ()
    # Said under the header when there are no rows at all.
    empty_text: str = ""
    # Every other row lightly shaded, for long rows read across.
    striped: bool = False


@dataclass(frozen=True)
class Document:
    title: str
    # Label and value lines under the title, on every page.
    facts: tuple[tuple[str, str], ...]
    table: Table
    # At the foot of every page, left of the page number.
    footer: str
    # Lines to sign on at the foot of every page, each with what it is for.
    signatures: tuple[str, ...] = ()
    # Said under the table on the last page (a legend).
    notes: tuple[str, ...] = ()
    orientation: Literal["portrait", "landscape"] = "portrait"
    pdf_title: str = ""
    # The file's metadata: who made it (the organisation) and what it is about.
    pdf_author: str = ""
    pdf_subject: str = ""

    @property
    def size(self) -> tuple[float, float]:
        width, height = landscape(A4) if self.orientation == "landscape" else A4
        return float(width), float(height)


@dataclass
class _Row:
    cells: tuple[str, ...]
    height: float
    bold: bool = False
    shaded: bool = False
    fitted: list[Fitted] = field(default_factory=list)


def render_document(document: Document, tr: Translator, *, filename: str) -> Rendered:
    buffer = io.BytesIO()
    write_document(document, buffer, tr)
    return Rendered(filename, MIMETYPE, buffer.getvalue())


def write_document(document: Document, out: io.BytesIO, tr: Translator) -> int:
    """Writes the document as one PDF to `out`; returns the page count."""
    register_fonts()
    layout = _Layout(document)
    pages = layout.pages()
    canvas = new_canvas(
        out,
        tr,
        pagesize=document.size,
        title=document.pdf_title or document.title,
        author=document.pdf_author,
        subject=document.pdf_subject or document.title,
    )
    for number, rows in enumerate(pages, start=1):
        layout.draw_page(canvas, rows, tr, number, len(pages))
        canvas.showPage()
    canvas.save()
    return len(pages)


class _Layout:
    def __init__(self, document: Document) -> None:
        self.document = document
        # The same words come again and again in a column ("anwesend",
        # "Produktion"): each is fitted once.
        self._fitted: dict[tuple[str, str, float, Stages], Fitted] = {}
        self.width, self.height = document.size
        self.inner = self.width - 2 * MARGIN
        table = document.table
        total = sum(c.weight for c in table.columns)
        self.widths = [c.weight / total * self.inner for c in table.columns]
        self.title = fit(document.title, BOLD, self.inner, TITLE)
        self.label_width = min(
            45 * mm,
            max((text_width(label + ":", BOLD, 9) for label, _ in document.facts), default=0)
            + 3 * mm,
        )
        self.facts = [
            (
                fit(label + ":", BOLD, self.label_width - 2 * mm, FACT),
                fit(value, REGULAR, self.inner - self.label_width, FACT),
            )
            for label, value in document.facts
        ]
        self.header = self._row(tuple(c.title for c in table.columns), HEADER_CELL, bold=True)
        self.header.height = max(self.header.height, 7 * mm)
        self.notes = [fit(note, REGULAR, self.inner, NOTE) for note in document.notes]

    # --- measuring ----------------------------------------------------------

    def _row(
        self, cells: tuple[str, ...], stages: Stages | None = None, *, bold: bool = False
    ) -> _Row:
        fitted = []
        height = 0.0
        columns = self.document.table.columns
        for text, width, column in zip(cells, self.widths, columns, strict=True):
            key = (text, BOLD if bold else REGULAR, width - 2 * PADDING, stages or column.stages)
            cell = self._fitted.get(key)
            if cell is None:
                cell = self._fitted[key] = fit_words(*key)
            fitted.append(cell)
            height = max(height, len(cell.lines) * cell.size * LEADING)
        row = _Row(cells, max(height + 2 * PADDING, self.document.table.row_height), bold)
        row.fitted = fitted
        return row

    def _heading_height(self) -> float:
        height = len(self.title.lines) * self.title.size * LEADING + 3 * mm
        for label, value in self.facts:
            lines = max(len(label.lines), len(value.lines))
            height += lines * value.size * LEADING + 0.8 * mm
        return float(height + 4 * mm)

    def _foot_height(self) -> float:
        signatures = 16 * mm if self.document.signatures else 0
        # The notes follow the last row; kept free on every page, as any
        # page may turn out to be the last.
        notes = sum(len(n.lines) * n.size * LEADING for n in self.notes)
        return float(8 * mm + signatures + (notes + 3 * mm if self.notes else 0))

    def _room(self) -> float:
        """The height for rows below the header row, on every page."""
        return (
            self.height
            - 2 * MARGIN
            - self._heading_height()
            - self.header.height
            - self._foot_height()
        )

    def pages(self) -> list[list[_Row]]:
        table = self.document.table
        rows = [self._row(cells) for cells in table.rows]
        if table.striped:
            for number, row in enumerate(rows):
                row.shaded = number % 2 == 1
        room = self._room()
        pages: list[list[_Row]] = [[]]
        used = 0.0

        def place(row: _Row) -> None:
            nonlocal used
            if pages[-1] and used + row.height > room:
                pages.append([])
                used = 0.0
            pages[-1].append(row)
            used += row.height

        for row in rows:
            place(row)
        closing = [self._row(cells, bold=True) for cells in table.closing_rows]
        closing_height = sum(row.height for row in closing)
        if table.blank_rows:
            blank = self._row(tuple("" for _ in table.columns))
            free = int((room - used - closing_height) // blank.height)
            for _ in range(max(table.blank_rows, free)):
                place(_Row(blank.cells, blank.height, fitted=blank.fitted))
        for row in closing:
            place(row)
        return pages

    # --- drawing ------------------------------------------------------------

    def draw_page(
        self, canvas: Canvas, rows: Sequence[_Row], tr: Translator, number: int, count: int
    ) -> None:
        y = self.height - MARGIN
        for line in self.title.lines:
            y -= self.title.size
            draw_fitted(canvas, self.title, line, MARGIN, y)
            y -= self.title.size * (LEADING - 1)
        y -= 3 * mm
        for label, value in self.facts:
            top = y
            for fitted, x in ((label, MARGIN), (value, MARGIN + self.label_width)):
                line_y = top
                for line in fitted.lines:
                    line_y -= fitted.size
                    draw_fitted(canvas, fitted, line, x, line_y)
                    line_y -= fitted.size * (LEADING - 1)
            lines = max(len(label.lines), len(value.lines))
            y = top - lines * value.size * LEADING - 0.8 * mm
        y -= 4 * mm
        # All cells of the page in one text object: a fraction of the cost
        # of one per line, for pages of hundreds of cells.
        cells = canvas.beginText()
        y = self._draw_row(canvas, cells, self.header, y, fill=HEADER_GREY)
        for row in rows:
            fill = SHADE_GREY if row.shaded else None
            y = self._draw_row(canvas, cells, row, y, fill=fill)
        canvas.drawText(cells)
        if not self.document.table.rows and number == 1 and self.document.table.empty_text:
            empty = fit(self.document.table.empty_text, REGULAR, self.inner, CELL)
            y -= 6 * mm
            draw_fitted(canvas, empty, empty.lines[0], MARGIN, y)
        if number == count:
            y -= 3 * mm
            for note in self.notes:
                for line in note.lines:
                    y -= note.size * LEADING
                    draw_fitted(canvas, note, line, MARGIN, y)
        self._draw_foot(canvas, tr, number, count)

    def _draw_row(
        self, canvas: Canvas, cells: PDFTextObject, row: _Row, top: float, *, fill: float | None
    ) -> float:
        bottom = top - row.height
        if fill is not None:
            canvas.setFillGray(fill)
            canvas.rect(MARGIN, bottom, self.inner, row.height, stroke=0, fill=1)
            canvas.setFillGray(0)
        canvas.setStrokeGray(GRID_GREY)
        canvas.setLineWidth(0.5)
        canvas.rect(MARGIN, bottom, self.inner, row.height, stroke=1, fill=0)
        x = MARGIN
        for width, column, cell in zip(
            self.widths, self.document.table.columns, row.fitted, strict=True
        ):
            if x > MARGIN:
                canvas.line(x, bottom, x, top)
            if not any(cell.lines):
                x += width
                continue  # an empty cell: a box to write or sign in
            block = len(cell.lines) * cell.size * LEADING
            # Centred in the row, the first baseline one font size below the block's top.
            line_y = top - (row.height - block) / 2 - cell.size
            left, right = x + PADDING, x + width - PADDING
            anchor = {"left": left, "right": right, "centre": (left + right) / 2}[column.align]
            cells.setFont(cell.font, cell.size)
            for line in cell.lines:
                shift = 0.0
                if column.align != "left":
                    shift = text_width(line, cell.font, cell.size)
                    shift /= 2 if column.align == "centre" else 1
                cells.setTextOrigin(anchor - shift, line_y)
                cells.textOut(line)
                line_y -= cell.size * LEADING
            x += width
        canvas.setStrokeGray(0)
        return bottom

    def _draw_foot(self, canvas: Canvas, tr: Translator, number: int, count: int) -> None:
        page = tr.gettext("Page %(number)d of %(count)d", number=number, count=count)
        page_fit = fit(page, REGULAR, 30 * mm, FOOT)
        draw_fitted(
            canvas, page_fit, page_fit.lines[0], self.width - MARGIN, MARGIN, align="right"
        )
        footer = fit(self.document.footer, REGULAR, self.inner - 35 * mm, FOOT)
        draw_fitted(canvas, footer, footer.lines[0], MARGIN, MARGIN)
        signatures = self.document.signatures
        if not signatures:
            return
        width = (self.inner - (len(signatures) - 1) * 10 * mm) / len(signatures)
        line_y = MARGIN + 14 * mm
        canvas.setLineWidth(0.5)
        for index, label in enumerate(signatures):
            left = MARGIN + index * (width + 10 * mm)
            canvas.line(left, line_y, left + width, line_y)
            caption = fit(label, REGULAR, width, FOOT)
            draw_fitted(canvas, caption, caption.lines[0], left, line_y - 3.5 * mm)
