"""Finding a person's names and addresses inside text other records hold (a
tandem confirmation lists everyone's names, a revocation reason may name
someone) and putting a marker in their place.

A mention is a whole name or address, in any letter case, with any run of
spaces between the words and in either Unicode form of its accents; a
shorter word that happens to contain it is not one ("Ann Li" is not found
in "Ann Lind").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

ERASED = "[erased]"


class Redactor:
    def __init__(self, mentions: Iterable[str], marker: str = ERASED) -> None:
        self.marker = marker
        self._mentions = tuple(mentions)
        self._compiled: re.Pattern[str] | None = None
        self._empty = False

    def _pattern(self) -> re.Pattern[str] | None:
        """Built at the first search: for thousands of names that takes a
        second, and most texts are never searched."""
        if self._compiled is None and not self._empty:
            words = {tuple(_nfc(m).split()) for m in self._mentions}
            # Longest first, so that "Anna Maria Jürgens" goes before "Anna Maria".
            found = sorted((w for w in words if w), key=lambda w: (-len(" ".join(w)), w))
            if not found:
                self._empty = True
                return None
            self._compiled = re.compile(
                r"(?<!\w)(?:"
                + "|".join(r"\s+".join(re.escape(word) for word in w) for w in found)
                + r")(?!\w)",
                re.IGNORECASE,
            )
        return self._compiled

    def mentions(self, text: str) -> bool:
        if not text or not text.strip():
            return False
        pattern = self._pattern()
        return pattern is not None and pattern.search(_nfc(text)) is not None

    def text(self, text: str) -> str:
        """The text with every mention replaced; the very same text when there is none."""
        if not self.mentions(text):
            return text
        pattern = self._pattern()
        assert pattern is not None  # noqa: S101 -- mentions() found one
        return pattern.sub(self.marker, _nfc(text))

    def value(self, value: Any) -> Any:
        """A JSON value with every mention in its strings replaced."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
