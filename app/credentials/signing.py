"""VC-JWT: a credential as the payload of a compact JWS, signed with EdDSA.

The algorithm is named "EdDSA" (RFC 8037), the name Open Badges 3.0 and
VC-JOSE-COSE verifiers know; RFC 9864's "Ed25519" is the same signature
and is accepted when reading. joserfc warns about the older name; the
warning is silenced here only, for these two calls.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "EdDSA"
ACCEPTED = ["EdDSA", "Ed25519"]


class BadSignature(Exception):
    """The text is a JWS, but not one this key signed as it stands."""


class NotAJws(Exception):
    """The text is not a compact JWS at all."""


def sign(claims: dict[str, Any], key: OKPKey, kid: str) -> str:
    header = {"alg": ALGORITHM, "typ": "vc+jwt", "cty": "vc", "kid": kid}
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*EdDSA.*")
        return jws.serialize_compact(header, payload.encode("utf-8"), key, algorithms=[ALGORITHM])


def header_of(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, read strictly: three segments of
    canonical base64url (a letter changed where only padding bits sit would
    otherwise decode to the same bytes and pass)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise NotAJws()
    for part in parts:
        if _b64encode(_b64decode(part)) != part:
            raise BadSignature()
    try:
        header = json.loads(_b64decode(parts[0]))
    except (UnicodeDecodeError, ValueError):
        raise BadSignature() from None
    if not isinstance(header, dict):
        raise BadSignature()
    return header


def verified(token: str, key: OKPKey) -> dict[str, Any]:
    """The payload of `token` when `key` signed it, else BadSignature."""
    header = header_of(token)
    if header.get("alg") not in ACCEPTED:
        raise BadSignature()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*EdDSA.*")
            found = jws.deserialize_compact(token, key, algorithms=ACCEPTED)
        payload = json.loads(found.payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise BadSignature() from None
    if not isinstance(payload, dict):
        raise BadSignature()
    return payload


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise NotAJws() from None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
