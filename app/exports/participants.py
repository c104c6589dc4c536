"""Participants as a CSV or XLSX file in the columns the import reads: a row
per person and cohort, which the import reads back as the same people."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from app.exports import Rendered

HEADERS = {
    "de": (
        "Vorname",
        "Nachname",
        "E-Mail",
        "Abteilung",
        "Standort",
        "Führungskraft",
        "E-Mail Führungskraft",
        "Personalnummer",
        "Gruppe",
    ),
    "en": (
        "First name",
        "Last name",
        "E-mail",
        "Department",
        "Site",
        "Manager",
        "Manager e-mail",
        "Employee number",
        "Cohort",
    ),
}
MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Apostrophes before the formula sign count too, so that the import's
# "take one apostrophe off" gives back exactly what was stored: "'=x" is
# written as "''=x" and read as "'=x".
_FORMULA = re.compile(r"'*[=+\-@]")


def safe_cell(cell: str) -> str:
    """A leading =, +, - or @ would make a spreadsheet run the cell as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def render_participants(
    rows: Iterable[tuple[str, ...]], *, language: str, filename: str
) -> Rendered:
    """Semicolon-separated UTF-8 with a byte-order mark, which Excel in Germany
    opens correctly; each row holds the columns of HEADERS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS[language])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return Rendered(filename, MIMETYPE, ("\ufeff" + buffer.getvalue()).encode("utf-8"))


def render_participants_xlsx(
    rows: Iterable[tuple[str, ...]], *, language: str, filename: str
) -> Rendered:
    """The same columns as a workbook, written as a stream (write-only). Every
    cell is text, formatted as text, and protected like the CSV: a value
    that starts like a formula is never one."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="Teilnehmende" if language == "de" else "Participants")

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        cell.data_type = "s"  # never "f", whatever the text starts with
        cell.number_format = "@"
        return cell

    sheet.append([text(h) for h in HEADERS[language]])
    for row in rows:
        sheet.append([text(str(value)) for value in row])
    out = io.BytesIO()
    book.save(out)
    return Rendered(filename, XLSX_MIMETYPE, out.getvalue())
