"""A curriculum on a relative time axis, without a calendar.

Preferred gaps, calendar days and "next working day" as the next day give
the shape of a format (day 0 = the start), e.g. "about 7 months".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from curricula.model import Curriculum, Span

# Any fixed day serves: only distances from it matter.
_ORIGIN = date(2001, 1, 1)


@dataclass(frozen=True)
class Placed:
    element: str
    first_day: int
    last_day: int


def nominal_layout(curriculum: Curriculum) -> tuple[Placed, ...]:
    """Each element's first and last day counted from the start (day 0)."""
    spans: dict[str, tuple[date, date]] = {}
    for element in curriculum.in_dependency_order():
        after = element.placement.after
        if after is None:
            first = _ORIGIN
        elif element.placement.gap is None:
            first = spans[after][1] + timedelta(days=1)
        else:
            first = element.placement.gap.preferred.after(spans[after][1])
        last = first
        if isinstance(element.length, Span):
            last = element.length.length.after(first) - timedelta(days=1)
        spans[element.key] = (first, last)
    return tuple(
        Placed(e.key, (spans[e.key][0] - _ORIGIN).days, (spans[e.key][1] - _ORIGIN).days)
        for e in curriculum.elements
    )


def nominal_days(curriculum: Curriculum) -> int:
    """Calendar days from the first day of the programme to its last, inclusive."""
    return max(p.last_day for p in nominal_layout(curriculum)) + 1
