"""The badge as a PNG image with its credential baked in (Open Badges 3.0).

A square picture that reads on a profile page: the organisation's logo (or
its name), the programme, the person's name as printed and the date, in the
certificate's font (DejaVu Sans, so every name prints with its own letters).
The signed credential, a compact JWS (VC-JWT), travels inside the file in
one uncompressed iTXt chunk with the keyword "openbadgecredential" and no
language tag or translated keyword, as the OB 3.0 baking section asks; any
Open Badges reader (and our /verify page) takes it from there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel.dates import format_date
from PIL import Image, ImageDraw, ImageFont

from app.exports import Rendered
from app.exports.certificate_pdf import DAY_PATTERNS, FONTS
from app.i18n import Translator
from app.services.png_chunks import find_text, with_text

MIMETYPE = "image/png"
KEYWORD = "openbadgecredential"
SIZE = 600
# Drawn at twice the size and scaled down: smooth edges without a library
# that antialiases shapes.
_SCALE = 2
_INK = (28, 37, 54)
_MUTED = (88, 99, 116)
_BAND = (23, 78, 128)
_RIM = (201, 162, 39)
_PAPER = (255, 255, 255)
# Pillow decodes no logo larger than this (the stored one is at most a few
# hundred pixels wide; this only guards against a damaged record).
_LOGO_PIXELS = 4_000_000


@dataclass(frozen=True)
class BadgeFacts:
    """What the badge shows, in the language it is drawn in."""

    name: str
    programme: str
    issuer: str
    issued_on: date
    serial: str
    logo_png: bytes | None = None


def render_badge(facts: BadgeFacts, jwt: str, tr: Translator, *, filename: str) -> Rendered:
    """The badge picture with `jwt` baked in."""
    return Rendered(filename, MIMETYPE, bake(draw_badge(facts, tr), jwt))


def bake(png: bytes, jwt: str) -> bytes:
    """`png` carrying `jwt` in its one openbadgecredential chunk."""
    return with_text(png, KEYWORD, jwt)


def baked_credential(png: bytes, *, limit: int) -> str | None:
    """The text baked into a PNG, or None; BrokenPng for a damaged file or
    a chunk past `limit` bytes."""
    return find_text(png, KEYWORD, limit=limit)


@cache
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def draw_badge(facts: BadgeFacts, tr: Translator) -> bytes:
    s = _SCALE
    side = SIZE * s
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    # A rounded card with a gold rim and a band across the top.
    pen.rounded_rectangle((0, 0, side - 1, side - 1), radius=64 * s, fill=_RIM)
    inset = 10 * s
    card = (inset, inset, side - 1 - inset, side - 1 - inset)
    band_bottom = 190 * s
    # The card in the band's colour, its lower part white.
    pen.rounded_rectangle(card, radius=56 * s, fill=_BAND)
    paper = (inset, band_bottom, side - 1 - inset, side - 1 - inset)
    pen.rounded_rectangle(paper, radius=56 * s, fill=_PAPER, corners=(False, False, True, True))

    width = side - 2 * 56 * s
    left = 56 * s
    logo = _logo(facts.logo_png, width - 40 * s, 120 * s)
    if logo is not None:
        # The logo on a white plate in the band, so that any colours show.
        plate_w, plate_h = logo.width + 40 * s, logo.height + 24 * s
        plate_x = (side - plate_w) // 2
        plate_y = (band_bottom + inset - plate_h) // 2
        pen.rounded_rectangle(
            (plate_x, plate_y, plate_x + plate_w, plate_y + plate_h), radius=16 * s, fill=_PAPER
        )
        image.paste(logo, (plate_x + 20 * s, plate_y + 12 * s), logo)
    else:
        issuer = _fit(pen, facts.issuer, True, width, (30 * s, 22 * s, 16 * s), 3)
        _centred(pen, issuer, side, (band_bottom + inset) // 2, _PAPER)

    # The programme and the name share the room between band and rule:
    # the larger of the two steps down until both fit.
    top, rule = band_bottom + 34 * s, side - inset - 90 * s
    awarded = _fit(pen, tr.gettext("awarded to"), False, width, (22 * s,), 1)
    programme_sizes = [34 * s, 30 * s, 26 * s, 22 * s, 18 * s]
    name_sizes = [40 * s, 34 * s, 28 * s, 24 * s, 20 * s]
    while True:
        programme = _fit(pen, facts.programme, True, width, tuple(programme_sizes), 3)
        name = _fit(pen, facts.name, True, width, tuple(name_sizes), 3)
        needed = _height(programme) + 26 * s + _height(awarded) + 12 * s + _height(name)
        if needed <= rule - top - 16 * s or len(programme_sizes) + len(name_sizes) == 2:
            break
        larger = programme_sizes if _height(programme) >= _height(name) else name_sizes
        if len(larger) == 1:
            larger = name_sizes if larger is programme_sizes else programme_sizes
        larger.pop(0)
    y = _block(pen, programme, side, top, _BAND) + 26 * s
    y = _block(pen, awarded, side, y, _MUTED) + 12 * s
    _block(pen, name, side, y, _INK)

    pen.line((left + 60 * s, rule, side - left - 60 * s, rule), _RIM, 3 * s)
    foot = f"{_day(facts.issued_on, tr)} · {tr.gettext('No. %(serial)s', serial=facts.serial)}"
    footer = _fit(pen, foot, False, width, (22 * s, 18 * s), 1)
    _block(pen, footer, side, rule + 24 * s, _MUTED)

    out = io.BytesIO()
    # Halved by averaging each 2×2 block: as smooth as a resampling filter, and fast.
    image.reduce(_SCALE).save(out, "PNG")
    return out.getvalue()


def _logo(png: bytes | None, width: int, height: int) -> Image.Image | None:
    """The logo scaled into the box, or None when there is none (or it
    cannot be read: the badge is still worth having without it)."""
    if not png:
        return None
    try:
        with Image.open(io.BytesIO(png)) as opened:
            if opened.width * opened.height > _LOGO_PIXELS:
                return None
            logo = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    scale = min(width / logo.width, height / logo.height)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    return logo.resize(size, Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class _Fitted:
    font: ImageFont.FreeTypeFont
    size: int
    lines: tuple[str, ...]


def _fit(
    pen: ImageDraw.ImageDraw,
    text: str,
    bold: bool,
    width: int,
    sizes: tuple[int, ...],
    most: int,
) -> _Fitted:
    """The text on at most `most` lines of `width`, at the largest size
    that holds it; at the smallest, the last line ends in an ellipsis."""
    lines: list[str] = []
    font = _font(bold, sizes[-1])
    for size in sizes:
        font = _font(bold, size)
        lines = _wrap(pen, text, font, width)
        if len(lines) <= most:
            return _Fitted(font, size, tuple(lines))
    kept = lines[: most - 1]
    last = " ".join(lines[most - 1 :])
    while last and pen.textlength(last + "…", font=font) > width:
        last = last[:-1]
    return _Fitted(font, sizes[-1], (*kept, last.rstrip() + "…"))


def _wrap(
    pen: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if pen.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while pen.textlength(word, font=font) > width:
            cut = len(word)
            while cut > 1 and pen.textlength(word[:cut], font=font) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def _height(fitted: _Fitted) -> int:
    return len(fitted.lines) * round(fitted.size * 1.22)


def _block(pen: ImageDraw.ImageDraw, fitted: _Fitted, side: int, top: int, colour) -> int:  # type: ignore[no-untyped-def]
    """Lines centred from `top` down; returns the bottom."""
    leading = round(fitted.size * 1.22)
    for number, line in enumerate(fitted.lines):
        pen.text(
            (side // 2, top + number * leading), line, font=fitted.font, fill=colour, anchor="ma"
        )
    return top + len(fitted.lines) * leading


def _centred(pen: ImageDraw.ImageDraw, fitted: _Fitted, side: int, middle: int, colour) -> None:  # type: ignore[no-untyped-def]
    leading = round(fitted.size * 1.22)
    _block(pen, fitted, side, middle - len(fitted.lines) * leading // 2, colour)


def _day(day: date, tr: Translator) -> str:
    return format_date(day, DAY_PATTERNS[tr.language], locale=tr.language)
