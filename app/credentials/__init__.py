"""Certificates as signed Open Badges 3.0 credentials (VC-JWT, EdDSA), with
a W3C Bitstring Status List for revocation.

The certificate service calls `issued`, `reissued` and `revoked` in the
same transaction as the change to the certificate; erasure calls `erased`.
The doors (downloads, /verify, the API) use `credential_of` and
`verify_credential`; app.views.issuers publishes the keys and the lists.

What the status list says:

- a revoked certificate: its bit is set at the moment it is revoked;
- a superseded one (re-issued with a corrected name): its bit is set too,
  as it is out of force for good; the Bitstring Status List has no purpose
  "superseded" ("suspension" would say it may come back, "message" needs
  verifiers to read our own codes). The new credential has the same `id`
  and `awardedDate` and a later `validFrom`, which is how Open Badges 3.0
  names the credential that replaces another, and `verify_credential` tells
  superseded from revoked;
- an erased person's: when the organisation keeps certificates after
  erasure, it stays in force (the certificate stays verifiable without a
  name, and the person keeps what they earned); when it does not, the
  certificate is deleted and its bit is set, because nothing is left that
  could confirm it. Either way the stored credential (it names the person)
  and the salt of their address are deleted.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from app.credentials import document, keys, signing, status
from app.extensions import db
from app.models import Certificate, CertificateState, Cohort, Organisation, Participant
from app.models.certificates import serial_label
from app.models.credentials import CredentialRecord, SigningKey
from curricula.messages import Message, msg

STATES = ("valid", "revoked", "superseded", "tampered", "unknown_issuer", "not_a_credential")
ENVELOPED = "data:application/vc+jwt,"


@dataclass(frozen=True)
class IssuedCredential:
    jwt: str  # the VC-JWT, a compact JWS
    document: dict[str, Any]  # the OpenBadgeCredential as signed
    filename_stem: str  # ASCII, e.g. "lernbegleitung-2026-00042"


@dataclass(frozen=True)
class Verdict:
    state: str  # one of STATES
    certificate: Certificate | None
    issuer_name: str | None
    message: Message


# Issuing, in the certificate service's transaction.


def issued(cohort: Cohort, certificates: list[Certificate]) -> int:
    """A signed credential for each certificate just issued for `cohort`; how many."""
    if not certificates:
        return 0
    version = cohort.version
    return _sign_all(
        cohort.organisation_id, certificates, version.model, version.curriculum.key, None
    )


def reissued(old: Certificate, new: Certificate) -> None:
    """The credential of a re-issued certificate; the old one's bit is set."""
    before = _record_of(old.id)
    if before is not None and before.revoked_at is None:
        before.revoked_at = datetime.now(UTC)
    cohort = new.cohort
    curriculum = cohort.version.model if cohort is not None else None
    key = cohort.version.curriculum.key if cohort is not None else None
    _sign_all(new.organisation_id, [new], curriculum, key, before)


