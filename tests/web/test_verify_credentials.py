"""/verify takes a credential too: pasted as text or uploaded as .jwt, .json
or baked .png, it answers valid / revoked / superseded / tampered / unknown
issuer / not a credential in German, with what it found. Whatever else
comes in (too large, a picture without a credential, random bytes, text
that is not UTF-8, a NUL, "alg": "none") gets a sentence, never a server
error. The form carries a CSRF token and shares the code check's budget."""

from __future__ import annotations

import base64
import io
import json
import os
from datetime import date

import pytest
from jwcrypto import jwk, jws
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app import credentials, throttle
from app.extensions import db
from app.models import Certificate, Role, User
from app.services import certificates as service
from app.services.policy import Actor
from tests.web.helpers import csrf_token


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    throttle.reset(app)
    yield
    throttle.reset(app)


@pytest.fixture
def issued(make):
    org = make.organisation("Bildungswerk Süd")
    hr = make.user(Role.HR, [org], email="hr@sued.example")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW")
    person = make.participant(org, cohort=cohort, first_name="Jörg", last_name="Yılmaz")
    certificate = make.certificate(cohort, person, actor=hr)
    found = credentials.credential_of(certificate)
    return {
        "id": certificate.id,
        "hr": hr.id,
        "jwt": found.jwt,
        "document": found.document,
        "issued_on": certificate.issued_on.strftime("%d.%m.%Y"),
    }


def check(client, *, text: str | None = None, file: tuple[bytes, str] | None = None):
    """The form as a browser posts it, encoded in memory: the test client
    would spool a large body to a file it never closes."""
    data: dict = {"csrf_token": csrf_token(client, "/verify"), "credential": text or ""}
    if file is not None:
        data["file"] = FileStorage(io.BytesIO(file[0]), file[1])
    boundary, body = encode_multipart(data)
    return client.post(
        "/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def page(answer) -> str:
    return answer.get_data(as_text=True)


def segments(token: str) -> list[str]:
    return token.split(".")


def encoded(value: dict) -> str:
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decoded(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_the_page_offers_the_credential_form_with_a_csrf_token(client):
    text = page(client.get("/verify"))
    assert "Digitalen Nachweis prüfen" in text
    assert 'enctype="multipart/form-data"' in text
    assert 'name="credential"' in text
    assert 'type="file" name="file"' in text
    assert 'name="csrf_token"' in text


def assert_valid(answer, issued) -> None:
    text = page(answer)
    assert answer.status_code == 200, text
    assert "Gültiger Nachweis" in text
    assert "Jörg Yılmaz" in text
    assert "Bildungswerk Süd" in text
    assert issued["issued_on"] in text
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_pasted_jwt_is_valid_with_what_it_says(client, issued):
    assert_valid(check(client, text=issued["jwt"]), issued)
    # Copied from a mail or a chat: surrounding blanks and a line break.
    assert_valid(check(client, text=f"\n  {issued['jwt']}\r\n"), issued)


def test_uploaded_jwt_json_and_badge_files_are_valid(client, issued):
    assert_valid(check(client, file=(issued["jwt"].encode(), "nachweis.jwt")), issued)
    document = json.dumps(issued["document"], ensure_ascii=False, indent=2).encode()
    assert_valid(check(client, file=(document, "nachweis.json")), issued)
    log_in_as_hr(client)
    badge = client.get(f"/certificates/{issued['id']}/credential.png").data
    assert_valid(check(client, file=(badge, "badge.png")), issued)


def log_in_as_hr(client) -> None:
    from tests.web.helpers import log_in

    log_in(client, "hr@sued.example")


def hr_actor(issued) -> Actor:
    return Actor.of_user(db.session.get_one(User, issued["hr"]))


def test_a_revoked_credential_says_so_with_410(client, issued):
    service.revoke_certificate(hr_actor(issued), issued["id"], "Irrtum")
    db.session.commit()
    answer = check(client, text=issued["jwt"])
    assert answer.status_code == 410
    assert "Widerrufener Nachweis" in page(answer)
    assert "Jörg Yılmaz" in page(answer)


def test_a_superseded_credential_points_to_its_replacement(client, issued):
    service.reissue_certificate(hr_actor(issued), issued["id"], "Jörg Yılmaz-Berg")
    db.session.commit()
    answer = check(client, text=issued["jwt"])
    assert answer.status_code == 200
    assert "Ersetzter Nachweis" in page(answer)


def test_a_changed_credential_is_tampered_and_its_claims_are_marked_unconfirmed(client, issued):
    header, payload, signature = segments(issued["jwt"])
    claims = decoded(payload)
    claims["credentialSubject"]["identifier"][0]["identityHash"] = "<b>Mallory</b>"
    forged = f"{header}.{encoded(claims)}.{signature}"
    answer = check(client, text=forged)
    assert answer.status_code == 422
    text = page(answer)
    assert "Veränderter Nachweis" in text
    assert "nicht bestätigt" in text
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in text
    assert "<b>Mallory" not in text
    # One changed byte of the downloaded .json is caught too.
    document = json.dumps(issued["document"], ensure_ascii=False).replace("Yılmaz", "Yilmaz")
    changed = check(client, file=(document.encode(), "nachweis.json"))
    assert changed.status_code == 422
    assert "Veränderter Nachweis" in page(changed)


def test_a_credential_signed_elsewhere_has_an_unknown_issuer(client, issued):
    key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    claims = decoded(segments(issued["jwt"])[1])
    claims["issuer"] = {"id": "https://elsewhere.example/issuer", "name": "Andere Akademie"}
    signed = jws.JWS(json.dumps(claims).encode())
    header = {"alg": "EdDSA", "kid": "https://elsewhere.example/keys/1"}
    signed.add_signature(key, None, json.dumps(header))
    answer = check(client, text=signed.serialize(compact=True))
    assert answer.status_code == 422
    assert "Unbekannter Aussteller" in page(answer)
    assert "Andere Akademie" in page(answer)


def test_alg_none_is_never_valid(client, issued):
    _, payload, _ = segments(issued["jwt"])
    unsigned = f"{encoded({'alg': 'none', 'typ': 'vc+jwt'})}.{payload}."
    answer = check(client, text=unsigned)
    assert answer.status_code == 422
    assert "Gültiger Nachweis" not in page(answer)
    assert any(
        heading in page(answer)
        for heading in ("Veränderter Nachweis", "Kein Nachweis", "Unbekannter Aussteller")
    )


def test_text_that_is_no_credential_says_so(client, issued):
    for text in ("hallo", "{}", "[1, 2]", "a.b.c", '{"type": ["OpenBadgeCredential"]}'):
        answer = check(client, text=text)
        assert answer.status_code == 422, text
        assert any(h in page(answer) for h in ("Kein Nachweis", "Unbekannter Aussteller")), text


def png(**text: str) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 20, 30)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "status", "said"),
    [
        (os.urandom(5 * 1024 * 1024), "gross.png", 413, "zu groß"),
        (b"x" * (3 * 1024 * 1024), "gross.jwt", 413, "zu groß"),
        (png(), "leer.png", 400, "keine Open-Badges-Daten"),
        (png(Comment="hallo"), "andere.png", 400, "keine Open-Badges-Daten"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(300), "kaputt.png", 400, "beschädigt"),
        (os.urandom(2000), "zufall.bin", 400, "weder ein Nachweis"),
        (b"\xff\xfe\xfa not utf-8 \xc3\x28", "latin.jwt", 400, "weder ein Nachweis"),
        (b"ey\x00J", "nul.jwt", 400, "weder ein Nachweis"),
        (b"   \n", "leer.jwt", 400, "Bitte fügen Sie einen Nachweis ein"),
    ],
    ids=[
        "5 MB",
        "3 MB",
        "png without chunk",
        "png with other text",
        "broken png",
        "random bytes",
        "not utf-8",
        "nul",
        "blank",
    ],
)
def test_bad_files_get_a_sentence_not_an_error(client, content, name, status, said):
    answer = check(client, file=(content, name))
    assert answer.status_code == status
    assert said in page(answer)
    assert "Traceback" not in page(answer)
    # The form is there again, to try once more.
    assert 'name="credential"' in page(answer)


