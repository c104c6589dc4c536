"""What an organisation's certificates carry besides the person's record:
the signatory and the logo.

An uploaded logo is decoded and stored again as a small PNG, so that only a
plain image (no metadata, no scripts, no decompression bomb) ever reaches a
PDF, and every process of a deployment reads it from the database.

Codes of refusals: `invalid_logo` and `logo_too_large` (422, at the logo
field), `stale` (someone else saved the settings after the form was shown),
`not_found` and `forbidden` as the policy says.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from app.models import Organisation
from app.services import errors, policy
from app.services.policy import Action, Actor
from app.services.text import one_line
from curricula.messages import Message, msg

ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# Larger images are refused before they are decoded.
MAX_PIXELS = 25_000_000
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


def logo_png(data: bytes) -> bytes:
    """The uploaded image as a PNG of at most STORED_SIZE pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise _not_a_picture()
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise LetterheadRefused(
                    msg("The logo is too large (at most 25 megapixels)."), code="logo_too_large"
                )
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise _not_a_picture() from error
    picture.thumbnail(STORED_SIZE)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


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
