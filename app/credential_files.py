"""Credential files as the doors send and take them: the signed credential
of one certificate as `.json`, `.jwt` or baked `.png` (for staff, for the
person's own page and for the API), and what an upload or a pasted text
on /verify holds.

A credential is handed out only while its certificate is in force. For a
revoked or superseded certificate the download answers 410 Gone and says
why (as /verify answers 410 for a revoked code): a fresh copy of a
withdrawn credential would only travel further; copies handed out before
stay checkable, and the status list marks them revoked.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date

from flask import Response, abort, render_template

from app import credentials
from app.certificate_files import name_part, pdf_language
from app.downloads import file_response
from app.exports.badge_png import BadgeFacts, baked_credential, render_badge
from app.i18n import Translator
from app.models import Certificate, CertificateState
from app.services import certificates as service
from app.services.png_chunks import SIGNATURE, BrokenPng

FORMATS = ("json", "jwt", "png")
# The OB 3.0 document formats: the JSON credential, the compact JWS as text.
MIMETYPES = {"json": "application/ld+json", "jwt": "text/plain", "png": "image/png"}
# What a pasted text or an uploaded file may hold: a badge picture with its
# credential is rarely above a few hundred kilobytes.
UPLOAD_LIMIT = 2 * 1024 * 1024
TEXT_LIMIT = 256 * 1024


def credential_download(certificate: Certificate, fmt: str) -> Response:
    """The certificate's credential in `fmt`; 410 when the certificate is out
    of force, 404 when it has no credential (or `fmt` is none of ours)."""
    if fmt not in FORMATS:
        abort(404)
    if certificate.state is not CertificateState.VALID or certificate.erased:
        gone = render_template("credentials/gone.html", certificate=certificate)
        abort(Response(gone, status=410, headers={"Cache-Control": "no-store"}))
    issued = credentials.credential_of(certificate)
    if issued is None:
        missing = render_template("credentials/missing.html")
        abort(Response(missing, status=404, headers={"Cache-Control": "no-store"}))
    tr = pdf_language()
    filename = file_name(certificate, tr, fmt)
    if fmt == "jwt":
        content = issued.jwt.encode("ascii")
    elif fmt == "json":
        content = json.dumps(issued.document, ensure_ascii=False, indent=2).encode("utf-8")
    else:
        content = render_badge(
            badge_facts(certificate, tr), issued.jwt, tr, filename=filename
        ).content
    response = file_response(content, MIMETYPES[fmt], filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def file_name(certificate: Certificate, tr: Translator, fmt: str) -> str:
    """Named like the PDF: "Zertifikat 00042 Jörg Yılmaz.png"."""
    serial = service.serial_label(certificate.serial)
    return f"{tr.gettext('Certificate')} {serial} {name_part(certificate.name)}.{fmt}"


def badge_facts(certificate: Certificate, tr: Translator) -> BadgeFacts:
    content = certificate.content
    return BadgeFacts(
        name=certificate.name,
        programme=content["programme"][tr.language],
        issuer=content["issuer"],
        issued_on=certificate.issued_on,
        serial=service.serial_label(certificate.serial),
        logo_png=certificate.organisation.logo_png,
    )


# What /verify is given.


@dataclass(frozen=True)
class Unreadable(Exception):
    """The input holds no text to check; `reason` says why, for the page."""

    reason: str  # too_large, empty, no_badge, broken_image, not_text


def credential_text(data: bytes) -> str:
    """The credential an upload or a pasted text holds: the text itself, or
    what a PNG has baked in. Unreadable when there is nothing to check."""
    if len(data) > UPLOAD_LIMIT:
        raise Unreadable("too_large")
    if data.startswith(SIGNATURE):
        try:
            baked = baked_credential(data, limit=TEXT_LIMIT)
        except BrokenPng:
            raise Unreadable("broken_image") from None
        if baked is None:
            raise Unreadable("no_badge")
        text = baked
    else:
        if len(data) > TEXT_LIMIT:
            raise Unreadable("too_large")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Unreadable("not_text") from None
        if "\0" in text:
            raise Unreadable("not_text")
    text = text.strip()
    if not text:
        raise Unreadable("empty")
    return text


@dataclass(frozen=True)
class Stated:
    """What a credential says about itself, unconfirmed: for the verdicts
    that cannot vouch for it (changed, unknown issuer)."""

    name: str
    programme: str
    issuer: str
    valid_from: date | None


def stated(text: str) -> Stated | None:
    """The claims of a compact JWS's payload or of a JSON credential, read
    without checking anything; None when the text holds no credential."""
    document: object = None
    try:
        if text.startswith("{"):
            document = json.loads(text)
            if isinstance(document, dict) and isinstance(document.get("jwt"), str):
                text = document["jwt"]
                document = None
        if document is None:
            parts = text.split(".")
            if len(parts) != 3:
                return None
            payload = parts[1] + "=" * (-len(parts[1]) % 4)
            document = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("vc"), dict):
        document = document["vc"]  # the VC-JWT shape of data model 1.1
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        return None
    names = [
        i.get("identityHash")
        for i in subject.get("identifier") or []
        if isinstance(i, dict) and i.get("identityType") == "name" and not i.get("hashed")
    ]
    achievement = subject.get("achievement")
    issuer = document.get("issuer")
    return Stated(
        name=_text(names[0] if names else subject.get("name")),
        programme=_text(achievement.get("name") if isinstance(achievement, dict) else None),
        issuer=_text(issuer.get("name") if isinstance(issuer, dict) else issuer),
        valid_from=_day(document.get("validFrom") or document.get("issuanceDate")),
    )


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: object) -> str:
    """A claim as one line of at most 200 characters, or "" for anything else."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:200]
