"""The length of a timed block the curriculum file's way ("8h", "90min",
"7h30min"): read by the loader, written by the writer and by the
workbench's form, so that the three agree on one way of writing it."""

from __future__ import annotations

import re

_PATTERN = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*$")
# Past a day a block runs past midnight anyway; longer digit runs are never
# converted (int() refuses thousands of digits) but read as just past a day.
_PAST_A_DAY = 24 * 60 + 1


def file_minutes(text: str) -> int | None:
    """The minutes a duration written the file's way stands for ("7h30min":
    450); None for a text that is none ("", "8 hours")."""
    match = _PATTERN.match(text)
    if not match or not (match.group(1) or match.group(2)):
        return None
    hours, minutes = (match.group(n) or "0" for n in (1, 2))
    if len(hours) > 3 or len(minutes) > 5:
        return _PAST_A_DAY
    return int(hours) * 60 + int(minutes)


def file_duration(minutes: int) -> str:
    """Minutes the file's way, whole hours first: 120 is "2h", 90 "1h30min",
    45 "45min"; 0 is "0h" (which the loader refuses as no length)."""
    hours, rest = divmod(minutes, 60)
    if not rest:
        return f"{hours}h"
    return f"{hours}h{rest}min" if hours else f"{rest}min"
