"""Credential downloads as a browser receives them from a real HTTP server:
the file is named after "Jörg Yılmaz", whose name is not Latin-1, so the
header must carry an ASCII fallback and the RFC 8187 name (Flask's test
client would not notice a raw UTF-8 header; a WSGI server refuses it).
The badge picture then goes back to /verify as an upload, multipart as a
browser sends it."""

from __future__ import annotations

import io
import uuid
from types import SimpleNamespace

import pytest
from PIL import Image

from app import credentials
from app.extensions import db
from app.models import Certificate, Cohort
from tests.real_server import fetch, served
from tests.web.test_certificate_downloads import logged_in
from tests.web.test_certificate_downloads import world as certificate_world


def world(app) -> SimpleNamespace:
    """The certificate downloads' world, with the credential signed for it."""
    made = certificate_world(app)
    with app.app_context():
        certificate = db.session.get(Certificate, made.certificate)
        credentials.issued(db.session.get(Cohort, made.cohort), [certificate])
        db.session.commit()
    return made


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "credential_downloads") as (app, base):
        yield world(app), base


def assert_named(answer, mimetype: str, suffix: str) -> None:
    assert answer.status == 200, answer.body[:500]
    assert answer.getheader("Content-Type").split(";")[0] == mimetype
    assert answer.getheader("Content-Disposition") == (
        f'attachment; filename="Zertifikat 00001 Joerg Yilmaz.{suffix}"; '
        f"filename*=UTF-8''Zertifikat%2000001%20J%C3%B6rg%20Y%C4%B1lmaz.{suffix}"
    )


def test_the_person_downloads_badge_jwt_and_json_named_after_them(server):
    ids, base = server
    own = f"{base}/p/{ids.token}/certificates/{ids.certificate}/credential"
    jwt = fetch(own + ".jwt?lang=de")
    assert_named(jwt, "text/plain", "jwt")
    assert jwt.body.count(b".") == 2
    document = fetch(own + ".json?lang=de")
    assert_named(document, "application/ld+json", "json")
    badge = fetch(own + ".png?lang=de")
    assert_named(badge, "image/png", "png")
    with Image.open(io.BytesIO(badge.body)) as image:
        assert image.text["openbadgecredential"] == jwt.body.decode("ascii")


def test_staff_download_the_badge_and_it_checks_as_valid_when_uploaded(server):
    ids, base = server
    headers = logged_in(base)
    badge = fetch(f"{base}/certificates/{ids.certificate}/credential.png?lang=de", headers=headers)
    assert_named(badge, "image/png", "png")

    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="credential"\r\n\r\n'
            f"\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="Zertifikat Jörg.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + badge.body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = fetch(
        f"{base}/verify",
        "POST",
        body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status == 200, answer.body[:500]
    page = answer.body.decode("utf-8")
    assert "Gültiger Nachweis" in page
    assert "Jörg Yılmaz" in page
