"""Curriculum files as anyone can upload them to the workbench: far too
large, far too many elements, nested a hundred thousand levels deep, numbers
of thousands of digits, durations that overflow, `nan` hours, control
characters in titles. Each is refused at its element and field, on top of the
workbench page, and the draft stays as it was; a file at every limit imports,
publishes and shows."""

from __future__ import annotations

import io
import math
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import CurriculumRecord
from app.services import curricula as workbench
from curricula.loader import MAX_ELEMENTS, MAX_FILE_BYTES, MAX_OFFSET_DAYS, MAX_TITLE
from tests.web.helpers import csrf_token
from tests.web.test_workbench import consultant_of_a_new_organisation, fork_for, version_field

HEAD = """key = "compact"
version = 1
title = { de = "Kompakt", en = "Compact" }
"""


def element(key: str, **fields: str) -> str:
    body = {
        "kind": '"seminar_day"',
        "title": '{ de = "Tag", en = "Day" }',
        "mode": '"in_person"',
        "start": '"09:00"',
        "duration": '"8h"',
        "teaching_hours": "7",
    } | fields
    lines = [f'key = "{key}"'] + [f"{name} = {value}" for name, value in body.items() if value]
    return "\n[[elements]]\n" + "\n".join(lines) + "\n"


@pytest.fixture
def fork(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    return fork_for(client, db, org_id)


def draft_source(db, fork_id: int) -> str | None:
    db.session.expire_all()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork_id))
    return draft.source if draft else None


def upload(client, fork_id: int, content: bytes):
    """The file sent as the import form sends it (encoded in memory: the
    test client would spool a large body to a file it never closes)."""
    page = f"/curricula/{fork_id}"
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, page),
            "file": FileStorage(io.BytesIO(content), "curriculum.toml"),
        }
    )
    return client.post(
        f"{page}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Referer": f"http://localhost{page}"},
    )


def refused(client, response, code: str) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"refused-{code}" in page
    assert "Es wurde nichts gespeichert" in page
    return page


def test_a_file_over_256_kb_is_refused_with_the_limit(client, db, fork):
    before = draft_source(db, fork)
    padding = "# " + "x" * 1000 + "\n"
    content = (HEAD + element("a") + padding * 300).encode()
    assert len(content) > MAX_FILE_BYTES
    page = refused(client, upload(client, fork, content), "file_too_large")
    size = math.ceil(len(content) / 1024)
    assert f"Die Datei hat {size} KB; eine Curriculum-Datei hat höchstens 256 KB" in page
    assert draft_source(db, fork) == before


def test_twenty_thousand_elements_are_refused_with_the_limit(client, db, fork):
    before = draft_source(db, fork)
    # Small enough for the size limit: the element count decides.
    inline = HEAD + "elements = [" + ", ".join(["{}"] * 20_000) + "]\n"
    page = refused(client, upload(client, fork, inline.encode()), "invalid_curriculum")
    assert "Feld „elements“: 20000 Elemente; ein Curriculum hat höchstens 100" in page
    headers = HEAD + "".join(element(f"e{n}") for n in range(MAX_ELEMENTS + 1))
    page = refused(client, upload(client, fork, headers.encode()), "invalid_curriculum")
    assert "101 Elemente; ein Curriculum hat höchstens 100" in page
    assert draft_source(db, fork) == before


HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("fields", "where", "reason"),
    [
        ({"topics": "[" * 100_000 + "]" * 100_000}, "topics", "mehr als 10 Ebenen tief"),
        ({"topics": "[" * 30 + "]" * 30}, "topics", "mehr als 10 Ebenen tief"),
        ({"teaching_hours": HUGE}, "teaching_hours", "mit mehr als 4300 Ziffern"),
        ({"duration": f'"{HUGE}h"'}, "duration", "über Mitternacht"),
        ({"duration": '"99999999999h"'}, "duration", "über Mitternacht"),
        ({"teaching_hours": "nan"}, "teaching_hours", "muss eine Stundenzahl von 0"),
        ({"teaching_hours": "inf"}, "teaching_hours", "muss eine Stundenzahl von 0"),
        ({"teaching_hours": "-1"}, "teaching_hours", "muss eine Stundenzahl von 0"),
        ({"teaching_hours": "1e308"}, "teaching_hours", "passen nicht"),
        ({"teaching_hours": "0x" + "f" * 5000}, "teaching_hours", "muss eine Stundenzahl von 0"),
        ({"kind": "0x" + "f" * 5000}, "kind", "unbekannte Art"),
        ({"title": '{ de = "Tag\\r\\nBcc: alle", en = "Day" }'}, "title.de", "eine Zeile"),
        ({"title": '{ de = "Tag\\u0000", en = "Day" }'}, "title.de", "eine Zeile"),
        ({"start": "1979-05-27T07:32:00Z"}, "start", "keine Uhrzeit"),
        ({"mode": "{ a = [1] }"}, "mode", "unbekannte Durchführungsform „{…}“"),
    ],
)
def test_a_value_that_cannot_be_read_is_refused_at_its_field(
    client, db, fork, fields, where, reason
):
    before = draft_source(db, fork)
    content = HEAD + element("day-1") + element("day-2", **fields)
    page = refused(client, upload(client, fork, content.encode()), "invalid_curriculum")
    assert f"Element „day-2“, Feld „{where}“" in page
    assert reason in page
    assert draft_source(db, fork) == before


def test_a_distance_beyond_ten_years_is_refused_before_planning_sees_it(client, db, fork):
    before = draft_source(db, fork)
    gap = '{ preferred = "99999999999m" }'
    content = HEAD + element("day-1") + element("day-2", gap=gap)
    page = refused(client, upload(client, fork, content.encode()), "invalid_curriculum")
    assert "Element „day-2“, Feld „gap.preferred“" in page
    assert "länger als zehn Jahre" in page
    assert draft_source(db, fork) == before


def test_a_file_at_every_limit_imports_publishes_and_shows(client, db, fork):
    page = f"/curricula/{fork}"
    longest = "W" * MAX_TITLE
    # Every gap at its longest, the programme lasts its longest: ten years.
    gap_days = (MAX_OFFSET_DAYS - MAX_ELEMENTS) // (MAX_ELEMENTS - 1)
    gap = f'{{ min = "1d", preferred = "{gap_days}d", max = "{gap_days}d" }}'
    elements = [element("e0", title=f'{{ de = "{longest}", en = "{longest}" }}')]
    elements += [element(f"e{n}", gap=gap) for n in range(1, MAX_ELEMENTS)]
    content = (HEAD.replace('de = "Kompakt"', f'de = "{longest}"') + "".join(elements)).encode()
    assert len(content) <= MAX_FILE_BYTES
    response = upload(client, fork, content)
    assert response.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "Die Datei ist jetzt der Entwurf" in shown
    token = csrf_token(client, page)
    published = client.post(
        f"{page}/draft/publish",
        data={"csrf_token": token, "version": version_field(shown), "confirmed": "yes"},
        follow_redirects=True,
    )
    assert published.status_code == 200
    text = published.get_data(as_text=True)
    assert re.search(r"Version \d+ ist veröffentlicht", text)
    assert len(re.findall(r"Tag", text)) >= MAX_ELEMENTS - 1
