"""The import's mapping page shows the file's rows as they stand: an empty
cell keeps its column, in the header-row choice as in the first rows, and a
row with more cells than the header says so in words."""

from __future__ import annotations

import html
import re

from app.services.participant_import import read_table
from tests.web.helpers import log_in
from tests.web.test_participant_pages import setup, upload

TITLED = (
    "Teilnehmende Frühjahr;;;\n"
    "Vorname;Nachname;E-Mail;Abteilung\n"
    "Bert;;bert@@x;IT\n"
    "Anna;Müller;anna@firma.example;Produktion;zuviel\n"
    "Ben;Becker;ben@firma.example;\n"
)


def test_an_empty_cell_keeps_its_place_in_the_header_row_choice(client, make):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    page = html.unescape(upload(client, org_id, TITLED).get_data(as_text=True))
    assert "Zeile 3: Bert | – | bert@@x | IT" in page
    assert "Zeile 1: Teilnehmende Frühjahr<" in page  # no dashes for trailing cells
    # The first rows: one cell per column, the empty one marked as such.
    rows = re.findall(r"<tr><td>(\d+)</td>(.*?)</tr>", page)
    bert = dict(rows)["3"]
    assert re.findall(r"<td>(.*?)</td>", bert)[0:3] == [
        "Bert",
        '<span class="hint" aria-hidden="true">–</span><span class="visually-hidden">leer</span>',
        "bert@@x",
    ]


def test_a_row_longer_than_the_header_is_named_with_what_is_not_read(client, make):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    page = html.unescape(upload(client, org_id, TITLED).get_data(as_text=True))
    assert "1 Zeile hat mehr Zellen als die Überschriftenzeile" in page
    assert "Die Überschriftenzeile benennt 4 Spalten; was rechts davon steht" in page
    assert "Zeile 4: 1 Zelle mehr als die Überschriftenzeile (zuviel)" in page


def test_a_file_that_fits_its_header_says_nothing_of_it(client, make):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    page = upload(client, org_id, "Vorname;Nachname;E-Mail\nA;B;a@b.example\n;;\n")
    assert "mehr Zellen" not in page.get_data(as_text=True)


def test_a_column_without_a_header_is_offered_by_its_number(client, make):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    page = html.unescape(
        upload(client, org_id, "Vorname;Nachname;;E-Mail\nA;B;x;a@b.example\n").get_data(
            as_text=True
        )
    )
    assert '<option value="2">Spalte 3, ohne Überschrift</option>' in page


def test_the_table_read_names_the_longer_rows():
    table = read_table("f.csv", TITLED.encode())
    assert table.header_row == 2
    assert table.overlong == ((4, ("zuviel",)),)
    assert table.rows[0] == ("Bert", "", "bert@@x", "IT")
    assert table.candidates[2] == (3, "Bert | – | bert@@x | IT")
