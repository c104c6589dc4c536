"""The tandems of a cohort as CSV: one row per person, numbered by tandem."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from app.exports import Rendered
from app.exports.participants import MIMETYPE, safe_cell
from app.models import Tandem

HEADERS = {
    "de": ("Tandem", "Vorname", "Nachname", "E-Mail", "Abteilung", "Standort"),
    "en": ("Tandem", "First name", "Last name", "E-mail", "Department", "Site"),
}


def render_tandems(tandems: Sequence[Tandem], *, language: str, filename: str) -> Rendered:
    """Semicolon-separated UTF-8 with a byte-order mark, like the participant list."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS[language])
    for number, tandem in enumerate(tandems, start=1):
        for person in tandem.people:
            row = (
                person.first_name,
                person.last_name,
                person.email,
                person.department,
                person.site,
            )
            writer.writerow([str(number), *map(safe_cell, row)])
    return Rendered(filename, MIMETYPE, ("\ufeff" + buffer.getvalue()).encode("utf-8"))
