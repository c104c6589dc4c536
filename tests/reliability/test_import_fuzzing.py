"""The import's upload and mapping pages under structured hostile files:
CSV and XLSX with control characters, formulas, huge and odd headers, mixed
encodings, broken zips, wrong dimensions, merged and misplaced cells. No
answer is a server error, and a file that is refused stores nothing."""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Participant, Role
from app.services.participant_import import FIELDS
from tests import hostile_files
from tests.web.helpers import csrf_token, log_in

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADERS = [alias for aliases in FIELDS.values() for alias in aliases] + [
    "Vorgesetzte/r",
    "Personal-Nr.",
    "",
    '=HYPERLINK("x")',
    "x" * 5000,
    "Name\r\nName",
]
CELLS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "=cmd|' /C calc'!A0",
            "+1+1",
            "-2",
            "@SUM(A1)",
            "'=x",
            "anna@firma.example",
            "ANNA@FIRMA.EXAMPLE",
            "jürgen@firma.example",
            "Gruppe 1",
            "\x00",
            "a\r\nb",
            "\u2028",
            "Nguye\u0302\u0303n",
            "x" * 300,
        ]
    ),
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=8), min_size=0, max_size=12)
HEADER_ROW = st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8)


def setup(client, make):
    org = make.organisation()
    make.cohort(org, name="Gruppe 1", capacity=3)
    make.user(Role.HR, [org], email="hr@example.org")
    org_id = org.id
    log_in(client, "hr@example.org")
    return org_id


def people(db) -> int:
    return db.session.scalar(select(func.count(Participant.id)))


def send_and_confirm(client, db, org_id, content: bytes, name: str) -> None:
    before = people(db)
    token = csrf_token(client, "/participants/import")
    boundary, body = encode_multipart(
        {
            "csrf_token": token,
            "organisation": str(org_id),
            "file": FileStorage(io.BytesIO(content), name),
        }
    )
    upload = client.post(
        "/participants/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert upload.status_code < 500, upload.status_code
    assert people(db) == before
    if upload.status_code != 200:
        return
    page = upload.get_data(as_text=True)
    fields = dict(re.findall(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"', page))
    mapping = {}
    for field, options in re.findall(
        r'<select id="(map-\w+|header_row)" name="\1">(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="(\d*)" selected>', options)
        mapping[field] = chosen.group(1) if chosen else ""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    checked = client.post(
        "/participants/import/check",
        data={"csrf_token": token, **fields, **mapping, "acknowledge": "y"},
    )
    assert checked.status_code < 500, checked.status_code
    if checked.status_code != 302:
        assert people(db) == before


@st.composite
def csv_files(draw) -> bytes:
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    lines = [draw(HEADER_ROW)] + draw(ROWS)
    if draw(st.booleans()):
        lines.insert(0, [draw(st.text(max_size=30))])  # a title row
    quote = draw(st.booleans())
    text = "\n".join(
        delimiter.join(('"' + c.replace('"', '""') + '"') if quote else c for c in line)
        for line in lines
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "iso8859_2"]))
    data = text.encode(encoding, "replace")
    if draw(st.booleans()):
        data += draw(st.binary(max_size=40))  # another encoding's bytes at the end
    return data


@st.composite
def xlsx_files(draw) -> bytes:
    lines = [draw(HEADER_ROW)] + draw(ROWS)
    numbers = draw(
        st.one_of(
            st.just(list(range(1, len(lines) + 1))),
            st.lists(st.integers(1, 1_048_576), min_size=len(lines), max_size=len(lines)),
        )
    )
    first_column = draw(st.sampled_from([1, 2, 16_000]))
    rows = [
        hostile_files.row_xml(n, cells, first_column)
        for n, cells in zip(numbers, lines, strict=True)
    ]
    dimension = draw(st.sampled_from([None, "A1:XFD1048576", "A1", "nonsense", "B2:A1"]))
    merged = draw(
        st.lists(
            st.sampled_from(["A1:C1", "B2:B3", "A2:A1048576", "ZZZ", "", "A1:XFD1"]), max_size=3
        )
    )
    data = hostile_files.workbook(rows, dimension=dimension, merged=merged)
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    return data


def test_hostile_csv_files_never_fail_the_import(client, make, db):
    org_id = setup(client, make)

    @given(content=csv_files(), name=st.sampled_from(["hr.csv", "hr.txt"]))
    @FUZZ
    def survives(content, name):
        send_and_confirm(client, db, org_id, content, name)

    survives()


def test_hostile_xlsx_files_never_fail_the_import(client, make, db):
    org_id = setup(client, make)

    @given(content=xlsx_files())
    @FUZZ
    def survives(content):
        send_and_confirm(client, db, org_id, content, "hr.xlsx")

    survives()
