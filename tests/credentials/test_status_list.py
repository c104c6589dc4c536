"""The issuer's revocation list, as a verifier elsewhere reads it: signed,
16 KB of bits, and the bit of a revoked, superseded or deleted certificate
set from the moment the change is saved."""

from __future__ import annotations

import gzip

from jwcrypto import jws
from sqlalchemy import select

from app import credentials
from app.credentials import status
from app.models import Certificate
from app.services import certificates
from app.services.policy import Actor
from tests.credentials.conftest import credential, header_of, published_keys
from tests.web.helpers import log_in, post_form


def status_bits(client, entry: dict) -> bytes:
    """The bitstring the entry's list holds, checked with jwcrypto."""
    url = entry["statusListCredential"]
    path = "/" + url.split("://", 1)[-1].split("/", 1)[1]
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    token = response.get_data(as_text=True)
    keys = published_keys(client, int(path.split("/")[2]))
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(keys.get_key(header_of(token)["kid"].rsplit("/", 1)[-1]), alg="EdDSA")
    import json

    listed = json.loads(checked.payload)
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["id"] == url
    subject = listed["credentialSubject"]
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    encoded = subject["encodedList"]
    assert encoded.startswith("u")  # multibase base64url, no padding
    assert "=" not in encoded
    import base64

    body = encoded[1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert len(bits) == 16 * 1024  # 131,072 entries
    return bits


def bit(bits: bytes, entry: dict) -> bool:
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_revoking_sets_the_bit_as_the_verify_page_answers_410(client, certified, make):
    _, admin, cohort, _, certificate = certified
    other = make.certificate(cohort, make.participant(cohort.organisation, cohort))
    mine = credential(certificate).document["credentialStatus"]
    theirs = credential(other).document["credentialStatus"]
    assert mine["statusListIndex"] != theirs["statusListIndex"]
    before = status_bits(client, mine)
    assert not bit(before, mine)
    assert not any(before)

    log_in(client, "admin@example.org")
    page = f"/certificates/{certificate.id}"
    token, other_token = credential(certificate).jwt, credential(other).jwt
    revoked = post_form(client, f"{page}/revoke", {"reason": "issued in error"}, form_url=page)
    assert revoked.status_code in (302, 303), revoked.get_data(as_text=True)
    assert client.get(f"/verify/{certificate.code}").status_code == 410
    after = status_bits(client, mine)
    assert bit(after, mine)
    assert not bit(after, theirs)
    assert sum(bin(byte).count("1") for byte in after) == 1
    assert credentials.verify_credential(token).state == "revoked"
    assert credentials.verify_credential(other_token).state == "valid"


def test_a_superseded_certificate_has_its_bit_set_and_verifies_as_superseded(client, certified):
    _, admin, _, _, certificate = certified
    old = credential(certificate)
    renewed = certificates.reissue_certificate(Actor.of_user(admin), certificate.id, "E. Jürgens")
    from app.extensions import db

    db.session.commit()
    new = credential(renewed)
    bits = status_bits(client, old.document["credentialStatus"])
    assert bit(bits, old.document["credentialStatus"])
    assert not bit(bits, new.document["credentialStatus"])
    assert credentials.verify_credential(old.jwt).state == "superseded"
    assert credentials.verify_credential(new.jwt).state == "valid"


def test_erasure_keeping_certificates_keeps_the_credential_in_force(client, db, certified):
    org, admin, _, person, certificate = certified
    token = credential(certificate).jwt
    entry = credential(certificate).document["credentialStatus"]
    assert org.keep_certificates_after_erasure
    certificate_id = certificate.id
    page = f"/participants/{person.id}"
    log_in(client, "admin@example.org")
    erased = post_form(client, f"{page}/erase", {"confirm": "Erika Jürgens"}, form_url=page)
    assert erased.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Certificate, certificate_id)
    assert kept.name == ""
    # What we stored of the credential named her: gone. Her copy still verifies.
    assert credentials.credential_of(kept) is None
    verdict = credentials.verify_credential(token)
    assert (verdict.state, verdict.certificate.id) == ("valid", certificate_id)
    assert not bit(status_bits(client, entry), entry)


def test_erasure_deleting_certificates_revokes_the_credential(client, db, certified):
    org, admin, _, person, certificate = certified
    org.keep_certificates_after_erasure = False
    db.session.commit()
    token = credential(certificate).jwt
    entry = credential(certificate).document["credentialStatus"]
    page = f"/participants/{person.id}"
    log_in(client, "admin@example.org")
    erased = post_form(client, f"{page}/erase", {"confirm": "Erika Jürgens"}, form_url=page)
    assert erased.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Certificate)) is None
    verdict = credentials.verify_credential(token)
    assert (verdict.state, verdict.certificate) == ("revoked", None)
    assert bit(status_bits(client, entry), entry)


def test_the_lists_of_an_organisation_that_never_signed_are_not_found(client, make):
    org = make.organisation("Ohne Nachweise")
    for path in ("", "/jwks.json", "/status/revocation", "/status/revocation?list=1", "/keys/x"):
        assert client.get(f"/issuers/{org.id}{path}").status_code == 404, path
    assert client.get("/issuers/999999/jwks.json").status_code == 404


def test_the_issuer_profile_is_public(client, certified):
    org = certified[0]
    response = client.get(f"/issuers/{org.id}")
    assert response.status_code == 200
    profile = response.get_json(force=True)
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Bildungswerk Süd"
    assert profile["id"].endswith(f"/issuers/{org.id}")
    for missing in ("1", "x", "-1", "٣", "9999999"):
        listed = client.get(f"/issuers/{org.id}/status/revocation?list={missing}")
        assert listed.status_code == 404, missing
    assert client.get(f"/issuers/{org.id}/status/revocation?list=0").status_code == 200


def test_the_list_places_entries_from_the_most_significant_bit():
    bits = status.decoded(status.encoded([0, 9, status.ENTRIES - 1]))
    assert len(bits) == status.ENTRIES // 8
    assert (bits[0], bits[1], bits[-1]) == (0x80, 0x40, 0x01)
    assert status.place(status.ENTRIES + 5) == (1, 5)


def test_a_second_list_has_its_own_address(app):
    from app.credentials import document

    with app.test_request_context():
        assert document.status_list_url(3, 0).endswith("/issuers/3/status/revocation")
        assert document.status_list_url(3, 2).endswith("/issuers/3/status/revocation?list=2")
