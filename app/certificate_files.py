"""Certificate files as the doors send them: the PDF of one certificate (for
staff and for the person's own page), its file name and the verification
address it prints. Shared by the certificate pages and the personal page."""

from __future__ import annotations

import unicodedata

from flask import Response, request

from app.downloads import file_response
from app.exports.certificate_pdf import PrintedCertificate, render_certificate
from app.i18n import Translator, translator
from app.models import Certificate
from app.public_url import external_url
from app.services import certificates as service


def pdf_language() -> Translator:
    """HR prints in the language a link asks for (`?lang=en`), else the page's."""
    wanted = request.args.get("lang", "")
    return Translator(wanted) if wanted in ("de", "en") else translator()


def verify_url(certificate: Certificate) -> str:
    """The address printed under the QR code: the public one when it is set,
    since the request may have come through an internal host name."""
    return external_url("certificates.verify", code=certificate.code)


def printed(certificate: Certificate, tr: Translator) -> PrintedCertificate:
    return service.printed(certificate, tr.language, verify_url(certificate))


def certificate_download(certificate: Certificate) -> Response:
    """The PDF of one certificate, in the language the link asks for (also
    for the person's own page, which checks its link itself)."""
    tr = pdf_language()
    rendered = render_certificate(
        printed(certificate, tr),
        tr,
        logo_png=certificate.organisation.logo_png,
        filename=file_name(certificate, tr),
    )
    return file_response(rendered.content, rendered.mimetype, rendered.filename)


def file_name(certificate: Certificate, tr: Translator) -> str:
    serial = service.serial_label(certificate.serial)
    return f"{tr.gettext('Certificate')} {serial} {name_part(certificate.name)}.pdf"


def name_part(text: str) -> str:
    """A file name part: letters of any script, digits, spaces and dashes."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c if c.isalnum() or c in " -" else "_" for c in text)
    return " ".join(kept.split())[:80]
