import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.exports.participants import render_participants
from app.models import Enrolment, Participant
from app.services.participant_import import (
    ImportRejected,
    check,
    import_rows,
    propose_mapping,
    read_table,
)

HEADER = "Vorname;Nachname;E-Mail;Abteilung;Standort;Führungskraft;E-Mail Führungskraft;Gruppe\n"
GOOD = (
    HEADER
    + "Anna;Müller;anna.mueller@firma.example;Produktion;Ulm;Karl Kraus;karl.kraus@firma.example;"
    "Gruppe 1\n" + "Ömer;Yılmaz;oemer.yilmaz@firma.example;Logistik;Ulm;;;\n"
)


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def import_text(db, org, text, name="hr.csv", encoding="utf-8"):
    table = read_table(name, text.encode(encoding))
    rows, problems = check(table, propose_mapping(table.headers), org)
    assert problems == []
    summary = import_rows(rows, org, None)
    db.session.commit()
    return summary


def test_a_german_excel_csv_is_understood(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    table = read_table("hr.csv", ("\ufeff" + GOOD).encode("utf-8"))
    mapping = propose_mapping(table.headers)
    assert mapping == {
        "first_name": 0,
        "last_name": 1,
        "email": 2,
        "department": 3,
        "site": 4,
        "manager_name": 5,
        "manager_email": 6,
        "cohort": 7,
    }
    rows, problems = check(table, mapping, org)
    assert problems == []
    assert rows[1].values["first_name"] == "Ömer"


def test_windows_1252_and_commas(db, make):
    org = make.organisation()
    text = "first name,last name,email\nJürgen,Weiß,juergen@firma.example\n"
    summary = import_text(db, org, text, encoding="cp1252")
    assert summary.created == 1
    person = db.session.scalar(select(Participant))
    assert (person.first_name, person.last_name) == ("Jürgen", "Weiß")


def test_xlsx(db, make):
    org = make.organisation()
    data = xlsx([["Vorname", "Nachname", "E-Mail"], ["Lena", "Koch", "lena.koch@firma.example"]])
    table = read_table("Export.XLSX", data)
    rows, problems = check(table, propose_mapping(table.headers), org)
    assert problems == []
    assert rows[0].values["email"] == "lena.koch@firma.example"


def test_every_problem_is_named_by_row_and_column_and_nothing_is_imported(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    text = (
        HEADER
        + ";Müller;anna@firma.example;;;;;Gruppe 1\n"  # row 2: no first name
        + "Ben;Becker;kein-mail;;;;;\n"  # row 3: bad address
        + "Clara;Klein;clara@firma.example;;;;;Gruppe 9\n"  # row 4: unknown cohort
        + "Clara;Klein;CLARA@firma.example;;;;;\n"  # row 5: duplicate
        + "Dora;Dorn;dora@firma.example;;;;chef@;\n"  # row 6: bad manager address
        + "Jürgen;Jahn;jürgen@firma.example;;;;;\n"  # row 7: umlaut before the @
    )
    table = read_table("hr.csv", text.encode())
    _, problems = check(table, propose_mapping(table.headers), org)
    found = [(p.row, p.column, str(p.message)) for p in problems]
    assert found == [
        (2, "Vorname", "is empty"),
        (3, "E-Mail", "'kein-mail' is not an e-mail address"),
        (4, "Gruppe", "there is no cohort 'Gruppe 9' in this organisation"),
        (5, "E-Mail", "CLARA@firma.example is in row 4 already"),
        (6, "E-Mail Führungskraft", "'chef@' is not an e-mail address"),
        (7, "E-Mail", "'jürgen@firma.example' is not an e-mail address"),
    ]
    assert db.session.scalar(select(func.count(Participant.id))) == 0


def test_importing_the_same_file_again_changes_nothing(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    first = import_text(db, org, GOOD)
    assert (first.created, first.enrolled) == (2, 1)
    again = import_text(db, org, GOOD)
    assert (again.created, again.updated, again.unchanged, again.enrolled) == (0, 0, 2, 0)
    assert db.session.scalar(select(func.count(Participant.id))) == 2
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1


def test_a_changed_row_updates_the_person(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    import_text(db, org, GOOD)
    summary = import_text(db, org, GOOD.replace("Produktion", "Instandhaltung"))
    assert (summary.updated, summary.unchanged) == (1, 1)
    person = db.session.scalar(select(Participant).where(Participant.first_name == "Anna"))
    assert person.department == "Instandhaltung"


def test_capacity_is_enforced_for_the_whole_file(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1", capacity=1)
    text = HEADER + "".join(f"P{n};Person;p{n}@firma.example;;;;;Gruppe 1\n" for n in range(3))
    table = read_table("hr.csv", text.encode())
    _, problems = check(table, propose_mapping(table.headers), org)
    assert [(p.row, str(p.message)) for p in problems] == [
        (3, "the cohort 'Gruppe 1' is full (1 places)"),
        (4, "the cohort 'Gruppe 1' is full (1 places)"),
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("people.pdf", b"%PDF", "'people.pdf' is neither a CSV nor an XLSX file"),
        ("people.csv", b"\n\n", "the file is empty"),
        ("people.xlsx", b"not a zip", "the file is not a readable XLSX workbook"),
    ],
)
def test_unreadable_files(name, data, message):
    with pytest.raises(ImportRejected, match=message):
        read_table(name, data)


def test_required_columns_must_be_chosen(db, make):
    org = make.organisation()
    table = read_table("hr.csv", b"Name;Telefon\nA;0711\n")
    mapping = propose_mapping(table.headers)
    assert mapping["first_name"] is None
    _, problems = check(table, mapping, org)
    assert [str(p.message) for p in problems] == [
        "no column is chosen for the required field first name",
        "no column is chosen for the required field e-mail address",
    ]


def test_the_export_reads_back_in(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    import_text(db, org, GOOD)
    people = db.session.scalars(select(Participant).order_by(Participant.last_name)).all()
    rows = [
        (
            p.first_name,
            p.last_name,
            p.email,
            p.department,
            p.site,
            p.manager_name,
            p.manager_email,
            "Gruppe 1" if p.enrolments else "",
        )
        for p in people
    ]
    for language in ("de", "en"):
        exported = render_participants(rows, language=language, filename="x.csv").content
        table = read_table("x.csv", exported)
        assert propose_mapping(table.headers)["manager_email"] == 6
        rows_back, problems = check(table, propose_mapping(table.headers), org)
        assert problems == []
        assert [r.values["email"] for r in rows_back] == [p.email for p in people]


def test_the_export_defuses_spreadsheet_formulas():
    content = render_participants(
        [("=HYPERLINK(1)", "B", "c@d.example", "", "", "", "", "")],
        language="en",
        filename="x.csv",
    ).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in content


def test_a_csv_the_reader_cannot_follow_is_named_by_line():
    huge_field = b"Vorname;Nachname\nAnna;" + b"x" * 200_000 + b"\n"
    with pytest.raises(ImportRejected, match="line 2 of the file is not readable as CSV"):
        read_table("hr.csv", huge_field)


def test_old_mac_line_endings_are_read():
    table = read_table("hr.csv", b"Vorname;Nachname\rAnna;Albers\rBen;Bauer\r")
    assert table.rows == (("Anna", "Albers"), ("Ben", "Bauer"))
