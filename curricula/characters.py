"""Which characters a text may hold: the rule for one-line texts (names,
titles) and for texts of several lines (descriptions), shared by the core
and the shell.

A CR/LF in a title or name breaks the headers of every e-mail and calendar
entry that carries it; other control characters print as nothing or as
boxes.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029"  # as a character class's ranges
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
# Texts of several lines keep their tabs and line ends.
_CONTROL_BESIDES_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def breaks_line(text: str) -> bool:
    """Whether `text` holds a line break or another control character."""
    return _CONTROL.search(text) is not None


def has_control_character(text: str) -> bool:
    """Whether `text` holds a control character other than tab and line ends."""
    return _CONTROL_BESIDES_LINES.search(text) is not None


def shown(text: str, most: int = 40) -> str:
    """`text` as a message may quote it: control characters as escapes,
    and shortened to about `most` characters."""
    clipped = text if len(text) <= most else text[: most - 1] + "…"
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), clipped)
