"""What an organisation's certificates carry besides the person's record:
the signatory and the logo.

An uploaded logo is decoded and stored again as a small PNG, so that only a
plain image (no metadata, no scripts, no decompression bomb) ever reaches a
PDF, and every process of a deployment reads it from the database. A PNG's
chunks are checked before it is decoded (png_chunks), and its metadata is
left behind unread beyond a bound.

Codes of refusals: `invalid_logo` (not an image, damaged, animated, too
much metadata) and `logo_too_large` (file size, pixels) (422, at the logo
field), `stale` (someone else saved the settings after the form was shown),
`not_found` and `forbidden` as the policy says.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, UnidentifiedImageError

from app.models import Organisation
from app.services import errors, png_chunks, policy
from app.services.policy import Action, Actor
from app.services.text import one_line
from curricula.messages import Message, msg

ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# A logo is a few hundred KB at most; a larger file is refused unread.
MAX_FILE_BYTES = 2 * 1024 * 1024
# Larger images are refused before they are decoded.
MAX_PIXELS = 25_000_000
# Texts, colour profile and EXIF a logo may carry (they are not kept): an
# exporter's XMP is tens of KB, a text-chunk bomb hundreds of MB.
MAX_METADATA_BYTES = 1024 * 1024
# Enough for a crisp logo 55 mm wide at 600 dpi.
STORED_SIZE = (1400, 600)


class LetterheadRefused(errors.InvalidInput):
    """The uploaded logo cannot be used; the refusal belongs to the logo field."""

    def __init__(self, message: Message, *, code: str) -> None:
        super().__init__(message, code=code, field="logo")


def _not_a_picture() -> LetterheadRefused:
    return LetterheadRefused(
        msg("The logo must be a PNG, JPEG, GIF or WebP image."), code="invalid_logo"
    )


def _damaged() -> LetterheadRefused:
    return LetterheadRefused(
        msg("The logo file is damaged or incomplete; save it again and upload it once more."),
        code="invalid_logo",
    )


def _too_many_pixels() -> LetterheadRefused:
    return LetterheadRefused(
        msg("The logo is too large (at most 25 megapixels)."), code="logo_too_large"
    )


def _animated() -> LetterheadRefused:
    return LetterheadRefused(
        msg("The logo must be a still picture, not an animation."), code="invalid_logo"
    )


def logo_png(data: bytes) -> bytes:
    """The uploaded image as a PNG of at most STORED_SIZE pixels, without
    any of the file's metadata."""
    if len(data) > MAX_FILE_BYTES:
        raise LetterheadRefused(
            msg("The logo file is larger than {size} MB.", size=MAX_FILE_BYTES // 2**20),
            code="logo_too_large",
        )
    png = png_chunks.is_png(data)
    if png:
        data = _png_picture(data)
    try:
        # Only these decoders look at the file, none of the others Pillow has.
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _too_many_pixels()
            if getattr(image, "is_animated", False):
                raise _animated()
            image.draft("RGB", STORED_SIZE)  # a JPEG is decoded at a reduced size
            image.load()
            picture = image.convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # The warning, where warnings are errors: past 89 megapixels.
        raise _too_many_pixels() from error
    except UnidentifiedImageError as error:
        # A PNG by its chunks that Pillow cannot read has a broken header.
        raise (_damaged() if png else _not_a_picture()) from error
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as error:
        # What Pillow's decoders raise for truncated and broken files.
        raise _damaged() from error
    picture.thumbnail(STORED_SIZE)
    picture.info.clear()  # convert() copies the colour profile, save() would write it
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _png_picture(data: bytes) -> bytes:
    """The PNG's chunks that make the picture, after its structure is checked."""
    try:
        facts = png_chunks.read_png(data, metadata_limit=MAX_METADATA_BYTES)
    except png_chunks.BrokenPng as broken:
        if broken.reason == "metadata":
            raise LetterheadRefused(
                msg(
                    "The logo carries more than {size} MB of texts or other metadata; "
                    "save it again without metadata.",
                    size=MAX_METADATA_BYTES // 2**20,
                ),
                code="invalid_logo",
            ) from None
        raise _damaged() from None
    if facts.width * facts.height > MAX_PIXELS:
        raise _too_many_pixels()
    if facts.frames > 1:
        raise _animated()
    return facts.picture


def letterhead_of(actor: Actor, organisation_id: int) -> Organisation:
    """The organisation whose signatory and logo the actor may change."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.CERTIFICATE_SETTINGS, organisation.id)
    return organisation


def shown_organisation(actor: Actor, organisation_id: int) -> Organisation:
    """The organisation whose logo and sample certificate the actor may see."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.PRINT_CERTIFICATES, organisation.id)
    return organisation


def update_letterhead(
    actor: Actor,
    organisation_id: int,
    *,
    version: object,
    signatory_name: str,
    signatory_role: str,
    logo: bytes | None,
    remove_logo: bool,
) -> Organisation:
    """Signatory and logo for certificates issued (signatory) and printed
    (logo) from now on. `version` is the lock version the form was shown with."""
    organisation = letterhead_of(actor, organisation_id)
    errors.expect_version(organisation, version)
    name = one_line(signatory_name, "signatory_name", msg("signatory"))
    role = one_line(signatory_role, "signatory_role", msg("signatory's role"))
    organisation.signatory_name, organisation.signatory_role = (
        " ".join(name.split()),
        " ".join(role.split()),
    )
    if remove_logo:
        organisation.logo_png = None
    elif logo:
        organisation.logo_png = logo_png(logo)
    return organisation
