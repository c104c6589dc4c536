"""The baked badge, read back: the picture is a PNG Pillow decodes, and the
credential sits in exactly one uncompressed iTXt chunk "openbadgecredential"
without language tag or translated keyword (OB 3.0, "Baked Badge"), before
the picture data, as read here chunk by chunk and by Pillow on its own."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.exports.badge_png import BadgeFacts, bake, baked_credential, render_badge
from app.i18n import Translator
from app.services.png_chunks import BrokenPng

JWT = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczovL3F1YWxpcGxhbi5leGFtcGxlIn0.c2lnbmF0dXJl"
FACTS = BadgeFacts(
    name="Jörg Yılmaz",
    programme="Lernbegleiter:innen – Grundstufe",
    issuer="Bildungswerk Süd gGmbH",
    issued_on=date(2026, 3, 16),
    serial="00042",
)


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    found, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        found.append((kind, body))
        position += 12 + length
    return found


def picture(**changes) -> bytes:
    return render_badge(
        BadgeFacts(**(FACTS.__dict__ | changes)), JWT, Translator("de"), filename="b.png"
    ).content


def test_the_credential_is_one_uncompressed_itxt_chunk_before_the_picture():
    data = picture()
    found = chunks(data)
    kinds = [kind for kind, _ in found]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    baked = [body for kind, body in found if body.startswith(b"openbadgecredential\0")]
    assert len(baked) == 1
    (body,) = baked
    assert found[kinds.index(b"iTXt")][1] == body
    assert kinds.index(b"iTXt") < kinds.index(b"IDAT")
    # keyword NUL, compression flag 0, method 0, empty language tag NUL,
    # empty translated keyword NUL, the text
    assert body == b"openbadgecredential\0" + b"\0\0" + b"\0" + b"\0" + JWT.encode()


def test_pillow_reads_the_picture_and_the_baked_text():
    with Image.open(io.BytesIO(picture())) as image:
        image.load()
        assert image.size == (600, 600)
        assert image.text["openbadgecredential"] == JWT


def test_baking_again_replaces_the_chunk():
    data = bake(picture(), "other.jwt.value")
    baked = [body for kind, body in chunks(data) if body.startswith(b"openbadgecredential\0")]
    assert len(baked) == 1
    assert baked_credential(data, limit=10_000) == "other.jwt.value"


def test_a_logo_is_drawn_and_a_damaged_one_is_left_out():
    logo = io.BytesIO()
    Image.new("RGB", (400, 100), (200, 30, 30)).save(logo, "PNG")
    with_logo = Image.open(io.BytesIO(picture(logo_png=logo.getvalue()))).convert("RGB")
    # The logo's red sits in the band at the top.
    assert with_logo.getpixel((300, 100))[0] > 180
    damaged = picture(logo_png=b"\x89PNG\r\n\x1a\nnot really")
    assert baked_credential(damaged, limit=10_000) == JWT


def test_the_longest_names_and_titles_still_make_a_badge():
    data = picture(name="Wolfeschlegelsteinhausenbergerdorff " * 6, programme="Ü" * 300)
    assert baked_credential(data, limit=10_000) == JWT


def test_a_png_without_the_chunk_has_no_credential():
    plain = io.BytesIO()
    Image.new("RGB", (20, 20)).save(plain, "PNG")
    assert baked_credential(plain.getvalue(), limit=10_000) is None


def test_a_compressed_chunk_is_read_within_the_limit():
    info = PngInfo()
    info.add_itxt("openbadgecredential", JWT, zip=True)
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "PNG", pnginfo=info)
    assert baked_credential(out.getvalue(), limit=10_000) == JWT
    with pytest.raises(BrokenPng):
        baked_credential(out.getvalue(), limit=20)


def test_a_chunk_that_is_not_utf8_is_a_broken_file():
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "PNG")
    data = out.getvalue()
    body = b"openbadgecredential\0\0\0\0\0" + b"\xff\xfe\xfa"
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    broken = data[:33] + chunk + data[33:]
    with pytest.raises(BrokenPng):
        baked_credential(broken, limit=10_000)
