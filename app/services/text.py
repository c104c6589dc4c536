"""The rule for single-line text: names, titles, venues, addresses.

A CR/LF in a name would break the headers of every e-mail sent with it;
other control characters print as nothing or as boxes. Text is stored in
Unicode NFC, so that a decomposed "Nguyễn" prints with its accents in place
and is found by a search for the composed form.
"""

from __future__ import annotations

import re
import unicodedata

from app.services.errors import InvalidInput
from curricula.characters import CONTROL_CHARACTERS
from curricula.messages import Message, msg

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
NOT_ONE_LINE = msg("takes one line of text, without line breaks or other control characters")
NO_CONTROL_CHARACTERS = msg("holds a control character that cannot be printed")


class NotOneLine(InvalidInput):
    code = "control_character"


def line_problem(value: str) -> Message | None:
    """Why `value` cannot be a single-line field, or None."""
    return NOT_ONE_LINE if _CONTROL.search(value) else None


def _refusal(problem: Message, field: str | None, label: Message | None) -> NotOneLine:
    # Where the refusal is not shown at its field (a page that redirects
    # back), the label says which field it was.
    message = msg("{field}: {problem}", field=label, problem=problem) if label else problem
    return NotOneLine(message, field=field)


def one_line(value: str | None, field: str | None = None, label: Message | None = None) -> str:
    """`value` trimmed and in NFC; NotOneLine (at `field`, named by `label`)
    when it holds a control character."""
    # Only the line ends and blanks of a paste are trimmed before the check:
    # str.strip() alone would also drop the control characters \x1c-\x1f.
    text = (value or "").strip(" \t\r\n")
    if line_problem(text):
        raise _refusal(NOT_ONE_LINE, field, label)
    return unicodedata.normalize("NFC", text.strip())


def lines(value: str | None, field: str | None = None, label: Message | None = None) -> str:
    """Text of several lines (an address): line ends as LF, tabs as spaces,
    trimmed, in NFC; NotOneLine (at `field`) for any other control character."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.strip(" \n")
    if any(line_problem(line) for line in text.split("\n")):
        raise _refusal(NO_CONTROL_CHARACTERS, field, label)
    return unicodedata.normalize("NFC", text)
