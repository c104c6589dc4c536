"""The organisations' Ed25519 signing keys: made on first use, stored
encrypted, rotated on request, published for good.

A private key is kept only as AES-256-GCM ciphertext, under a key derived
(HKDF-SHA256) from QUALIPLAN_CREDENTIAL_KEY, with the key id and the
organisation as associated data (a ciphertext moved to another row does not
open). Without the setting, `make run` uses a random secret in the instance
folder, as it does for SECRET_KEY; production refuses to sign without it.
The key id is the RFC 7638 thumbprint of the public key.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.credentials import SigningKey
from app.services.errors import DomainError, StaleEdit
from curricula.messages import msg

KEY_FILE = "credential_key"
NONCE_BYTES = 12


class CredentialKeyMissing(DomainError):
    """Production without QUALIPLAN_CREDENTIAL_KEY: nothing is signed."""

    code = "credential_key_missing"


class CredentialKeyWrong(DomainError):
    """The stored keys do not open with the configured secret."""

    code = "credential_key_wrong"


def _secret() -> bytes:
    configured = current_app.config.get("CREDENTIAL_KEY", "")
    if configured:
        return configured.encode("utf-8")
    if current_app.config.get("PRODUCTION"):
        current_app.logger.error(
            "QUALIPLAN_CREDENTIAL_KEY is not set: production signs no credentials without it "
            "(every process needs the same long random text; it encrypts the signing keys)."
        )
        raise CredentialKeyMissing(
            msg(
                "Certificates cannot be issued yet: the server has no key to sign their "
                "credentials with, which whoever runs it sets up; no certificate was issued."
            )
        )
    return _instance_secret(Path(current_app.instance_path))


def _instance_secret(folder: Path) -> bytes:
    """A secret in the instance folder, so `make run` needs no set-up."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _cipher() -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"qualiplan credential keys"
    ).derive(_secret())
    return AESGCM(derived)


def _associated(organisation_id: int, kid: str) -> bytes:
    return f"{organisation_id}:{kid}".encode("ascii")


def sealed(raw_private: bytes, organisation_id: int, kid: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + _cipher().encrypt(nonce, raw_private, _associated(organisation_id, kid))


def opened(key: SigningKey) -> OKPKey:
    """The private key of `key`, in memory only."""
    blob = key.private_key
    try:
        raw = _cipher().decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated(key.organisation_id, key.kid)
        )
    except InvalidTag:
        current_app.logger.error(
            "QUALIPLAN_CREDENTIAL_KEY does not open the stored signing keys: it is not the "
            "secret they were stored with."
        )
        raise CredentialKeyWrong(
            msg(
                "Certificates cannot be issued: the server's key does not open the stored "
                "signing keys, which whoever runs it must put right; no certificate was issued."
            )
        ) from None
    return OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(raw))


def public_key(key: SigningKey) -> OKPKey:
    return OKPKey.import_key(key.public_jwk)


def current(organisation_id: int) -> SigningKey:
    """The organisation's signing key, made now if it has none."""
    found = db.session.scalar(
        select(SigningKey).where(
            SigningKey.organisation_id == organisation_id, SigningKey.retired_at.is_(None)
        )
    )
    return found if found is not None else _new(organisation_id)


def rotate(organisation_id: int) -> SigningKey:
    """A new current key; the old one stays published and verifies what it signed."""
    now = datetime.now(UTC)
    for old in db.session.scalars(
        select(SigningKey).where(
            SigningKey.organisation_id == organisation_id, SigningKey.retired_at.is_(None)
        )
    ):
        old.retired_at = now
    db.session.flush()
    return _new(organisation_id)


def _new(organisation_id: int) -> SigningKey:
    _secret()  # refuses before anything is made
    generated = OKPKey.generate_key("Ed25519")
    public: dict[str, Any] = dict(generated.as_dict(private=False))
    kid = generated.thumbprint()
    raw = generated.private_key.private_bytes_raw()  # type: ignore[union-attr]
    key = SigningKey(
        organisation_id=organisation_id,
        kid=kid,
        public_jwk={"kty": public["kty"], "crv": public["crv"], "x": public["x"]},
        private_key=sealed(raw, organisation_id, kid),
    )
    db.session.add(key)
    try:
        db.session.flush()
    except IntegrityError as error:
        # Another request made the organisation's first key at the same moment.
        raise StaleEdit(
            msg("Someone else issued certificates just now; nothing was issued.")
        ) from error
    return key


def published(organisation_id: int) -> list[SigningKey]:
    """Every key the organisation ever had, the current one first."""
    return list(
        db.session.scalars(
            select(SigningKey)
            .where(SigningKey.organisation_id == organisation_id)
            .order_by(SigningKey.retired_at.is_not(None), SigningKey.id.desc())
        )
    )


def by_kid(kid: str) -> SigningKey | None:
    return db.session.scalar(select(SigningKey).where(SigningKey.kid == kid))
