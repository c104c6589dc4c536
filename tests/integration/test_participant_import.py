import codecs
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select

from app.exports.participants import render_participants, render_participants_xlsx
from app.models import Change, Cohort, Enrolment, Notification, Participant, Session
from app.services.enrolments import EnrolmentError
from app.services.participant_import import (
    ImportRejected,
    check,
    import_rows,
    propose_mapping,
    read_table,
)
from tests import hostile_files

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
        "employee_number": None,
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
        + "Claire;Klein;CLARA@firma.example;;;;;\n"  # row 5: another person, same address
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
            "",
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
        [("=HYPERLINK(1)", "B", "c@d.example", "", "", "", "", "", "")],
        language="en",
        filename="x.csv",
    ).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in content


def test_a_csv_the_reader_cannot_follow_is_named_by_line():
    huge_field = b"Vorname;Nachname\nAnna;" + b"x" * 200_000 + b"\n"
    with pytest.raises(ImportRejected, match="line 2 of the file is longer than 65536 characters"):
        read_table("hr.csv", huge_field)
    # A quoted value over many short lines grows past what the reader takes.
    spread = b'Vorname;Nachname\nBen;Bauer\nAnna;"' + (b"x" * 99 + b"\n") * 1400 + b'"\n'
    with pytest.raises(ImportRejected, match="line 1313 of the file is not readable as CSV"):
        read_table("hr.csv", spread)


def test_old_mac_line_endings_are_read():
    table = read_table("hr.csv", b"Vorname;Nachname\rAnna;Albers\rBen;Bauer\r")
    assert table.rows == (("Anna", "Albers"), ("Ben", "Bauer"))


# Files as HR systems write them


def problems_of(db, org, data, name="hr.csv", header_row=None):
    table = read_table(name, data, header_row)
    _, problems = check(table, propose_mapping(table.headers), org)
    return [(p.row, p.column, str(p.message)) for p in problems]


def test_row_numbers_are_the_files_own_lines(db, make):
    org = make.organisation()
    text = (
        "Vorname;Nachname;E-Mail\n"
        "\n"  # line 2: blank
        "Anna;Albers;anna@firma.example\n"  # line 3
        ';"Bauer\nvon Bach";ben@firma.example\n'  # lines 4-5: a value over two lines
        "Cem;Cakir;kein-mail\n"  # line 6
    )
    assert problems_of(db, org, text.encode()) == [
        (4, "Nachname", NOT_ONE_LINE_TEXT),
        (4, "Vorname", "is empty"),
        (6, "E-Mail", "'kein-mail' is not an e-mail address"),
    ]
    sheet = hostile_files.workbook(
        [
            hostile_files.row_xml(1, hostile_files.HEADER),
            hostile_files.row_xml(4, ("Dora", "Dorn", "dora@")),  # rows 2 and 3 are missing
        ]
    )
    assert problems_of(db, org, sheet, "hr.xlsx") == [
        (4, "E-Mail", "'dora@' is not an e-mail address")
    ]


NOT_ONE_LINE_TEXT = "takes one line of text, without line breaks or other control characters"


def test_title_rows_above_the_header_are_skipped_or_the_header_row_is_chosen(db, make):
    org = make.organisation()
    text = (
        "Teilnehmerliste Qualifizierung 2027;;\n"
        "Stand: 01.02.2027;;\n"
        "\n"
        "Personal-Nr.;Vorname;Nachname;E-Mail\n"
        "4711;Anna;Albers;anna@\n"
    )
    table = read_table("hr.csv", text.encode())
    assert (table.header_row, table.headers[0], table.numbers) == (4, "Personal-Nr.", (5,))
    assert [n for n, _ in table.candidates] == [1, 2, 4, 5]
    assert problems_of(db, org, text.encode()) == [
        (5, "E-Mail", "'anna@' is not an e-mail address")
    ]
    # Chosen by hand on the mapping page: the rows below it are the data.
    chosen = read_table("hr.csv", text.encode(), header_row=2)
    assert (chosen.header_row, chosen.numbers) == (2, (4, 5))
    sheet = hostile_files.table(
        [("Mitarbeiterliste",), ("",), ("Vorname", "Nachname", "E-Mail"), ("Eva", "Engel", "e@")]
    )
    assert problems_of(db, org, sheet, "hr.xlsx") == [
        (4, "E-Mail", "'e@' is not an e-mail address")
    ]


def test_merged_cells_are_named_not_read_as_empty(db, make):
    org = make.organisation()
    sheet = hostile_files.table(
        [
            ("Liste", "", ""),
            ("Vorname", "Nachname", "E-Mail", "Abteilung"),
            ("Anna", "Albers", "anna@firma.example", "Produktion"),
            ("Ben", "Bauer", "ben@firma.example", ""),
        ],
        merged=["A1:C1", "D3:D4"],  # a merged title is fine; a merged department is not
    )
    assert problems_of(db, org, sheet, "hr.xlsx") == [
        (3, "Abteilung", "the cells D3:D4 are merged; unmerge them and fill in each cell")
    ]


