"""What long lists on pages share: the page links and the short forms of
dates and numbers in their rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The pages to link to: the first, the last and two around the current
    one; None where pages are left out (shown as an ellipsis)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


SHORT_DATE_PATTERNS = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}


# Both are asked for every row: Babel parses its locale on each call.
@lru_cache(maxsize=4096)
def short_day(day: date, language: str) -> str:
    """A date without its weekday: 16.03.2026 (16 Mar 2026 in English)."""
    return format_date(day, SHORT_DATE_PATTERNS[language], locale=language)


@lru_cache(maxsize=4096)
def number(value: float | Decimal, language: str) -> str:
    """A count or an amount: 18 (not 18.0), 1,5 and 1.234 in German, 1.5
    and 1,234 in English; at most three decimals."""
    return format_decimal(value, locale=language)
