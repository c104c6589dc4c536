"""URL converters: an id in a URL is at most what the database can hold."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

# Record ids are 32-bit integers in PostgreSQL; SQLite overflows past 2**63.
LARGEST_ID = 2**31 - 1


class RecordId(IntegerConverter):
    """`<int:…>` with an upper bound: a larger number cannot name a record, so
    it answers 404 like any unknown id instead of failing in the database."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)
