"""Fuzzing the logo upload with structured hostile files: PNGs built chunk
by chunk with random types, lengths that lie, wrong and right checksums,
broken and huge headers, text chunks that unpack to megabytes, pixel data
that is no zlib stream, files cut off anywhere; and the starts of JPEG, GIF
and WebP files followed by noise. Through the real route, every file is
refused at the logo field or becomes a plain PNG logo: never a server
error, and a refused file changes nothing."""

from __future__ import annotations

import io
import re
import struct
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Organisation
from app.services.letterhead import STORED_SIZE
from tests.reliability.png_files import SIGNATURE, chunk, chunk_types
from tests.web.helpers import log_in
from tests.web.test_certificate_letterhead import picture, save, setup

PICTURE_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}

sizes = st.one_of(
    st.integers(min_value=1, max_value=64),
    st.sampled_from([0, 5_000, 6_000, 10_000, 100_000, 2**31 - 1, 2**32 - 1]),
)


@st.composite
def headers(draw) -> bytes:
    width, height = draw(sizes), draw(sizes)
    depth = draw(st.sampled_from([1, 2, 4, 8, 16, 0, 3, 7, 255]))
    colour = draw(st.sampled_from([0, 2, 3, 4, 6, 1, 5, 7]))
    fields = struct.pack(
        ">IIBBBBB", width, height, depth, colour, 0, 0, draw(st.sampled_from([0, 1, 2]))
    )
    if draw(st.integers(0, 9)) == 0:
        fields = fields[: draw(st.integers(0, 12))]  # a header that is too short
    return chunk(b"IHDR", fields)


@st.composite
def pixel_data(draw, width: int = 8, height: int = 4) -> bytes:
    kind = draw(st.sampled_from(["good", "good", "noise", "short", "bomb"]))
    if kind == "good":
        rows = (b"\0" + bytes(draw(st.binary(min_size=3, max_size=3))) * width) * height
        return chunk(b"IDAT", zlib.compress(rows))
    if kind == "noise":
        return chunk(b"IDAT", draw(st.binary(max_size=200)))
    if kind == "short":
        return chunk(b"IDAT", zlib.compress(b"\0" * draw(st.integers(0, 40))))
    return chunk(b"IDAT", zlib.compress(b"\0" * (4 << 20), 9))  # far more rows than declared


@st.composite
def extra_chunks(draw) -> bytes:
    kind = draw(
        st.sampled_from(
            [
                b"tEXt",
                b"zTXt",
                b"iTXt",
                b"iCCP",
                b"eXIf",
                b"acTL",
                b"fcTL",
                b"PLTE",
                b"tRNS",
                b"gAMA",
                b"IDAT",
                b"IHDR",
                b"IEND",
            ]
        )
        | st.binary(min_size=4, max_size=4)
    )
    body = draw(st.binary(max_size=64))
    if kind in (b"zTXt", b"iCCP") and draw(st.booleans()):
        unpacked = draw(st.sampled_from([10, 1 << 20, 3 << 20]))
        body = b"k\0\0" + zlib.compress(b"\0" * unpacked, 9)
    if kind == b"acTL":
        body = struct.pack(">II", draw(st.sampled_from([0, 1, 2, 2**32 - 1])), 0)
    crc = None if draw(st.integers(0, 4)) else draw(st.integers(0, 2**32 - 1))
    data = chunk(kind, body, crc=crc)
    if draw(st.integers(0, 9)) == 0:  # a length that lies
        data = struct.pack(">I", draw(st.integers(0, 2**32 - 1))) + data[4:]
    return data


@st.composite
def metadata_bombs(draw) -> bytes:
    """Texts and colour profiles that unpack to megabytes, or many of them."""
    megabytes = draw(st.sampled_from([1, 2, 8]))
    packed = zlib.compress(b"\0" * (megabytes << 20), 9)
    kind = draw(st.sampled_from([b"zTXt", b"iCCP", b"iTXt", b"tEXt"]))
    if kind == b"tEXt":
        return b"".join(chunk(b"tEXt", b"k\0" + b"x" * 30_000) for _ in range(40))
    if kind == b"iTXt":
        return chunk(kind, b"XML:com.adobe.xmp\0\1\0\0\0" + packed)
    return chunk(kind, b"k\0\0" + packed)


@st.composite
def pngs(draw) -> bytes:
    parts = [SIGNATURE, draw(headers())]
    parts += draw(st.lists(extra_chunks() | metadata_bombs(), max_size=4))
    parts.append(draw(pixel_data()))
    parts += draw(st.lists(extra_chunks() | metadata_bombs(), max_size=2))
    if draw(st.integers(0, 4)):
        parts.append(chunk(b"IEND", b""))
    data = b"".join(parts)
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def other_pictures(draw) -> bytes:
    start = draw(
        st.sampled_from(
            [
                picture("JPEG")[:200],
                picture("GIF")[:40],
                picture("WEBP")[:30],
                b"GIF89a" + struct.pack("<HH", 65535, 65535),
                b"RIFF\xff\xff\xff\xffWEBPVP8X",
                b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff",
            ]
        )
    )
    return start + draw(st.binary(max_size=300))


def upload(client, org_id: int, content: bytes):
    url = f"/organisations/{org_id}/certificates"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fields = {"csrf_token": token, "version": version, "signatory_name": "", "signatory_role": ""}
    boundary, body = encode_multipart(
        fields | {"logo": FileStorage(io.BytesIO(content), "logo.png")}
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_hostile_logos_never_fail_the_letterhead(client, make, db):
    org_id = setup(make)
    log_in(client, "hr@example.org")
    save(client, org_id, logo=(io.BytesIO(picture("PNG")), "logo.png"))

    def stored() -> bytes:
        db.session.expire_all()
        return db.session.get(Organisation, org_id).logo_png

    @given(content=pngs() | other_pictures())
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def survives(content):
        before = stored()
        response = upload(client, org_id, content)
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            page = response.get_data(as_text=True)
            assert re.search(r'name="logo"[^>]*>\s*<span class="error">', page)
            assert stored() == before
            return
        logo = stored()
        assert set(chunk_types(logo)) <= PICTURE_CHUNKS
        width, height = Image.open(io.BytesIO(logo)).size
        assert width <= STORED_SIZE[0]
        assert height <= STORED_SIZE[1]

    survives()
