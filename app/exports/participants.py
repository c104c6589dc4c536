"""Participants as a CSV file in the columns the import reads."""

from __future__ import annotations

import csv
import io
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
        "Cohort",
    ),
}
MIMETYPE = "text/csv; charset=utf-8"


def safe_cell(cell: str) -> str:
    """A leading =, +, - or @ would make a spreadsheet run the cell as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def render_participants(
    rows: Iterable[tuple[str, ...]], *, language: str, filename: str
) -> Rendered:
    """Semicolon-separated UTF-8 with a byte-order mark, which Excel in Germany
    opens correctly; each row holds the eight columns of HEADERS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS[language])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return Rendered(filename, MIMETYPE, ("\ufeff" + buffer.getvalue()).encode("utf-8"))
