"""How an attendance mark is named and drawn: on the grid, in messages and
on paper alike."""

from __future__ import annotations

from functools import cache

from app.i18n import Translator
from cohorts.eligibility import Mark
from curricula.messages import Message, msg

WORDS: dict[Mark, Message] = {
    Mark.NOT_RECORDED: msg("open"),
    Mark.PRESENT: msg("present"),
    Mark.PARTLY: msg("partly"),
    Mark.EXCUSED: msg("excused"),
    Mark.ABSENT: msg("absent"),
    Mark.DONE: msg("done"),
    Mark.NOT_DONE: msg("not done"),
    Mark.NOT_EXPECTED: msg("not expected"),
}

# Shapes next to the words, so a mark is never told by colour alone.
SYMBOLS = {
    Mark.NOT_RECORDED: "·",
    Mark.PRESENT: "✓",
    Mark.PARTLY: "◐",
    Mark.EXCUSED: "E",
    Mark.ABSENT: "✗",
    Mark.DONE: "✓",
    Mark.NOT_DONE: "✗",
    Mark.NOT_EXPECTED: "–",
}


@cache
def mark_words(tr: Translator) -> dict[Mark, str]:
    """Every mark's words in the translator's language."""
    return {mark: tr.localize(words) for mark, words in WORDS.items()}