def test_unicode_text_from_excel_is_read(db, make):
    org = make.organisation()
    text = "Vorname\tNachname\tE-Mail\r\nŁucja\tŚwiątek\tlucja@firma.example\r\n"
    table = read_table("Unicode.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert table.rows == (("Łucja", "Świątek", "lucja@firma.example"),)
    assert problems_of(db, org, codecs.BOM_UTF16_BE + text.encode("utf-16-be")) == []


def test_an_encoding_that_cannot_be_told_apart_is_refused_with_the_reason():
    latin2 = "Vorname;Nachname;E-Mail\nŁucja;Świątek;lucja@firma.example\n".encode("iso8859_2")
    with pytest.raises(ImportRejected) as refused:
        read_table("hr.csv", latin2)
    text = str(refused.value.message)
    assert "line 2 reads '£ucja;¦wi±tek;lucja@firma.example' in Windows-1252" in text
    assert "save it as UTF-8" in text
    with pytest.raises(ImportRejected, match="not text in UTF-8, UTF-16 or Windows-1252"):
        read_table("hr.csv", "Vorname;Nachname\nJürgen;Weiß\n".encode("cp850"))
    # German Windows-1252, the default of Excel's "CSV": read as it is.
    umlauts = "Vorname;Nachname\nRené;Müller-Lüdenscheidt\nÖzlem;Weiß\n".encode("cp1252")
    assert read_table("hr.csv", umlauts).rows[0] == ("René", "Müller-Lüdenscheidt")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Vorgesetzte/r", "manager_name"),
        ("Vorgesetzte(r)", "manager_name"),
        ("Führungskraft", "manager_name"),
        ("Supervisor", "manager_name"),
        ("E-Mail Vorgesetzte/r", "manager_email"),
        ("Office", "site"),
        ("Standort", "site"),
        ("Personalnummer", "employee_number"),
        ("Personal-Nr.", "employee_number"),
        ("Employee ID", "employee_number"),
        ("Mitarbeiternummer", "employee_number"),
        ("Mitarbeiter:innen-Nr.", "employee_number"),
        ("E-Mail-Adresse", "email"),
        ("Vorname:", "first_name"),
    ],
)
def test_columns_hr_systems_name_differently_are_proposed(header, field):
    mapping = propose_mapping(["Vorname", "Nachname", "E-Mail", header][: 4 if field else 3])
    if header == "Vorname:":
        mapping = propose_mapping([header])
        assert mapping["first_name"] == 0
        return
    expected = {"first_name": 0, "last_name": 1, "email": 2}.get(field, 3)
    assert mapping[field] == expected, (header, mapping)


def test_the_employee_number_finds_a_person_whose_address_changed(db, make):
    org = make.organisation()
    first = "Personalnummer;Vorname;Nachname;E-Mail\n4711;Anna;Albers;anna@alt.example\n"
    assert import_text(db, org, first).created == 1
    moved = first.replace("anna@alt.example", "anna.albers@neu.example")
    summary = import_text(db, org, moved)
    assert (summary.created, summary.updated) == (0, 1)
    person = db.session.scalar(select(Participant))
    assert (person.employee_number, person.email) == ("4711", "anna.albers@neu.example")


def test_employee_numbers_are_one_persons_each(db, make):
    org = make.organisation()
    import_text(db, org, "Personalnummer;Vorname;Nachname;E-Mail\n1;Anna;Albers;a@x.example\n")
    import_text(db, org, "Vorname;Nachname;E-Mail\nBen;Bauer;b@x.example\n")
    text = (
        "Personalnummer;Vorname;Nachname;E-Mail\n"
        "2;Anna;Albers;a@x.example\n"  # row 2: Anna has number 1
        "1;Anna;Albers;b@x.example\n"  # row 3: Ben's address for number 1
        "7;Cem;Cakir;c@x.example\n"
        "7;Dora;Dorn;d@x.example\n"  # row 5: number 7 is Cem's in row 4
    )
    assert problems_of(db, org, text.encode()) == [
        (2, "Personalnummer", "a@x.example belongs to Anna Albers, whose employee number is 1"),
        (3, "E-Mail", "b@x.example is the e-mail address of Ben Bauer already"),
        (5, "Personalnummer", "7 is in row 4 already"),
    ]