def test_a_badge_whose_credential_is_not_utf8_is_damaged(client):
    import struct
    import zlib

    data = png()
    body = b"openbadgecredential\0\0\0\0\0\xff\xfe"
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    answer = check(client, file=(data[:33] + chunk + data[33:], "badge.png"))
    assert answer.status_code == 400
    assert "beschädigt" in page(answer)


def test_nothing_pasted_nothing_chosen(client):
    answer = check(client, text="")
    assert answer.status_code == 400
    assert "Bitte fügen Sie einen Nachweis ein" in page(answer)


def test_a_nul_in_the_pasted_text_is_refused_on_the_page(client):
    answer = check(client, text="eyJ\x00abc")
    assert answer.status_code == 400
    assert "weder ein Nachweis" in page(answer)


def test_a_pasted_text_past_the_limit_is_refused(client):
    answer = check(client, text="e" * (300 * 1024))
    assert answer.status_code == 413
    assert "zu groß" in page(answer)


def test_without_the_csrf_token_nothing_is_checked(client, issued):
    answer = client.post("/verify", data={"credential": issued["jwt"]})
    assert answer.status_code == 400
    assert "Formular war abgelaufen" in page(answer)
    assert "Gültiger Nachweis" not in page(answer)


def test_checks_share_the_code_checks_budget(client, app, issued):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    token = csrf_token(client, "/verify")  # one request of the budget
    answers = [
        client.post("/verify", data={"csrf_token": token, "credential": "hallo"}).status_code
        for _ in range(limit)
    ]
    assert answers[: limit - 1] == [422] * (limit - 1)
    assert answers[-1] == 429
    assert client.get("/verify/" + "0" * 16).status_code == 429


def test_an_erased_persons_credential_is_checked_without_the_name(client, issued):
    certificate = db.session.get(Certificate, issued["id"])
    assert credentials.credential_of(certificate) is not None
    answer = check(client, text=issued["jwt"])
    assert answer.status_code == 200


def test_the_answer_speaks_english_when_asked(client, issued):
    client.get("/verify?lang=en")
    answer = check(client, text=issued["jwt"])
    assert "Valid credential" in page(answer)


def test_switching_the_language_shows_the_empty_form_without_an_error(client):
    text = page(client.get("/verify?lang=en"))
    assert "Check a digital credential" in text
    assert 'class="error"' not in text