def revoked(certificate: Certificate) -> None:
    """Sets the certificate's bit in its issuer's revocation list."""
    record = _record_of(certificate.id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = datetime.now(UTC)
        db.session.flush()


def issue_missing(organisation_id: int | None = None) -> tuple[int, int]:
    """Signed credentials for the certificates in force that have none
    (issued before Qualiplan signed credentials), cohort by cohort, of one
    organisation or all: how many were signed, and how many were left out
    because their cohort was deleted (the programme they name is unknown)
    or their person erased (there is nobody to name)."""
    query = (
        select(Certificate)
        .outerjoin(CredentialRecord, CredentialRecord.certificate_id == Certificate.id)
        .where(
            CredentialRecord.id.is_(None),
            Certificate.in_force,
        )
        .order_by(Certificate.cohort_id, Certificate.id)
    )
    if organisation_id is not None:
        query = query.where(Certificate.organisation_id == organisation_id)
    by_cohort: dict[int, list[Certificate]] = {}
    left_out = 0
    for certificate in db.session.scalars(query):
        if certificate.cohort_id is None or certificate.erased:
            left_out += 1
        else:
            by_cohort.setdefault(certificate.cohort_id, []).append(certificate)
    signed = 0
    for cohort_id, certificates in by_cohort.items():
        signed += issued(db.session.get(Cohort, cohort_id), certificates)
    return signed, left_out


def erased(certificates: list[Certificate], *, kept: bool) -> None:
    """The person is being erased: their stored credentials go (they name
    them); the bits stay as they were when the certificates are kept, and
    are set when the certificates are deleted."""
    ids = [c.id for c in certificates]
    if not ids:
        return
    now = datetime.now(UTC)
    for record in db.session.scalars(
        select(CredentialRecord).where(CredentialRecord.certificate_id.in_(ids))
    ):
        record.jwt = None
        record.subject_salt = None
        if not kept:
            record.certificate_id = None
            record.revoked_at = record.revoked_at or now
    db.session.flush()


def _sign_all(
    organisation_id: int,
    certificates: list[Certificate],
    curriculum: Any,
    curriculum_key: str | None,
    before: CredentialRecord | None,
) -> int:
    key = keys.current(organisation_id)
    private = keys.opened(key)
    kid = document.key_url(organisation_id, key.kid)
    first = status.take(organisation_id, len(certificates))
    by = document.issuer(db.session.get(Organisation, organisation_id))
    people = _people(certificates)
    previous = _payload(before.jwt) if before is not None and before.jwt else None
    awarded = _awarded(before, previous)
    achievements: dict[str, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for offset, certificate in enumerate(certificates):
        email, chosen = people.get(certificate.participant_id, ("", None))
        language = document.language_of(chosen)
        if curriculum is None and previous is not None:
            the_achievement = previous["credentialSubject"]["achievement"]
        else:
            if language not in achievements:
                achievements[language] = document.achievement(
                    certificate, curriculum, curriculum_key, language
                )
            the_achievement = achievements[language]
        salt = secrets.token_hex(16)
        credential_id = before.credential_id if before is not None else None
        body = document.credential(
            certificate,
            by=by,
            credential_id=credential_id or document.new_credential_id(),
            awarded=awarded or certificate.issued_at,
            index=first + offset,
            email=email,
            salt=salt,
            the_achievement=the_achievement,
            language=language,
        )
        records.append(
            {
                "organisation_id": organisation_id,
                "certificate_id": certificate.id,
                "key_id": key.id,
                "credential_id": body["id"],
                "status_index": first + offset,
                "jwt": signing.sign(document.claims(body), private, kid),
                "subject_salt": salt,
                "issued_at": now,
            }
        )
    # One statement for all, without reading anything back.
    db.session.execute(insert(CredentialRecord), records)
    return len(records)


def _people(certificates: list[Certificate]) -> dict[int, tuple[str, str | None]]:
    """Each person's address and language, read at once."""
    ids = [c.participant_id for c in certificates if c.participant_id is not None]
    return {
        row.id: (row.email, row.language)
        for row in db.session.execute(
            select(Participant.id, Participant.email, Participant.language).where(
                Participant.id.in_(ids)
            )
        )
    }


def _awarded(before: CredentialRecord | None, previous: dict[str, Any] | None) -> datetime | None:
    if previous is not None and isinstance(previous.get("awardedDate"), str):
        return datetime.fromisoformat(previous["awardedDate"].replace("Z", "+00:00"))
    if before is not None and before.certificate is not None:
        return before.certificate.issued_at
    return None


def _record_of(certificate_id: int) -> CredentialRecord | None:
    return db.session.scalar(
        select(CredentialRecord).where(CredentialRecord.certificate_id == certificate_id)
    )


def _payload(token: str) -> dict[str, Any]:
    """The payload of a JWS we signed and stored (no check: it is ours)."""
    import base64

    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))  # type: ignore[no-any-return]


# Reading, for the downloads.


def credential_of(certificate: Certificate) -> IssuedCredential | None:
    """The certificate's credential as issued, or None (issued before
    credentials existed, or the person was erased)."""
    record = _record_of(certificate.id)
    if record is None or record.jwt is None:
        return None
    return IssuedCredential(
        jwt=record.jwt,
        document=document.without_claims(_payload(record.jwt)),
        filename_stem=filename_stem(certificate),
    )


