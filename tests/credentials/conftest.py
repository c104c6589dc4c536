"""A certificate with its credential, and a verifier that is not ours: the
issuer's keys fetched from its public address and checked with jwcrypto
(the credentials are signed with joserfc)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema_rs
import pytest
from jwcrypto import jwk, jws

from app import credentials
from app.models import Role

SCHEMA = Path(__file__).parent / "schema" / "ob_v3p0_achievementcredential_schema.json"


@pytest.fixture
def certified(make):
    """An organisation with a logo, and Erika's certificate of the compact programme."""
    org = make.organisation("Bildungswerk Süd")
    org.logo_png = _tiny_png()
    admin = make.user(Role.ADMIN, [org], email="admin@example.org")
    cohort = make.cohort(org, name="Frühjahr")
    person = make.participant(
        org, cohort, first_name="Erika", last_name="Jürgens", email="Erika.Juergens@example.org"
    )
    certificate = make.certificate(cohort, person)
    return org, admin, cohort, person, certificate


def schema_validator():
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))


def payload_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def header_of(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def published_keys(client, organisation_id: int) -> jwk.JWKSet:
    """The issuer's JWKS, as a verifier elsewhere fetches it."""
    response = client.get(f"/issuers/{organisation_id}/jwks.json")
    assert response.status_code == 200
    return jwk.JWKSet.from_json(response.get_data(as_text=True))


def verified_elsewhere(client, token: str) -> dict:
    """The payload, verified with jwcrypto against the key the header's kid
    names, fetched from the issuer's public address."""
    kid = header_of(token)["kid"]
    path = kid.split("://", 1)[-1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 200, kid
    key = jwk.JWK.from_json(response.get_data(as_text=True))
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(key, alg="EdDSA")
    return json.loads(checked.payload)


def credential(certificate) -> credentials.IssuedCredential:
    found = credentials.credential_of(certificate)
    assert found is not None
    return found


def _tiny_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (2, 2), (20, 60, 120)).save(buffer, format="PNG")
    return buffer.getvalue()
