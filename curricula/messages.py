"""Texts for people, kept translatable by the shell.

The core never formats a message for a language: it returns an English
template with named values (`msg("{day} is a public holiday", day=...)`).
The shell looks the template up in its message catalog and formats each
value for the reader (dates, distances, nested messages). `str()` gives the
English text, for logs and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from curricula.model import Text


@dataclass(frozen=True)
class Message:
    template: str
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def params(self) -> Mapping[str, Any]:
        return dict(self.values)

    def __str__(self) -> str:
        return self.template.format(**{k: _plain(v) for k, v in self.values})


def msg(template: str, **values: Any) -> Message:
    """A message; `template` is extracted into the catalogs (keyword `msg`)."""
    return Message(template, tuple(values.items()))


def _plain(value: Any) -> str:
    if isinstance(value, Text):  # English in logs and tests
        return value.en
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def amount(number: float) -> int | float | str:
    """A number as a message value: whole numbers without ".0", fractions
    as numbers (which the shell writes the German way, 7,5), and numbers
    past any sensible size in their short form."""
    if abs(number) >= 10**15:
        return f"{number:g}"
    return int(number) if float(number).is_integer() else float(number)


class MessageError(Exception):
    """An error whose `message` is shown to people, translated by the shell."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(str(message))
