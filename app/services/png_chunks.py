"""A PNG file's chunks, read and checked before an image library decodes it.

An uploaded PNG can carry a text chunk that unpacks to hundreds of
megabytes, thousands of text chunks, a header that declares a picture of
ten billion pixels, or be cut off. The chunk structure says all of this
without decoding a pixel: lengths, checksums, the header, the frame count
of an animation and the size of the metadata, unpacked with a bound. What
the picture needs (header, palette, transparency, pixel data) is passed on;
the metadata (texts, colour profile, EXIF, dates) is left behind.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The chunks that make the picture; every other one is metadata or animation.
PICTURE_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
# Metadata whose content is compressed after a keyword and a method byte;
# iTXt only when its compression flag is set.
_COMPRESSED = {b"zTXt", b"iCCP"}
_ANIMATION = {b"fcTL", b"fdAT"}


class BrokenPng(Exception):
    """The file is no readable PNG; `reason` says what is wrong with it."""

    def __init__(self, reason: str, **values: object) -> None:
        self.reason = reason
        self.values = values
        super().__init__(reason)


@dataclass(frozen=True)
class PngFacts:
    width: int
    height: int
    frames: int  # 1, or the frame count an animated PNG declares
    metadata_bytes: int  # texts, colour profile, EXIF, unpacked
    picture: bytes  # the file with only PICTURE_CHUNKS


def is_png(data: bytes) -> bool:
    return data.startswith(SIGNATURE)


def read_png(data: bytes, *, metadata_limit: int) -> PngFacts:
    """The facts of a PNG file, or BrokenPng (`truncated`, `checksum`,
    `header`, `structure`, `metadata`); metadata is unpacked only up to
    just past `metadata_limit` bytes."""
    if not is_png(data):
        raise BrokenPng("structure")
    position = len(SIGNATURE)
    kept = [SIGNATURE]
    width = height = 0
    frames = 1
    metadata = 0
    seen_end = False
    while position < len(data) and not seen_end:
        if position + 12 > len(data):
            raise BrokenPng("truncated")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if length > 2**31 - 1 or not kind.isalpha():
            raise BrokenPng("structure")
        if end > len(data):
            raise BrokenPng("truncated")
        body = data[position + 8 : end - 4]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise BrokenPng("checksum", chunk=kind.decode("ascii"))
        if position == len(SIGNATURE):
            if kind != b"IHDR" or length != 13:
                raise BrokenPng("header")
            width, height = struct.unpack(">II", body[:8])
            if not width or not height:
                raise BrokenPng("header")
        elif kind == b"IHDR":
            raise BrokenPng("structure")
        if kind in PICTURE_CHUNKS:
            kept.append(data[position:end])
        elif kind == b"acTL" and length >= 4:
            (frames,) = struct.unpack(">I", body[:4])
        elif kind in _ANIMATION:
            pass  # the frames of an animation, which is refused for its frame count
        elif kind[0:1].islower():  # ancillary: metadata of some kind
            metadata += _unpacked_size(kind, body, metadata_limit - metadata + 1)
            if metadata > metadata_limit:
                raise BrokenPng("metadata")
        else:
            raise BrokenPng("structure")  # a critical chunk nobody knows
        seen_end = kind == b"IEND"
        position = end
    if not seen_end:
        raise BrokenPng("truncated")
    return PngFacts(width, height, frames, metadata, b"".join(kept))


def _unpacked_size(kind: bytes, body: bytes, most: int) -> int:
    """The chunk's size with its compressed part unpacked, reading at most
    `most` unpacked bytes (a count above `most` means "too much")."""
    stream = None
    if kind in _COMPRESSED:
        keyword_end = body.find(b"\0")
        stream = body[keyword_end + 2 :] if keyword_end >= 0 else b""
    elif kind == b"iTXt":
        keyword_end = body.find(b"\0")
        if keyword_end >= 0 and body[keyword_end + 1 : keyword_end + 2] == b"\1":
            rest = body[keyword_end + 3 :]
            # Language tag and translated keyword, each ended by a zero byte.
            language_end = rest.find(b"\0")
            keyword_end_2 = rest.find(b"\0", language_end + 1)
            stream = rest[keyword_end_2 + 1 :] if keyword_end_2 >= 0 else b""
    if stream is None:
        return len(body)
    unpacker = zlib.decompressobj()
    try:
        unpacked = unpacker.decompress(stream, most)
    except zlib.error:
        raise BrokenPng("structure") from None
    if unpacker.unconsumed_tail:
        return most
    return len(body) + len(unpacked)


# Text chunks by keyword: Open Badges "bakes" a credential into its image
# as one uncompressed iTXt chunk.


def itxt_chunk(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk without language tag or translated keyword."""
    # keyword, NUL, compression flag 0, method 0, empty language tag and
    # translated keyword (each ended by NUL), then the UTF-8 text.
    body = keyword.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0" + text.encode("utf-8")
    return _chunk(b"iTXt", body)


def with_text(data: bytes, keyword: str, text: str) -> bytes:
    """The PNG with one iTXt chunk `keyword` right after its header (so a
    reader that stops at the first one finds it at once); a chunk of that
    keyword already there is replaced."""
    chunks = list(_chunks(data))
    kept = [
        SIGNATURE + chunks[0][2],
        itxt_chunk(keyword, text),
        *(raw for kind, body, raw in chunks[1:] if not _is_text(kind, body, keyword)),
    ]
    return b"".join(kept)


def find_text(data: bytes, keyword: str, *, limit: int) -> str | None:
    """The text of the first iTXt (or tEXt) chunk named `keyword` of a PNG
    read with `read_png` first; None when there is none. BrokenPng when its
    text is not UTF-8 or unpacks past `limit` bytes."""
    read_png(data, metadata_limit=limit)
    for kind, body, _raw in _chunks(data):
        if not _is_text(kind, body, keyword):
            continue
        rest = body[len(keyword) + 1 :]
        if kind == b"tEXt":
            return rest.decode("latin-1")
        compressed, rest = rest[0:1] == b"\1", rest[2:]
        language_end = rest.find(b"\0")
        translated_end = rest.find(b"\0", language_end + 1)
        if language_end < 0 or translated_end < 0:
            raise BrokenPng("structure")
        text = rest[translated_end + 1 :]
        if compressed:
            unpacker = zlib.decompressobj()
            try:
                text = unpacker.decompress(text, limit + 1)
            except zlib.error:
                raise BrokenPng("structure") from None
            if len(text) > limit:
                raise BrokenPng("metadata")
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise BrokenPng("structure") from None
    return None


def _is_text(kind: bytes, body: bytes, keyword: str) -> bool:
    return kind in (b"iTXt", b"tEXt") and body.startswith(keyword.encode("latin-1") + b"\0")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(kind, body, raw bytes) of each chunk of a well-formed PNG."""
    position = len(SIGNATURE)
    while position + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        yield kind, data[position + 8 : end - 4], data[position:end]
        position = end
        if kind == b"IEND":
            return
