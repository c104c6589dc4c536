"""HR exports as they come: far too long, broken, random bytes, too large.
Each is refused whole with a message that names the problem; nothing is
imported and nothing fails."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Participant, Role
from app.services.participant_import import ImportRejected, read_table
from tests import hostile_files
from tests.web.helpers import csrf_token, log_in

ROWS = 50_000


def setup(client, make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    org_id = org.id
    log_in(client, "hr@example.org")
    return org_id


def send(client, org_id, content: bytes, name: str):
    token = csrf_token(client, "/participants/import")
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": token,
            "organisation": str(org_id),
            "file": FileStorage(io.BytesIO(content), name),
        }
    )
    return client.post(
        "/participants/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def big_csv() -> bytes:
    lines = ["Vorname;Nachname;E-Mail"]
    lines += [f"Vor{n};Nach{n};p{n}@firma.example" for n in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def big_xlsx() -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Vorname", "Nachname", "E-Mail"])
    for n in range(ROWS):
        sheet.append([f"Vor{n}", f"Nach{n}", f"p{n}@firma.example"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_export_of_50000_rows_is_refused_at_once_with_the_limit(client, make, db):
    org_id = setup(client, make)
    for name, content in (("alle.csv", big_csv()), ("alle.xlsx", big_xlsx())):
        started = time.perf_counter()
        response = send(client, org_id, content, name)
        took = time.perf_counter() - started
        assert response.status_code == 400, name
        assert "mehr als 5000 Zeilen" in response.get_data(as_text=True), name
        assert took < 30, (name, took)  # read once, refused, not checked row by row
    assert db.session.scalar(select(func.count(Participant.id))) == 0


@pytest.mark.parametrize(
    ("name", "build", "message"),
    [
        ("dimension.xlsx", hostile_files.huge_dimension, "Zeilen nach Zeile 20000"),
        ("rows.xlsx", hostile_files.many_rows, "mehr als 5000 Zeilen"),
        ("wide.xlsx", hostile_files.wide_row, "Zeile 2 hat mehr als 200 Spalten"),
        ("rows.csv", hostile_files.csv_rows, "mehr als 5000 Zeilen"),
    ],
)
def test_huge_files_are_refused_with_the_limit(client, make, db, name, build, message):
    """Refused while reading, before the rows are built (the times are in
    bench/import_times.py)."""
    org_id = setup(client, make)
    response = send(client, org_id, build(), name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Participant.id))) == 0


def test_a_dimension_that_lies_is_not_believed():
    table = read_table("lying.xlsx", hostile_files.lying_dimension())
    assert len(table.rows) == 100
    assert table.headers == hostile_files.HEADER


def test_a_workbook_part_that_unpacks_too_large_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (33 * 1024 * 1024))
    with pytest.raises(ImportRejected, match="unpacks to more than 32 MB"):
        read_table("bomb.xlsx", out.getvalue())


def test_an_upload_over_the_size_limit_is_refused_with_413(client, make, db):
    org_id = setup(client, make)
    response = send(client, org_id, b"a;b\n" * (2 * 1024 * 1024), "riesig.csv")
    assert response.status_code == 413
    assert "Die Datei ist zu groß" in response.get_data(as_text=True)


FILES = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=3000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=6), min_size=1, max_size=30).map(
        lambda rows: "\n".join(";".join(r) for r in rows).encode("utf-8", "surrogatepass")
    ),
)
NAMES = st.sampled_from(["hr.csv", "hr.xlsx", "hr.txt", "hr.pdf", "", "../../x.csv"])


def test_random_files_never_fail_the_import(client, make, db):
    org_id = setup(client, make)

    @given(content=FILES, name=NAMES)
    @settings(max_examples=80, deadline=None, database=None)
    def survives(content, name):
        response = send(client, org_id, content, name)
        assert response.status_code in (200, 400), response.status_code
        # At most a preview: nothing is imported before the second step.
        assert db.session.scalar(select(func.count(Participant.id))) == 0

    survives()
