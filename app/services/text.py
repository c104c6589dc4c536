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
from curricula.messages import Message, msg

CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029"  # as a character class's ranges
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
NOT_ONE_LINE = msg("takes one line of text, without line breaks or other control characters")


class NotOneLine(InvalidInput):
    code = "control_character"


def line_problem(value: str) -> Message | None:
    """Why `value` cannot be a single-line field, or None."""
    return NOT_ONE_LINE if _CONTROL.search(value) else None


def one_line(value: str | None, field: str | None = None) -> str:
    """`value` trimmed and in NFC; NotOneLine (at `field`) when it holds a
    control character."""
    text = (value or "").strip()
    if line_problem(text):
        raise NotOneLine(NOT_ONE_LINE, field=field)
    return unicodedata.normalize("NFC", text)
