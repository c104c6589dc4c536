"""What an organisation's certificates carry besides the person's record:
the signatory and the logo.

An uploaded logo is decoded and stored again as a small PNG, so that only a
plain image (no metadata, no scripts, no decompression bomb) ever reaches a
PDF, and every process of a deployment reads it from the database.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from app.models import Organisation
from curricula.messages import MessageError, msg

ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# Larger images are refused before they are decoded.
MAX_PIXELS = 25_000_000
# Enough for a crisp logo 55 mm wide at 600 dpi.
STORED_SIZE = (1400, 600)


class LetterheadRefused(MessageError):
    pass


def logo_png(data: bytes) -> bytes:
    """The uploaded image as a PNG of at most STORED_SIZE pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise LetterheadRefused(msg("The logo must be a PNG, JPEG, GIF or WebP image."))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise LetterheadRefused(msg("The logo is too large (at most 25 megapixels)."))
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise LetterheadRefused(msg("The logo must be a PNG, JPEG, GIF or WebP image.")) from error
    picture.thumbnail(STORED_SIZE)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def update(
    organisation: Organisation,
    *,
    signatory_name: str,
    signatory_role: str,
    logo: bytes | None,
    remove_logo: bool,
) -> None:
    organisation.signatory_name = " ".join(signatory_name.split())
    organisation.signatory_role = " ".join(signatory_role.split())
    if remove_logo:
        organisation.logo_png = None
    elif logo:
        organisation.logo_png = logo_png(logo)
