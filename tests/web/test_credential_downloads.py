"""The signed credential of a certificate, downloaded where people get it:
HR from the certificate's page, the person from their personal page (by
its secret link), and an HR system through the API. Each answer is read
back: the .jwt verifies with jwcrypto (not the library that signed it)
against the key the issuer publishes, the .json is what it signs, and the
.png carries it baked in. Records of other organisations and of other
people are not found; a certificate out of force hands out no credential
(410)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from jwcrypto import jwk, jws
from PIL import Image

from app.extensions import db
from app.models import Certificate, Purpose, Role
from app.services import api_tokens, tokens
from app.services import certificates as service
from app.services.policy import Actor
from tests.web.helpers import log_in


@pytest.fixture
def world(make):
    org = make.organisation("Bildungswerk Süd")
    hr = make.user(Role.HR, [org], email="hr@sued.example")
    other = make.organisation("Fremde AG")
    make.user(Role.HR, [other], email="hr@fremde.example")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW", name="Kompakt Süd")
    person = make.participant(org, cohort=cohort, first_name="Jörg", last_name="Yılmaz")
    neighbour = make.participant(org, cohort=cohort, first_name="Nina", last_name="Nachbar")
    certificate = make.certificate(cohort, person, actor=hr)
    theirs = make.certificate(cohort, neighbour, actor=hr)
    token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    api_token = api_tokens.issue(hr, org.id)
    db.session.commit()
    return {
        "org": org.id,
        "hr": hr.id,
        "certificate": certificate.id,
        "theirs": theirs.id,
        "token": token,
        "api": api_token,
    }


def verified_payload(client, token: str, org_id: int) -> dict:
    """The JWT's payload, checked with jwcrypto against the issuer's JWKS."""
    keys = jwk.JWKSet.from_json(client.get(f"/issuers/{org_id}/jwks.json").get_data())
    signed = jws.JWS()
    signed.deserialize(token)
    kid = signed.jose_header["kid"].rsplit("/", 1)[-1]
    signed.verify(keys.get_key(kid), alg="EdDSA")
    return json.loads(signed.payload)


def test_hr_downloads_the_credential_as_jwt_json_and_baked_badge(client, world):
    log_in(client, "hr@sued.example")
    url = f"/certificates/{world['certificate']}/credential"

    jwt = client.get(url + ".jwt")
    assert jwt.status_code == 200
    assert jwt.mimetype == "text/plain"
    assert jwt.headers["Content-Disposition"] == (
        'attachment; filename="Zertifikat 00001 Joerg Yilmaz.jwt"; '
        "filename*=UTF-8''Zertifikat%2000001%20J%C3%B6rg%20Y%C4%B1lmaz.jwt"
    )
    token = jwt.get_data(as_text=True)
    payload = verified_payload(client, token, world["org"])
    assert "OpenBadgeCredential" in payload["type"]
    assert payload["issuer"]["name"] == "Bildungswerk Süd"

    document = client.get(url + ".json")
    assert document.status_code == 200
    assert document.mimetype == "application/ld+json"
    assert document.headers["Content-Disposition"].endswith(".json")
    credential = json.loads(document.get_data(as_text=True))
    assert credential == {
        k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf", "sub")
    }
    names = [i["identityHash"] for i in credential["credentialSubject"]["identifier"]]
    assert "Jörg Yılmaz" in names

    badge = client.get(url + ".png")
    assert badge.status_code == 200
    assert badge.mimetype == "image/png"
    assert badge.headers["Content-Disposition"].endswith(".png")
    with Image.open(io.BytesIO(badge.data)) as image:
        assert image.size == (600, 600)
        assert image.text["openbadgecredential"] == token


def test_the_certificate_page_offers_the_three_files(client, world):
    log_in(client, "hr@sued.example")
    page = client.get(f"/certificates/{world['certificate']}").get_data(as_text=True)
    for fmt in ("png", "jwt", "json"):
        assert f"/certificates/{world['certificate']}/credential.{fmt}" in page
    assert "digitaler Nachweis" in page


def test_staff_of_another_organisation_get_404(client, world):
    log_in(client, "hr@fremde.example")
    for fmt in ("png", "jwt", "json"):
        url = f"/certificates/{world['certificate']}/credential.{fmt}"
        assert client.get(url).status_code == 404


def test_an_unknown_format_or_certificate_is_not_found(client, world):
    log_in(client, "hr@sued.example")
    assert client.get(f"/certificates/{world['certificate']}/credential.pdf").status_code == 404
    assert client.get("/certificates/999999/credential.jwt").status_code == 404


def test_without_login_staff_downloads_ask_for_it(client, world):
    answer = client.get(f"/certificates/{world['certificate']}/credential.jwt")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]


def revoke(world):
    service.revoke_certificate(
        Actor.of_user(db.session.get_one(_user_model(), world["hr"])),
        world["certificate"],
        "Falsche Person",
    )
    db.session.commit()


def _user_model():
    from app.models import User

    return User


def test_a_revoked_certificate_hands_out_no_credential(client, world):
    revoke(world)
    log_in(client, "hr@sued.example")
    answer = client.get(f"/certificates/{world['certificate']}/credential.png")
    assert answer.status_code == 410
    text = answer.get_data(as_text=True)
    assert "widerrufen" in text
    assert "Content-Disposition" not in answer.headers
    page = client.get(f"/certificates/{world['certificate']}").get_data(as_text=True)
    assert "credential.png" not in page
    personal = client.get(
        f"/p/{world['token']}/certificates/{world['certificate']}/credential.jwt"
    )
    assert personal.status_code == 410


def test_a_superseded_certificate_points_to_the_new_one(client, world):
    hr = Actor.of_user(db.session.get_one(_user_model(), world["hr"]))
    new = service.reissue_certificate(hr, world["certificate"], "Jörg Yılmaz-Berg").id
    db.session.commit()
    log_in(client, "hr@sued.example")
    old = client.get(f"/certificates/{world['certificate']}/credential.jwt")
    assert old.status_code == 410
    assert "berichtigtes" in old.get_data(as_text=True)
    fresh = client.get(f"/certificates/{new}/credential.jwt")
    assert fresh.status_code == 200
    payload = verified_payload(client, fresh.get_data(as_text=True), world["org"])
    names = [i["identityHash"] for i in payload["credentialSubject"]["identifier"]]
    assert "Jörg Yılmaz-Berg" in names


def test_the_person_downloads_their_own_credential_from_their_page(client, world):
    token = world["token"]
    page = client.get(f"/p/{token}").get_data(as_text=True)
    own = f"/p/{token}/certificates/{world['certificate']}/credential"
    for fmt in ("png", "jwt", "json"):
        assert f"{own}.{fmt}" in page
    jwt = client.get(own + ".jwt")
    assert jwt.status_code == 200
    verified_payload(client, jwt.get_data(as_text=True), world["org"])
    badge = client.get(own + ".png?lang=en")
    assert badge.status_code == 200
    assert "Certificate%2000001" in badge.headers["Content-Disposition"]
    assert Image.open(io.BytesIO(badge.data)).text["openbadgecredential"] == jwt.get_data(
        as_text=True
    )


def test_the_personal_link_opens_only_its_own_credentials(client, world):
    token = world["token"]
    theirs = client.get(f"/p/{token}/certificates/{world['theirs']}/credential.jwt")
    assert theirs.status_code == 404
    wrong = client.get(f"/p/{'x' * 43}/certificates/{world['certificate']}/credential.jwt")
    assert wrong.status_code == 404


def test_a_certificate_issued_before_credentials_existed_says_so(client, world, make):
    certificate = db.session.get(Certificate, world["certificate"])
    old = Certificate(
        organisation_id=certificate.organisation_id,
        serial=99,
        code=service.new_code(),
        cohort_id=None,
        participant_id=certificate.participant_id,
        name=certificate.name,
        content=certificate.content,
        issued_on=date(2026, 1, 5),
    )
    db.session.add(old)
    db.session.commit()
    old_id = old.id
    log_in(client, "hr@sued.example")
    answer = client.get(f"/certificates/{old_id}/credential.png")
    assert answer.status_code == 404
    assert "vor" in answer.get_data(as_text=True)


# The API


def test_the_api_serves_the_credential(client, world):
    headers = {"Authorization": f"Bearer {world['api']}"}
    answer = client.get(f"/api/v1/certificates/{world['certificate']}/credential", headers=headers)
    assert answer.status_code == 200
    body = answer.json
    assert body["certificate_id"] == world["certificate"]
    payload = verified_payload(client, body["jwt"], world["org"])
    assert body["credential"]["id"] == payload["id"]
    assert body["credential"]["credentialSubject"] == payload["credentialSubject"]


def test_the_api_refuses_strangers_and_revoked_certificates(client, world, make, db):
    url = f"/api/v1/certificates/{world['certificate']}/credential"
    assert client.get(url).status_code == 401
    stranger = make.user(Role.ADMIN, [make.organisation("Dritte KG")])
    foreign = {
        "Authorization": f"Bearer {api_tokens.issue(stranger, stranger.organisations[0].id)}"
    }
    db.session.commit()
    assert client.get(url, headers=foreign).status_code == 404
    revoke(world)
    gone = client.get(url, headers={"Authorization": f"Bearer {world['api']}"})
    assert gone.status_code == 410
    assert gone.json["error"]["code"] == "gone"


def test_the_api_documents_the_operation(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/certificates/{certificate_id}/credential"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "404", "410"}
