"""Text as the participant search and the alphabetical order compare it.

Plain functions, no database: the stored search column, the sort keys and
the words of a query are made here, so that SQLite and PostgreSQL compare
the same characters and agree on every result and every order.

- `fold`: case and accents do not count ("Ömer", "ömer" and "omer" are
  one word, as are "İlkay" and "ilkay", "Strauß" and "strauss").
- `umlauts_spelled_out`: the German spelling without umlauts ("Müller" as
  "mueller"), which people type when their keyboard has none.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Letters that carry no combining mark to drop, and their plain reading.
_LETTERS = str.maketrans(
    {
        "ı": "i",  # dotless i (Turkish "Işık")
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
    }
)
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def fold(text: str) -> str:
    """Lower case without accents, in the order of a German phone book
    (DIN 5007-1: "Köhler" < "Krüger" < "Kühn", ß as ss)."""
    letters = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in letters if not unicodedata.combining(c))
    return plain.translate(_LETTERS)


def umlauts_spelled_out(text: str) -> str:
    """`fold` of the text with ä, ö, ü written as ae, oe, ue."""
    composed = unicodedata.normalize("NFC", text.casefold())
    return fold(composed.translate(_UMLAUTS))


def search_text(values: Iterable[str | None]) -> str:
    """What the search looks in: each value folded, and spelled without
    umlauts where that differs, separated by spaces (a query word holds
    none, so it never matches across two fields)."""
    words = []
    for value in values:
        if not value:
            continue
        words.append(fold(value))
        spelled = umlauts_spelled_out(value)
        if spelled != words[-1]:
            words.append(spelled)
    return " ".join(words)


def query_words(query: str) -> list[tuple[str, ...]]:
    """The words of a query, each as the spellings a stored text may hold
    (one or two: "müller" is looked for as "muller" and as "mueller")."""
    found = []
    # "Yılmaz, Jörg" as a list writes names: a comma or semicolon parts words too.
    for word in query.replace(",", " ").replace(";", " ").split():
        spellings = tuple(dict.fromkeys((fold(word), umlauts_spelled_out(word))))
        found.append(spellings)
    return found
