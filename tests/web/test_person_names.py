"""A person's fields are one line each, stored in Unicode NFC, through every
door: the form, the API and the file import. A CR/LF in a name would break the
headers of every e-mail sent to the person's cohort."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from app.models import Participant, Role
from app.services import participants
from app.services.errors import InvalidInput
from app.services.participant_import import check, propose_mapping, read_table
from app.services.policy import Actor
from tests.web.helpers import csrf_token, log_in

DECOMPOSED = unicodedata.normalize("NFD", "Nguyễn")


def _count(db) -> int:
    return db.session.scalar(select(func.count(Participant.id)))


def test_the_form_refuses_a_line_break_in_a_name_at_its_field(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    org_id, before = org.id, _count(db)
    log_in(client, "hr@example.org")
    response = client.post(
        "/participants/new?lang=en",
        data={
            "csrf_token": csrf_token(client, "/participants/new"),
            "organisation": org_id,
            "first_name": "Anna",
            "last_name": "Albers\r\nBcc: everyone@example.org",
            "email": "anna@example.org",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "takes one line of text, without line breaks or other control characters" in page
    assert _count(db) == before


def test_the_api_names_the_field_with_a_control_character(client, make, db):
    from app.services import api_tokens

    org = make.organisation()
    user = make.user(Role.HR, [org], email="hr@example.org")
    token = api_tokens.issue(user, org.id)
    db.session.commit()
    before = _count(db)
    response = client.post(
        "/api/v1/participants",
        headers={"Authorization": f"Bearer {token}"},
        json={"first_name": "An\tna", "last_name": "Albers", "email": "anna@example.org"},
    )
    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert list(details["json"]) == ["first_name"]
    assert "one line of text" in details["json"]["first_name"][0]
    assert _count(db) == before


def test_an_import_names_the_row_and_column_of_a_control_character(db, make):
    org = make.organisation()
    text = "Vorname;Nachname;E-Mail\nAnna;Albers;anna@example.org\nBen;Bau\x0ber;ben@example.org\n"
    table = read_table("hr.csv", text.encode())
    rows, problems = check(table, propose_mapping(table.headers), org)
    assert [(p.row, p.column) for p in problems] == [(3, "Nachname")]


def test_names_are_stored_composed_and_found_by_the_composed_spelling(db, make):
    org = make.organisation()
    person = participants.add(
        Actor.system(),
        org.id,
        {"first_name": "Lan", "last_name": DECOMPOSED, "email": "lan@example.org"},
    )
    db.session.commit()
    assert person.last_name == "Nguyễn"
    assert unicodedata.is_normalized("NFC", person.last_name)
    found, total = participants.search(Actor.system(), "nguyễn")
    assert total == 1
    assert found[0].id == person.id
    found, total = participants.search(Actor.system(), DECOMPOSED.lower())
    assert total == 1  # a decomposed query finds the composed name too


def test_every_door_keeps_the_length_of_a_name(db, make):
    org = make.organisation()
    with pytest.raises(InvalidInput) as refused:
        participants.add(
            Actor.system(),
            org.id,
            {"first_name": "A" * 101, "last_name": "Albers", "email": "anna@example.org"},
        )
    assert (refused.value.field, refused.value.code) == ("first_name", "too_long")
    db.session.rollback()
    assert _count(db) == 0


def test_the_longest_name_allowed_is_printed_on_a_certificate(db, make):
    org = make.organisation()
    cohort = make.cohort(org)
    first, last = "W" * 100, "Ẅ" * 100
    person = make.participant(org, cohort, first_name=first, last_name=last)
    certificate = make.certificate(cohort, person)
    db.session.expire_all()
    assert certificate.name == f"{first} {last}"  # 201 characters, stored whole
