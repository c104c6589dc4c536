"""Logos as anyone can upload them: text-chunk bombs, pictures that declare
billions of pixels, cut-off and broken files, animations, files far larger
than a logo. Each is refused at the logo field with its reason and nothing
changes; what is kept is a plain PNG without any of the file's metadata."""

from __future__ import annotations

import io
import os
import re
import struct
import zlib

import pytest
from PIL import Image, ImageCms
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Organisation
from tests.reliability.png_files import (
    chunk,
    chunk_types,
    header,
    itxt_bomb,
    png,
    ztxt_bomb,
)
from tests.web.helpers import log_in
from tests.web.test_certificate_letterhead import picture, save, setup

DAMAGED = "Die Logo-Datei ist beschädigt oder unvollständig"
TOO_LARGE = "Das Logo ist zu groß (höchstens 25 Megapixel)."
METADATA = "Das Logo enthält mehr als 1 MB Texte oder andere Metadaten"
ANIMATED = "Das Logo muss ein unbewegtes Bild sein, keine Animation."


@pytest.fixture
def org_id(client, make, db):
    """An organisation whose HR clerk is logged in and whose logo is 400 x 160."""
    org_id = setup(make)
    log_in(client, "hr@example.org")
    save(client, org_id, signatory_name="Alt", logo=(io.BytesIO(picture("PNG")), "logo.png"))
    return org_id


def upload(client, org_id: int, content: bytes, **fields: str):
    """The settings form with a logo, encoded in memory: the test client
    would spool a large body to a file it never closes."""
    url = f"/organisations/{org_id}/certificates"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "version": version, "signatory_name": "", "signatory_role": ""}
    logo = FileStorage(io.BytesIO(content), "logo.png")
    boundary, body = encode_multipart(data | fields | {"logo": logo})
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow_redirects=True,
    )


def refused(client, db, org_id: int, content: bytes, reason: str) -> None:
    response = upload(client, org_id, content, signatory_name="Neu")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # At the logo field, not on top of the page.
    assert re.search(rf'name="logo"[^>]*>\s*<span class="error">{re.escape(reason)}', page)
    db.session.expire_all()
    org = db.session.get(Organisation, org_id)
    assert org.signatory_name == "Alt"
    assert Image.open(io.BytesIO(org.logo_png)).size == (400, 160)


