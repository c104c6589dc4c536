"""Rows pasted from a spreadsheet into the list of people to act on: in a
line that names someone by address or employee number, the names and other
cells beside it are left aside; only lines in which nobody is found are
listed as not found, as they read."""

from __future__ import annotations

import html

from app.models import Role
from app.services import bulk
from app.services.policy import Actor
from tests.web.helpers import log_in
from tests.web.test_bulk_actions import enrolled, preview, setup


def test_rows_copied_from_excel_name_their_people_and_only_empty_lines_are_listed(
    client, make, db
):
    _, cohort, _ = setup(make)
    log_in(client, "hr@example.org")
    pasted = (
        "Vorname\tNachname\tE-Mail\r\n"
        "Anna\tMüller\tanna@eigene.example\r\n"
        "Ben\tKöhler\tBEN@eigene.example\r\n"
        "Tanja\tKöhler\ttanja@alt.example\r\n"
        "Carla\t\tcarla@eigene.example\r\n"
    )
    page = preview(client, action="enrol", cohort=str(cohort.id), pasted=pasted)
    text = html.unescape(page.get_data(as_text=True))
    assert "Die Liste nennt 3 bekannte Personen." in text
    assert "2 Einträge wurden nicht gefunden" in text
    assert "Zeile 1: Vorname · Nachname · E-Mail" in text
    assert "Zeile 4: Tanja · Köhler · tanja@alt.example" in text
    for cell in ("Zeile 2", "Zeile 3", "Zeile 5", ": Anna", ": Müller"):
        assert cell not in text
    assert "3 Personen werden eingeschrieben" in text
    assert enrolled(db, cohort) == set()


def test_a_known_employee_number_names_its_line_and_an_unknown_one_lists_it(client, make, db):
    _, cohort, _ = setup(make)
    log_in(client, "hr@example.org")
    pasted = "P-0\tAnna\tMüller\nP-3\tDora\tKühn\tPflege\nP-77\tEva\tSchulz\n"
    page = preview(client, action="enrol", cohort=str(cohort.id), pasted=pasted)
    text = html.unescape(page.get_data(as_text=True))
    assert "Die Liste nennt 2 bekannte Personen." in text
    assert "1 Eintrag wurde nicht gefunden" in text
    assert "Zeile 3: P-77 · Eva · Schulz" in text
    assert "2 Personen werden eingeschrieben" in text


def test_resolving_a_pasted_list_in_the_service(make, db):
    org, _, people = setup(make)
    hr = make.user(Role.HR, [org], email="hr2@example.org")
    found = bulk.resolve(
        Actor.of_user(hr),
        "Anna\tMüller\tanna@eigene.example\n"
        "x@eigene.example, dora@eigene.example\n"
        "\n"
        "Niemand\tHier\n",
    )
    assert [p.first_name for p in found.people] == ["Anna", "Dora"]
    # An address nobody has is named even beside one that is found.
    assert [(e.line, e.text) for e in found.unknown] == [
        (2, "x@eigene.example"),
        (4, "Niemand · Hier"),
    ]
    assert found.ambiguous == []
