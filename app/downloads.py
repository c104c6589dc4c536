"""File answers whose names carry people's names (RFC 6266 / RFC 8187).

A header holds only Latin-1, and WSGI servers refuse anything else (gunicorn
answers 500, the development server hangs). So a download is named twice: an
ASCII fallback in `filename=` for old clients, and the real name, UTF-8 and
percent-encoded, in `filename*=`, which every current browser prefers.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response

# Spelled out before accents are dropped, as Germans write them without umlauts.
_SPELLED = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "ı": "i",
        "İ": "I",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
    }
)
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,-]+")
_CONTROL_OR_SEPARATOR = re.compile(r'[\x00-\x1f\x7f/\\"]+')


def safe_name(filename: str) -> str:
    """The name without control characters, path separators and quotes."""
    cleaned = _CONTROL_OR_SEPARATOR.sub("_", unicodedata.normalize("NFC", filename)).strip()
    return cleaned or "download"


def ascii_fallback(filename: str) -> str:
    stem, dot, suffix = filename.rpartition(".")
    if not dot:
        stem, suffix = filename, ""
    plain_stem = _ascii(stem) or "download"
    return f"{plain_stem}.{_ascii(suffix)}" if suffix else plain_stem


def _ascii(text: str) -> str:
    spelled = unicodedata.normalize("NFC", text).translate(_SPELLED)
    plain = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("_", plain).strip(" _.")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    name = safe_name(filename)
    fallback = ascii_fallback(name)
    if fallback == name:
        return f'{disposition}; filename="{name}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(
    content: bytes, mimetype: str, filename: str, disposition: str = "attachment"
) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, disposition)
    return response
