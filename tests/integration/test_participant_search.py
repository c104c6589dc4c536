"""The one participant search of the list page and the API."""

from __future__ import annotations

from app.models import Role
from app.services import participants
from app.services.policy import Actor


def test_search_is_case_blind_ordered_paged_and_kept_to_the_actors_organisations(db, make):
    mine = make.organisation("Eigene AG")
    other = make.organisation("Andere GmbH")
    hr = Actor.of_user(make.user(Role.HR, [mine]))
    for first, last, email in (
        ("Jana", "Özdemir", "jana@eigene.example"),
        ("Anna", "Berg", "ANNA.BERG@eigene.example"),
        ("Ben", "Berg", "ben@eigene.example"),
        ("Anna", "Berg", "anna2@eigene.example"),
        ("Carl", "Adler", "c@eigene.example"),
    ):
        make.participant(mine, first_name=first, last_name=last, email=email.lower())
    make.participant(other, first_name="Anna", last_name="Berg", email="anna@andere.example")

    items, total = participants.search(hr, "BERG", page=1, per_page=2)
    assert total == 3
    assert [(p.first_name, p.last_name) for p in items] == [("Anna", "Berg"), ("Anna", "Berg")]
    assert items[0].id < items[1].id  # ties by id
    items, total = participants.search(hr, "berg", page=2, per_page=2)
    assert [(p.first_name, p.last_name) for p in items] == [("Ben", "Berg")]
    # E-mail addresses, any case; every word must match somewhere.
    assert [p.email for p in participants.search(hr, "Anna.Berg@")[0]] == [
        "anna.berg@eigene.example"
    ]
    assert [p.first_name for p in participants.search(hr, "anna berg")[0]] == ["Anna", "Anna"]
    assert participants.search(hr, "anna adler") == ([], 0)
    # No query: everyone, by last name.
    items, total = participants.search(hr, "")
    assert total == 5
    assert [p.last_name for p in items][:1] == ["Adler"]
    # A wildcard typed is a character, not a pattern.
    assert participants.search(hr, "%") == ([], 0)
    # Narrowed to one organisation (the API's token has one).
    assert participants.search(hr, "anna", organisation_id=other.id) == ([], 0)
    everyone = Actor.system()
    assert participants.search(everyone, "anna", organisation_id=other.id)[1] == 1
