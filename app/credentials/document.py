"""What an OpenBadgeCredential (Open Badges 3.0 on the W3C Verifiable
Credentials data model 2.0) of a certificate says, and the addresses it
points to.

- the achievement is the programme: its title, curriculum and version,
  teaching units, topics (as tags) and the certificate rule in words as the
  criteria;
- the subject is the person: the name as printed (an identifier of type
  "name"), and the e-mail address only as a salted SHA-256 hash;
- the issuer is the organisation: a profile at a stable address of ours,
  with its name and its logo (a data URL);
- `validFrom` is the moment of issue; a re-issue keeps the credential's `id`
  and `awardedDate` and has a later `validFrom` (how Open Badges 3.0 says
  "this replaces that");
- the certificate's serial and verification code are its evidence, with the
  verification page's address;
- `credentialStatus` is its entry in the issuer's revocation list.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.credentials import status
from app.exports.descriptions import certificate_rule
from app.i18n import Translator
from app.models import Certificate, Organisation
from app.models.certificates import serial_label
from app.public_url import external_url
from curricula.model import Curriculum

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
LANGUAGES = ("de", "en")
# The JWT claims VC-JOSE-COSE and Open Badges 3.0 add beside the credential.
CLAIMS = ("iss", "jti", "nbf", "sub")


def absolute(endpoint: str, **values: Any) -> str:
    """An address of ours that leaves the site (QUALIPLAN_PUBLIC_URL when set;
    on the command line without it, localhost)."""
    found = external_url(endpoint, **values)
    return found if "://" in found else "http://localhost" + found


def issuer_id(organisation_id: int) -> str:
    return absolute("issuers.profile", organisation_id=organisation_id)


def key_url(organisation_id: int, kid: str) -> str:
    return absolute("issuers.key", organisation_id=organisation_id, kid=kid)


def status_list_url(organisation_id: int, number: int) -> str:
    if number == 0:
        return absolute("issuers.status_list", organisation_id=organisation_id)
    return absolute("issuers.status_list", organisation_id=organisation_id, list=number)


def moment(at: datetime) -> str:
    """A date-time as the data model writes it: UTC, seconds, Z."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def profile(organisation: Organisation) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": issuer_id(organisation.id),
        "type": ["Profile"],
        "name": organisation.name,
        "url": issuer_id(organisation.id),
    }
    if organisation.logo_png:
        encoded = base64.b64encode(organisation.logo_png).decode("ascii")
        found["image"] = {
            "id": f"data:image/png;base64,{encoded}",
            "type": "Image",
            "caption": organisation.name,
        }
    return found


@dataclass
class Issuer:
    """The addresses and the profile of one issuer, worked out once for a
    batch of credentials."""

    organisation: Organisation
    id: str
    profile: dict[str, Any]
    verify_prefix: str
    lists: dict[int, str] = field(default_factory=dict)

    def list_url(self, number: int) -> str:
        if number not in self.lists:
            self.lists[number] = status_list_url(self.organisation.id, number)
        return self.lists[number]


def issuer(organisation: Organisation) -> Issuer:
    placeholder = "0" * 16
    verify = absolute("certificates.verify", code=placeholder)
    return Issuer(
        organisation=organisation,
        id=issuer_id(organisation.id),
        profile=profile(organisation),
        verify_prefix=verify.removesuffix(placeholder),
    )


def new_credential_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def hashed_email(email: str, salt: str) -> str:
    """Open Badges' IdentityHash: sha256 of the address and the salt, in hex."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def language_of(chosen: str | None) -> str:
    return chosen if chosen in LANGUAGES else "de"


def achievement(
    certificate: Certificate, curriculum: Curriculum | None, key: str | None, language: str
) -> dict[str, Any]:
    """The programme as an Achievement, from what the certificate froze and,
    when the cohort is still there, its curriculum (for the rule)."""
    tr = Translator(language)
    content = certificate.content
    programme = content["programme"][language]
    units = content.get("teaching_units")
    description = tr.gettext(
        "Curriculum: %(name)s, version %(number)d",
        name=content["curriculum"][language],
        number=content["version"],
    )
    if units is not None:
        description += ". " + tr.gettext(
            "%(units)s teaching units of %(minutes)d minutes count for the certificate.",
            units=tr.number(units),
            minutes=content.get("unit_minutes", 45),
        )
    rule = certificate_rule(curriculum, tr) if curriculum is not None else []
    narrative = "; ".join(rule) if rule else tr.gettext("Attendance as the programme requires.")
    identity = f"{issuer_id(certificate.organisation_id)}|{key or programme}|{content['version']}"
    found: dict[str, Any] = {
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": programme,
        "description": description,
        "criteria": {"narrative": narrative},
        "version": str(content["version"]),
        "inLanguage": language,
    }
    topics = [t[language] for t in content.get("topics", [])]
    if topics:
        found["tag"] = list(dict.fromkeys(topics))
    return found


def credential(
    certificate: Certificate,
    *,
    by: Issuer,
    credential_id: str,
    awarded: datetime,
    index: int,
    email: str,
    salt: str,
    the_achievement: dict[str, Any],
    language: str,
) -> dict[str, Any]:
    """The OpenBadgeCredential of `certificate` (without the JWT claims)."""
    tr = Translator(language)
    number, entry = status.place(index)
    list_url = by.list_url(number)
    identifiers: list[dict[str, Any]] = [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": certificate.name,
        }
    ]
    if email:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": hashed_email(email, salt),
                "salt": salt,
            }
        )
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": the_achievement,
    }
    days = [(e["first_day"], e["last_day"]) for e in certificate.content.get("elements", [])]
    if days:
        subject["activityStartDate"] = min(d[0] for d in days) + "T00:00:00Z"
        subject["activityEndDate"] = max(d[1] for d in days) + "T00:00:00Z"
    serial = serial_label(certificate.serial)
    verify_url = by.verify_prefix + certificate.code
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": the_achievement["name"],
        "description": tr.gettext("Certificate no. %(serial)s", serial=serial),
        "issuer": by.profile,
        "validFrom": moment(certificate.issued_at),
        "awardedDate": moment(awarded),
        "credentialSubject": subject,
        "evidence": [
            {
                "id": verify_url,
                "type": ["Evidence"],
                "name": tr.gettext("Certificate no. %(serial)s", serial=serial),
                "description": tr.gettext(
                    "Verification code %(code)s", code=_grouped(certificate.code)
                ),
                "genre": "Certificate",
            }
        ],
        "credentialStatus": {
            "id": f"{list_url}#{entry}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": status.PURPOSE,
            "statusListIndex": str(entry),
            "statusListCredential": list_url,
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def _grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def claims(document: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential and the claims that repeat it."""
    valid_from = datetime.fromisoformat(document["validFrom"].replace("Z", "+00:00"))
    issuer = document["issuer"]
    return {
        **document,
        "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
        "jti": document["id"],
        "nbf": int(valid_from.timestamp()),
    }


def without_claims(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in CLAIMS}
