"""W3C Bitstring Status List: each credential's place in its issuer's
revocation list, and the list itself.

A list has 131,072 entries (16 KB before compression, the minimum the
specification sets so that one credential hides among many); an
organisation's n-th credential has entry n % 131,072 of its list n // 131,072.
Entry i is bit i counted from the most significant bit of the first byte.
The list is built from the credentials' rows when it is asked for, so a
revocation shows in the very transaction that records it.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.credentials import CredentialRecord, StatusList
from app.services.errors import StaleEdit
from curricula.messages import msg

ENTRIES = 131_072
PURPOSE = "revocation"


def take(organisation_id: int, count: int) -> int:
    """The first of `count` new entries of the organisation (one UPDATE …
    RETURNING, which the database serialises, as for serial numbers)."""
    last = db.session.execute(
        update(StatusList)
        .where(StatusList.organisation_id == organisation_id)
        .values(used=StatusList.used + count)
        .returning(StatusList.used)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if last is not None:
        return int(last) - count
    db.session.add(StatusList(organisation_id=organisation_id, used=count))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise StaleEdit(
            msg("Someone else issued certificates just now; nothing was issued.")
        ) from error
    return 0


def place(index: int) -> tuple[int, int]:
    """The list number and the entry in it of an organisation's index."""
    return divmod(index, ENTRIES)


def lists_in_use(organisation_id: int) -> int:
    used = db.session.scalar(
        select(StatusList.used).where(StatusList.organisation_id == organisation_id)
    )
    return max(1, -(-(used or 0) // ENTRIES))


def revoked_entries(organisation_id: int, number: int) -> list[int]:
    first = number * ENTRIES
    return [
        index - first
        for index in db.session.scalars(
            select(CredentialRecord.status_index).where(
                CredentialRecord.organisation_id == organisation_id,
                CredentialRecord.revoked_at.is_not(None),
                CredentialRecord.status_index >= first,
                CredentialRecord.status_index < first + ENTRIES,
            )
        )
    ]


def encoded(entries: Iterable[int]) -> str:
    """The list with `entries` set: GZIP, then multibase base64url ("u")."""
    bits = bytearray(ENTRIES // 8)
    for entry in entries:
        bits[entry // 8] |= 0x80 >> (entry % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decoded(encoded_list: str) -> bytes:
    """The bitstring of an encodedList (for checking one)."""
    if not encoded_list.startswith("u"):
        raise ValueError("not multibase base64url")
    body = encoded_list[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bitstring: bytes, entry: int) -> bool:
    return bool(bitstring[entry // 8] & (0x80 >> (entry % 8)))
