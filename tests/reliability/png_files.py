"""PNG files built chunk by chunk: hostile ones (text-chunk bombs, headers
that declare billions of pixels, wrong checksums, cut-off files) are made
by code, since some would be hundreds of megabytes unpacked."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    """One chunk: length, type, body and its checksum (or the one given)."""
    checksum = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum & 0xFFFFFFFF)


def header(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))


def pixels(width: int, height: int) -> bytes:
    """IDAT of an RGB picture of one colour."""
    rows = (b"\0" + b"\x20\x60\xa0" * width) * height
    return chunk(b"IDAT", zlib.compress(rows))


def png(
    width: int = 8,
    height: int = 4,
    *,
    before: Iterable[bytes] = (),
    after: Iterable[bytes] = (),
    head: bytes | None = None,
    data: bytes | None = None,
) -> bytes:
    """A PNG of one colour, with extra chunks before or after its pixels."""
    return b"".join(
        [
            SIGNATURE,
            header(width, height) if head is None else head,
            *before,
            pixels(width, height) if data is None else data,
            *after,
            chunk(b"IEND", b""),
        ]
    )


def ztxt_bomb(megabytes: int) -> bytes:
    """A zTXt chunk of a few hundred KB that unpacks to `megabytes` MB."""
    return chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * (megabytes << 20), 9))


def itxt_bomb(megabytes: int) -> bytes:
    text = zlib.compress(b"a" * (megabytes << 20), 9)
    return chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0en\0\0" + text)


def chunk_types(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    assert data.startswith(SIGNATURE)
    types, position = [], len(SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        types.append(data[position + 4 : position + 8])
        position += 12 + length
    return types
