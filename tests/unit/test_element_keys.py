"""A new element's key is made from its title: readable, unique in its
curriculum, within the file format's key rule."""

from __future__ import annotations

import pytest

from app.services.curricula import derived_key
from curricula.loader import KEY_PATTERN


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Übungstag 2", "uebungstag-2"),
        ("Größe & Maß: Fußnoten", "groesse-mass-fussnoten"),
        ("  Kick-off / Auftakt!  ", "kick-off-auftakt"),
        ("Çelik İlkay Ørsted", "celik-ilkay-orsted"),
        ("Reflexion — Teil 1", "reflexion-teil-1"),
    ],
)
def test_the_key_spells_the_title_in_plain_letters(title, key):
    assert derived_key(title, set()) == key


def test_a_title_without_letters_or_digits_gives_a_plain_key():
    assert derived_key("–– ✓ ––", set()) == "element"


def test_keys_are_unique_within_the_curriculum():
    taken = {"webinar", "webinar-2"}
    assert derived_key("Webinar", taken) == "webinar-3"
    assert derived_key("Webinar", {"seminar-1"}) == "webinar"


def test_a_long_title_keeps_room_for_a_number_and_fits_the_key_rule():
    title = "Ein sehr langer Titel " * 10
    first = derived_key(title, set())
    second = derived_key(title, {first})
    assert len(first) <= 56
    assert second == f"{first}-2"
    assert KEY_PATTERN.match(second)
    assert not first.endswith("-")
