"""The credential of a certificate: what it says, that it conforms to the
Open Badges 3.0 schema, and that a verifier elsewhere accepts its signature
and nothing changed in it."""

from __future__ import annotations

import base64
import hashlib
import json

from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from app import credentials
from app.credentials import document
from app.services import certificates
from app.services.policy import Actor
from tests.credentials.conftest import (
    credential,
    header_of,
    published_keys,
    schema_validator,
    verified_elsewhere,
)


def test_the_credential_says_what_the_certificate_says_and_conforms_to_the_schema(
    client, certified
):
    org, _, cohort, person, certificate = certified
    issued = credential(certificate)
    body = issued.document

    errors = [error.message for error in schema_validator().iter_errors(body)]
    assert errors == []
    assert body["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert body["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert body["id"].startswith("urn:uuid:")
    assert body["validFrom"] == document.moment(certificate.issued_at)

    issuer = body["issuer"]
    assert issuer["id"].endswith(f"/issuers/{org.id}")
    assert issuer["name"] == "Bildungswerk Süd"
    assert issuer["image"]["id"].startswith("data:image/png;base64,")

    subject = body["credentialSubject"]
    name, email = subject["identifier"]
    assert (name["identityType"], name["hashed"], name["identityHash"]) == (
        "name",
        False,
        "Erika Jürgens",
    )
    assert email["identityType"] == "emailAddress"
    assert email["hashed"] is True
    digest = hashlib.sha256(("erika.juergens@example.org" + email["salt"]).encode()).hexdigest()
    assert email["identityHash"] == f"sha256${digest}"
    assert "example.org" not in issued.jwt
    assert "example.org" not in str(body)

    achievement = subject["achievement"]
    content = certificate.content
    assert achievement["name"] == content["programme"]["de"]
    assert achievement["version"] == str(content["version"])
    assert achievement["achievementType"] == "Certificate"
    assert "Unterrichtseinheiten" in achievement["description"]
    assert achievement["tag"] == list(dict.fromkeys(t["de"] for t in content["topics"]))
    rule = cohort.version.model.certificate
    titles = [cohort.version.model.element(k).title.de for k in rule.required]
    assert achievement["criteria"]["narrative"] == "Pflicht: " + ", ".join(titles)

    evidence = body["evidence"][0]
    assert evidence["id"].endswith(f"/verify/{certificate.code}")
    assert certificates.serial_label(certificate.serial) in evidence["name"]
    assert certificates.grouped(certificate.code) in evidence["description"]

    status = body["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListCredential"].endswith(f"/issuers/{org.id}/status/revocation")
    assert issued.filename_stem.isascii()
    assert issued.filename_stem.endswith(
        f"-{certificate.issued_on.year}-{certificates.serial_label(certificate.serial)}"
    )


def test_the_jwt_verifies_with_another_jose_library_against_the_published_key(client, certified):
    _, _, _, _, certificate = certified
    issued = credential(certificate)
    header = header_of(issued.jwt)
    assert (header["alg"], header["typ"]) == ("EdDSA", "vc+jwt")

    payload = verified_elsewhere(client, issued.jwt)
    assert {k: v for k, v in payload.items() if k not in document.CLAIMS} == issued.document
    assert payload["iss"] == issued.document["issuer"]["id"]
    assert payload["jti"] == issued.document["id"]
    assert payload["nbf"] == int(certificate.issued_at.timestamp())

    # The JWKS holds the same key under the same kid.
    keys = published_keys(client, certificate.organisation_id)
    kid = header["kid"].rsplit("/", 1)[-1]
    checked = jws.JWS()
    checked.deserialize(issued.jwt)
    checked.verify(keys.get_key(kid), alg="EdDSA")

    verdict = credentials.verify_credential(issued.jwt)
    assert (verdict.state, verdict.certificate.id, verdict.issuer_name) == (
        "valid",
        certificate.id,
        "Bildungswerk Süd",
    )


def test_a_changed_byte_anywhere_fails(client, certified):
    _, _, _, _, certificate = certified
    token = credential(certificate).jwt
    key = jwk.JWK.from_json(
        client.get("/" + header_of(token)["kid"].split("://", 1)[-1].split("/", 1)[1]).data
    )
    body = token.split(".")[1]
    original = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    step = max(1, len(token) // 400)  # a few hundred places, header to signature
    positions = sorted({*range(0, len(token), step), len(token) - 1, token.index(".") - 1})
    for position in positions:
        if token[position] == ".":
            continue
        changed = alphabet[(alphabet.index(token[position]) + 1) % len(alphabet)]
        tampered = token[:position] + changed + token[position + 1 :]
        verdict = credentials.verify_credential(tampered)
        assert verdict.state in {"tampered", "unknown_issuer"}, (position, verdict.state)
        if position > token.index("."):
            assert verdict.state == "tampered", position
        other = jws.JWS()
        try:
            other.deserialize(tampered)
            other.verify(key, alg="EdDSA")
        except JWException:
            continue
        # jwcrypto reads a letter where only padding bits sit as the same
        # bytes: nothing in the content changed, and ours refuses it anyway.
        assert other.objects["payload"] == original, position


def test_the_documents_h8_may_hand_over_all_verify(certified):
    _, _, _, _, certificate = certified
    issued = credential(certificate)
    forms = [
        issued.jwt,
        f"  {issued.jwt}\n",
        "data:application/vc+jwt," + issued.jwt,
        json.dumps({"jwt": issued.jwt}),
        json.dumps({**issued.document, "proof": {"type": "JwtProof2020", "jwt": issued.jwt}}),
        json.dumps(issued.document),
    ]
    assert [credentials.verify_credential(text).state for text in forms] == ["valid"] * len(forms)

    changed = {**issued.document, "name": "Etwas anderes"}
    assert credentials.verify_credential(json.dumps(changed)).state == "tampered"
    assert credentials.verify_credential("hello").state == "not_a_credential"
    assert credentials.verify_credential("").state == "not_a_credential"
    assert credentials.verify_credential("[1, 2]").state == "not_a_credential"
    assert credentials.verify_credential('{"type": "Other"}').state == "not_a_credential"


def test_a_credential_signed_by_a_key_not_published_here_has_an_unknown_issuer(certified):
    from joserfc.jwk import OKPKey

    from app.credentials import signing

    _, _, _, _, certificate = certified
    forged = signing.sign(
        document.claims(credential(certificate).document),
        OKPKey.generate_key("Ed25519"),
        "https://elsewhere.example/keys/abc",
    )
    verdict = credentials.verify_credential(forged)
    assert (verdict.state, verdict.certificate) == ("unknown_issuer", None)


def test_a_reissue_keeps_the_id_and_awarded_date_with_a_later_valid_from(client, certified):
    _, admin, _, _, certificate = certified
    first = credential(certificate)
    renewed = certificates.reissue_certificate(
        Actor.of_user(admin), certificate.id, "Erika Maria Jürgens"
    )
    second = credential(renewed)
    assert second.document["id"] == first.document["id"]
    assert second.document["awardedDate"] == first.document["awardedDate"]
    assert second.document["validFrom"] >= first.document["validFrom"]
    assert second.document["credentialSubject"]["identifier"][0]["identityHash"] == (
        "Erika Maria Jürgens"
    )
    assert (
        second.document["credentialStatus"]["statusListIndex"]
        != first.document["credentialStatus"]["statusListIndex"]
    )
    assert schema_validator().is_valid(second.document)
    assert credentials.verify_credential(second.jwt).state == "valid"
    old = credentials.verify_credential(first.jwt)
    assert (old.state, old.certificate.id) == ("superseded", certificate.id)