def filename_stem(certificate: Certificate) -> str:
    title = certificate.content.get("programme", {}).get("de", "") or "zertifikat"
    ascii_title = (
        unicodedata.normalize("NFKD", title.replace("ß", "ss"))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return (
        f"{slug or 'zertifikat'}-{certificate.issued_on.year}-{serial_label(certificate.serial)}"
    )


# Verifying, for /verify.


def verify_credential(text: str) -> Verdict:
    """What a pasted or uploaded credential is: a compact JWS, a JSON
    document ({"jwt": …}, an enveloped credential, a credential whose proof
    holds the JWS, or the credential as downloaded), or the text of a baked
    badge's iTXt chunk."""
    text = (text or "").strip()
    if text.startswith(ENVELOPED):
        text = text[len(ENVELOPED) :]
    if text.startswith("{"):
        return _verify_json(text)
    return _verify_jws(text)


def _verify_json(text: str) -> Verdict:
    try:
        found = json.loads(text)
    except ValueError:
        return _verdict("not_a_credential")
    if not isinstance(found, dict):
        return _verdict("not_a_credential")
    token = _embedded_jws(found)
    if token is not None:
        return _verify_jws(token)
    if "OpenBadgeCredential" not in _types(found) and "AchievementCredential" not in _types(found):
        return _verdict("not_a_credential")
    # The credential without its proof (as downloaded): ours only if it is
    # exactly what we signed and still keep.
    record = _record_by_status(found)
    if record is None:
        return _verdict("unknown_issuer")
    if record.jwt is None or document.without_claims(_payload(record.jwt)) != found:
        return _verdict("tampered")
    return _state_of(record)


def _embedded_jws(found: dict[str, Any]) -> str | None:
    if isinstance(found.get("jwt"), str):
        return str(found["jwt"])
    identifier = found.get("id")
    if isinstance(identifier, str) and identifier.startswith(ENVELOPED):
        return identifier[len(ENVELOPED) :]
    proof = found.get("proof")
    for item in proof if isinstance(proof, list) else [proof]:
        if isinstance(item, dict):
            for field in ("jwt", "jws", "proofValue"):
                value = item.get(field)
                if isinstance(value, str) and value.count(".") == 2:
                    return value
    return None


def _types(found: dict[str, Any]) -> list[str]:
    kind = found.get("type")
    return [kind] if isinstance(kind, str) else [k for k in kind or [] if isinstance(k, str)]


def _record_by_status(found: dict[str, Any]) -> CredentialRecord | None:
    entry = found.get("credentialStatus")
    issuer = found.get("issuer")
    issuer_url = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(entry, dict) or not isinstance(issuer_url, str):
        return None
    list_url = entry.get("statusListCredential")
    try:
        number_entry = int(str(entry.get("statusListIndex")))
    except ValueError:
        return None
    for record in db.session.scalars(
        select(CredentialRecord).where(
            CredentialRecord.credential_id == found.get("id"),
        )
    ):
        number, place = status.place(record.status_index)
        if (
            place == number_entry
            and document.status_list_url(record.organisation_id, number) == list_url
            and document.issuer_id(record.organisation_id) == issuer_url
        ):
            return record
    return None


def _verify_jws(token: str) -> Verdict:
    try:
        header = signing.header_of(token)
    except signing.NotAJws:
        return _verdict("not_a_credential")
    except signing.BadSignature:
        return _verdict("tampered")
    kid = header.get("kid")
    key = keys.by_kid(kid.rsplit("/", 1)[-1]) if isinstance(kid, str) and kid else None
    if key is None:
        return _verdict("unknown_issuer")
    try:
        payload = signing.verified(token, keys.public_key(key))
    except signing.BadSignature:
        return _verdict("tampered", issuer=key.organisation.name)
    if "BitstringStatusListCredential" in _types(payload):
        return _verdict("not_a_credential", issuer=key.organisation.name)
    record = _record_for(key, payload)
    if record is None:
        return _verdict("unknown_issuer")
    return _state_of(record)


def _record_for(key: SigningKey, payload: dict[str, Any]) -> CredentialRecord | None:
    """Our record of a credential the key signed: by its id and its entry
    (the list's address may have changed since, the entry has not)."""
    entry = payload.get("credentialStatus")
    if not isinstance(entry, dict):
        return None
    try:
        place = int(str(entry.get("statusListIndex")))
    except ValueError:
        return None
    return next(
        (
            record
            for record in db.session.scalars(
                select(CredentialRecord).where(
                    CredentialRecord.organisation_id == key.organisation_id,
                    CredentialRecord.credential_id == payload.get("id"),
                )
            )
            if status.place(record.status_index)[1] == place
        ),
        None,
    )


def _state_of(record: CredentialRecord) -> Verdict:
    certificate = record.certificate
    issuer = db.session.get(Organisation, record.organisation_id)
    name = issuer.name if issuer is not None else None
    if record.revoked_at is None:
        return _verdict("valid", certificate, name)
    if certificate is not None and certificate.state is CertificateState.SUPERSEDED:
        return _verdict("superseded", certificate, name)
    return _verdict("revoked", certificate, name)


MESSAGES = {
    "valid": "Valid: {issuer} signed this credential, and it is in force.",
    "revoked": "Revoked: {issuer} signed this credential and has revoked it.",
    "superseded": (
        "Superseded: {issuer} signed this credential and has issued a corrected one in its place."
    ),
    "tampered": (
        "Tampered: this credential was changed after it was signed; its signature does not match."
    ),
    "unknown_issuer": (
        "Unknown issuer: this credential was not signed with a key published here."
    ),
    "not_a_credential": (
        "This is not a credential: paste the content of a .jwt or .json file, or upload a badge."
    ),
}


def _verdict(
    state: str,
    certificate: Certificate | None = None,
    issuer: str | None = None,
) -> Verdict:
    template = MESSAGES[state]
    message = msg(template, issuer=issuer) if "{issuer}" in template else msg(template)
    return Verdict(state, certificate, issuer, message)


# Publishing, for app.views.issuers.


def issuer_of(organisation_id: int) -> Organisation | None:
    """The organisation, if it has ever signed anything (else nothing is published)."""
    if keys.published(organisation_id):
        return db.session.get(Organisation, organisation_id)
    return None


def issuer_profile(organisation: Organisation) -> dict[str, Any]:
    return {"@context": [document.VC_CONTEXT, document.OB_CONTEXT]} | document.profile(
        organisation
    )


def jwks(organisation_id: int) -> dict[str, Any]:
    """Every public key of the organisation, the retired ones too."""
    return {
        "keys": [
            {**k.public_jwk, "kid": k.kid, "alg": signing.ALGORITHM, "use": "sig"}
            for k in keys.published(organisation_id)
        ]
    }


def public_jwk(organisation_id: int, kid: str) -> dict[str, Any] | None:
    key = keys.by_kid(kid)
    if key is None or key.organisation_id != organisation_id:
        return None
    return {**key.public_jwk, "kid": key.kid, "alg": signing.ALGORITHM, "use": "sig"}


def status_list_credential(
    organisation: Organisation, number: int, ttl_seconds: int
) -> str | None:
    """The organisation's revocation list `number`, signed now as a VC-JWT;
    None when it has no such list."""
    if number >= status.lists_in_use(organisation.id):
        return None
    key = keys.current(organisation.id)
    url = document.status_list_url(organisation.id, number)
    body = {
        "@context": [document.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": document.issuer_id(organisation.id),
        "validFrom": document.moment(datetime.now(UTC)),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status.PURPOSE,
            "encodedList": status.encoded(status.revoked_entries(organisation.id, number)),
            "ttl": ttl_seconds * 1000,
        },
    }
    return signing.sign(
        document.claims(body),
        keys.opened(key),
        document.key_url(organisation.id, key.kid),
    )
