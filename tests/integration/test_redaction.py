"""Finding a person's names inside other text, and only theirs."""

from __future__ import annotations

import unicodedata

from app.services.redaction import ERASED, Redactor


def test_a_name_is_found_in_any_case_spacing_and_unicode_form():
    redactor = Redactor(["Anna Jürgens"])
    decomposed = unicodedata.normalize("NFD", "anna  JÜRGENS")
    assert redactor.text(f"met {decomposed} today") == f"met {ERASED} today"
    assert redactor.text("Anna\u00a0Jürgens") == ERASED


def test_a_longer_word_is_not_a_mention():
    redactor = Redactor(["Ann Li", "ann@example.org"])
    assert redactor.text("Ann Lind and Ann Li") == f"Ann Lind and {ERASED}"
    assert redactor.text("joann@example.org") == "joann@example.org"
    assert redactor.text("write to ann@example.org.") == f"write to {ERASED}."


def test_the_longest_name_goes_first():
    redactor = Redactor(["Anna Maria", "Anna Maria Jürgens"])
    assert redactor.text("Anna Maria Jürgens") == ERASED


def test_text_without_a_mention_is_left_exactly_as_it_was():
    redactor = Redactor(["Anna Jürgens"])
    decomposed = unicodedata.normalize("NFD", "Björn Öztürk")
    assert redactor.text(decomposed) is decomposed
    assert Redactor([]).text("Anna Jürgens") == "Anna Jürgens"


def test_json_values_are_searched_in_every_string():
    redactor = Redactor(["Anna Jürgens"], marker="[x]")
    value = {"tandems": [["Anna Jürgens", "Ben Bauer"]], "count": 2, "note": None}
    assert redactor.value(value) == {"tandems": [["[x]", "Ben Bauer"]], "count": 2, "note": None}
