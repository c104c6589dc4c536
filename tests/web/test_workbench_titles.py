"""Titles typed on the workbench follow the same rule as titles in a
curriculum file: one line, no control characters; nothing is saved."""

from __future__ import annotations

import pytest

from tests.web.test_workbench import element_form, version_field
from tests.web.test_workbench_refusals import draft_source, send
from tests.web.test_workbench_refusals import fork as fork  # the fixture, shared


@pytest.mark.parametrize("title", ["Seminartag\r\nBcc: alle@example.org", "Seminar\x1btag"])
def test_a_changed_title_with_a_control_character_is_refused(client, db, fork, title):
    url = f"/curricula/{fork['id']}/draft/elements/seminar-1"
    values = element_form(client, url)
    before = draft_source(db, fork["id"])
    response = send(client, url, {**values, "title_de": title}, page=url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    error = text.split('id="title_de-error"')[1].split("</")[0]
    assert "Zeilenumbrüche oder andere Steuerzeichen" in error
    assert draft_source(db, fork["id"]) == before


def test_a_new_element_with_a_control_character_in_its_title_is_refused(client, db, fork):
    page = f"/curricula/{fork['id']}"
    version = version_field(client.get(page).get_data(as_text=True))
    before = draft_source(db, fork["id"])
    data = {
        "version": version,
        "key": "practice-2",
        "title_de": "Übung\x07",
        "title_en": "Practice",
    }
    response = send(client, f"{page}/draft/elements", data, page=page)
    assert response.status_code in (303, 400)
    text = (
        client.get(response.headers["Location"]) if response.status_code == 303 else response
    ).get_data(as_text=True)
    assert "Zeilenumbrüche oder andere Steuerzeichen" in text
    assert draft_source(db, fork["id"]) == before


def test_a_new_element_without_an_english_title_takes_the_german_one(client, db, fork):
    page = f"/curricula/{fork['id']}"
    shown = client.get(page).get_data(as_text=True)
    assert "Titel (Englisch; leer: wie der deutsche)" in shown
    form = shown[shown.index('/draft/elements"') - 200 :]
    assert "novalidate" in form[: form.index(">") + 300]
    data = {"version": version_field(shown), "title_de": "Praxistag 2", "title_en": ""}
    response = send(client, f"{page}/draft/elements", data, page=page)
    assert response.status_code == 303
    source = draft_source(db, fork["id"])
    assert '[elements.title]\nde = "Praxistag 2"\nen = "Praxistag 2"' in source


def test_an_error_of_an_element_reads_as_a_sentence_at_its_field(client, db, fork):
    url = f"/curricula/{fork['id']}/draft/elements/seminar-1"
    values = element_form(client, url)
    response = send(client, url, {**values, "teaching_units": "viele"}, page=url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    error = text.split('id="teaching_units-error"')[1].split("</")[0]
    assert error.endswith(".")
    assert error[1:2].isupper()