def test_a_person_in_several_rows_is_enrolled_in_each_cohort(db, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    make.cohort(org, name="Gruppe 2")
    text = HEADER + "".join(f"Anna;Albers;anna@firma.example;;;;;Gruppe {n}\n" for n in (1, 2))
    summary = import_text(db, org, text)
    assert (summary.created, summary.enrolled) == (1, 2)
    assert db.session.scalar(select(func.count(Enrolment.id))) == 2
    assert import_text(db, org, text).enrolled == 0


def test_values_protected_against_formulas_come_back_as_they_were(db, make):
    org = make.organisation()
    values = ("=Anna", "+Albers", "a@x.example", "-Produktion", "@Ulm", "'=Kraus", "", "", "")
    for render, name in ((render_participants, "x.csv"), (render_participants_xlsx, "x.xlsx")):
        exported = render([values], language="de", filename=name).content
        table = read_table(name, exported)
        rows, problems = check(table, propose_mapping(table.headers), org)
        assert problems == []
        got = rows[0].values
        assert (got["first_name"], got["last_name"], got["department"], got["site"]) == (
            "=Anna",
            "+Albers",
            "-Produktion",
            "@Ulm",
        )
        assert got["manager_name"] == "'=Kraus"


def test_the_xlsx_export_holds_text_never_formulas():
    exported = render_participants_xlsx(
        [("=1+1", "B", "c@d.example", "", "", "", "", "007", "")], language="en", filename="x.xlsx"
    ).content
    sheet = load_workbook(io.BytesIO(exported)).active
    cells = list(sheet.iter_rows(min_row=2, values_only=False))[0]
    assert (cells[0].value, cells[0].data_type) == ("'=1+1", "s")
    assert (cells[7].value, cells[7].number_format) == ("007", "@")


def test_the_import_writes_people_enrolments_and_history_in_bulk(db, make, app):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1")
    text = HEADER + "".join(f"P{n};Person;p{n}@firma.example;;;;;Gruppe 1\n" for n in range(300))
    table = read_table("hr.csv", text.encode())
    rows, problems = check(table, propose_mapping(table.headers), org)
    assert problems == []
    statements = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(" ".join(statement.split()[:3]).upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        summary = import_rows(rows, org, None)
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert (summary.created, summary.enrolled) == (300, 300)
    # People, their history, the enrolments, theirs, and the invitations to
    # the cohort's sessions: one INSERT each (a driver may send one in pages
    # of some hundred rows).
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert len(inserts) <= 10, sorted(set(inserts))
    sessions = db.session.scalar(
        select(func.count(Session.id)).join(Cohort).where(Cohort.organisation_id == org.id)
    )
    invited = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.kind == "invitation")
    )
    assert invited == 300 * sessions
    history = db.session.scalars(select(Change.action).where(Change.organisation_id == org.id))
    assert sorted(set(history)) == ["created", "enrolled"]
    assert db.session.scalar(select(func.count(Change.id))) >= 600


def test_a_cohort_filled_since_the_check_refuses_the_whole_import(db, make):
    org = make.organisation()
    cohort = make.cohort(org, name="Gruppe 1", capacity=1)
    table = read_table("hr.csv", (HEADER + "Anna;Albers;a@x.example;;;;;Gruppe 1\n").encode())
    rows, problems = check(table, propose_mapping(table.headers), org)
    assert problems == []
    make.participant(org, cohort=cohort, first_name="Ben", last_name="B", email="b@x.example")
    with pytest.raises(EnrolmentError, match="is full"):
        import_rows(rows, org, None)


def offered(db, make, org, cohort, email):
    """Someone on the cohort's waiting list who holds the offer of a place."""
    from app.models.registrations import Registration, RegistrationState

    person = make.participant(org, first_name="Olga", last_name="Offer", email=email)
    registration = Registration(
        organisation_id=org.id,
        cohort_id=cohort.id,
        participant_id=person.id,
        state=RegistrationState.OFFERED,
        offer_token_hash="f" * 64,
    )
    db.session.add(registration)
    db.session.commit()
    return registration


def test_a_place_offered_from_the_waiting_list_is_not_free_for_the_import(db, make):
    org = make.organisation()
    cohort = make.cohort(org, name="Gruppe 1", capacity=2)
    make.participant(org, cohort=cohort, email="in@x.example")
    offered(db, make, org, cohort, "olga@x.example")
    table = read_table("hr.csv", (HEADER + "Anna;Albers;a@x.example;;;;;Gruppe 1\n").encode())
    rows, problems = check(table, propose_mapping(table.headers), org)
    assert [(p.row, str(p.message)) for p in problems] == [
        (2, "the cohort 'Gruppe 1' is full (2 places)")
    ]


def test_the_person_holding_the_offer_is_imported_into_their_place(db, make):
    from app.models.registrations import RegistrationState

    org = make.organisation()
    cohort = make.cohort(org, name="Gruppe 1", capacity=2)
    make.participant(org, cohort=cohort, email="in@x.example")
    registration = offered(db, make, org, cohort, "olga@x.example")
    summary = import_text(db, org, HEADER + "Olga;Offer;olga@x.example;;;;;Gruppe 1\n")
    assert summary.enrolled == 1
    db.session.expire_all()
    assert registration.state is RegistrationState.ACCEPTED
    assert registration.offer_token_hash is None  # the offer's link answers no more
    assert (
        db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.cohort_id == cohort.id))
        == 2
    )
