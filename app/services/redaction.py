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
        words = {tuple(_nfc(m).split()) for m in mentions}
        # Longest first, so that "Anna Maria Jürgens" goes before "Anna Maria".
        alternatives = sorted((w for w in words if w), key=lambda w: (-len(" ".join(w)), w))
        self.marker = marker
        self._pattern = (
            re.compile(
                r"(?<!\w)(?:"
                + "|".join(r"\s+".join(re.escape(word) for word in w) for w in alternatives)
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if alternatives
            else None
        )

    def mentions(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(_nfc(text)) is not None

    def text(self, text: str) -> str:
        """The text with every mention replaced; the very same text when there is none."""
        if not self.mentions(text):
            return text
        assert self._pattern is not None  # noqa: S101 -- mentions() found one
        return self._pattern.sub(self.marker, _nfc(text))

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