def animated_png() -> bytes:
    control = chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 8, 4, 0, 0, 1, 10, 0, 0))
    return png(before=[chunk(b"acTL", struct.pack(">II", 2, 0)), control])


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 20), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def noise_png(size: int) -> bytes:
    """A PNG of random pixels, which do not compress: about 3 * size² bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        # Today's server errors: Pillow gives up on the texts with a ValueError.
        pytest.param(png(before=[ztxt_bomb(300)]), METADATA, id="ztxt-bomb"),
        pytest.param(png(after=[ztxt_bomb(300)]), METADATA, id="ztxt-bomb-after-pixels"),
        pytest.param(png(before=[itxt_bomb(200)]), METADATA, id="itxt-bomb"),
        pytest.param(
            png(before=[chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * (100 << 20)))]),
            METADATA,
            id="iccp-bomb",
        ),
        pytest.param(
            png(before=[ztxt_bomb(1) for _ in range(70)]), METADATA, id="70-ztxt-chunks-of-1-mb"
        ),
        pytest.param(
            png(before=[chunk(b"tEXt", b"k\0" + b"x" * 1000) for _ in range(1100)]),
            METADATA,
            id="1100-text-chunks",
        ),
        pytest.param(
            png(head=b"\0\0\0\5IHDR\0\0\0\0\0" + b"\0" * 4), DAMAGED, id="broken-ihdr"
        ),  # broken IHDR
        # Pictures that declare more pixels than any logo has.
        pytest.param(
            png(head=header(100_000, 100_000), data=chunk(b"IDAT", zlib.compress(b""))),
            TOO_LARGE,
            id="10-billion-pixels",
        ),
        pytest.param(
            png(head=header(10_000, 10_000), data=chunk(b"IDAT", zlib.compress(b""))),
            TOO_LARGE,
            id="100-megapixels",
        ),
        pytest.param(
            png(head=header(6_000, 5_000), data=chunk(b"IDAT", zlib.compress(b""))),
            TOO_LARGE,
            id="30-megapixels",
        ),
        # Broken and cut-off files.
        pytest.param(png()[:-20], DAMAGED, id="cut-off-end"),
        pytest.param(png()[:40], DAMAGED, id="cut-off-header"),
        pytest.param(png(before=[chunk(b"tEXt", b"a\0b", crc=1)]), DAMAGED, id="wrong-checksum"),
        pytest.param(png(head=header(0, 0)), DAMAGED, id="zero-size"),
        pytest.param(png(head=header(8, 4, depth=7)), DAMAGED, id="bit-depth-7"),
        pytest.param(png(data=chunk(b"IDAT", b"not zlib at all")), DAMAGED, id="idat-not-zlib"),
        pytest.param(
            png(before=[chunk(b"XXXX", b"critical chunk nobody knows")]),
            DAMAGED,
            id="unknown-critical-chunk",
        ),
        pytest.param(picture("JPEG")[:300], DAMAGED, id="cut-off-jpeg"),
        # Animations.
        pytest.param(animated_png(), ANIMATED, id="animated-png"),
        pytest.param(animated_gif(), ANIMATED, id="animated-gif"),
        # Not a picture at all.
        pytest.param(
            b"%PDF-1.4\n", "Das Logo muss ein PNG-, JPEG-, GIF- oder WebP-Bild sein.", id="pdf"
        ),
        pytest.param(
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
            "Das Logo muss ein PNG-, JPEG-, GIF- oder WebP-Bild sein.",
            id="eps",
        ),
    ],
)
def test_a_hostile_logo_is_refused_at_the_field_and_nothing_changes(
    client, db, org_id, content, reason
):
    refused(client, db, org_id, content, reason)


def test_a_logo_file_over_2_mb_is_refused_unread(client, db, org_id):
    content = noise_png(900)
    assert 2 * 2**20 < len(content) < 5 * 2**20  # under the request limit
    refused(client, db, org_id, content, "Die Logo-Datei ist größer als 2 MB.")


def test_the_stored_logo_is_a_plain_png_without_the_files_metadata(client, db, org_id):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    secret = b"Dr. Ulrike H\xc3\xa4gele, GPS 48.77 9.18"
    metadata = [
        chunk(b"tEXt", b"Author\0" + secret),
        chunk(b"zTXt", b"Comment\0\0" + zlib.compress(secret)),
        chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0\0\0" + zlib.compress(secret * 1000)),
        chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(srgb)),
        chunk(b"eXIf", b"MM\0*" + secret),
        chunk(b"tIME", b"\x07\xe3\x01\x01\0\0\0"),
    ]
    response = upload(client, org_id, png(before=metadata))
    assert response.status_code == 200
    db.session.expire_all()
    stored = db.session.get(Organisation, org_id).logo_png
    assert set(chunk_types(stored)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    assert Image.open(io.BytesIO(stored)).size == (8, 4)

    exif = Image.Exif()
    exif[0x010E] = secret.decode()
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(jpeg, "JPEG", exif=exif, icc_profile=srgb)
    upload(client, org_id, jpeg.getvalue())
    db.session.expire_all()
    stored = db.session.get(Organisation, org_id).logo_png
    assert set(chunk_types(stored)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def test_a_logo_with_the_metadata_exporters_write_is_taken(client, db, org_id):
    xmp = b"<x:xmpmeta>" + os.urandom(40_000).hex().encode() + b"</x:xmpmeta>"  # 80 KB
    content = png(400, 160, before=[chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp)])
    response = upload(client, org_id, content, signatory_name="Neu")
    assert "Gespeichert." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).signatory_name == "Neu"
