"""The signing keys: made on first use, never in the clear (not in any
column of any table, not in a GDPR export, not in a log line), rotated
without breaking what the earlier key signed, and refused in production
without the secret that encrypts them."""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto import jws
from sqlalchemy import select

from app import credentials
from app.credentials import keys
from app.credentials.keys import CredentialKeyMissing, CredentialKeyWrong
from app.models import Role, SigningKey
from app.services import certificates
from app.services.policy import Actor
from tests.credentials.conftest import credential, header_of, published_keys
from tests.web.helpers import log_in, post_form

COMMAND = str(Path(sys.executable).with_name("qualiplan"))


def private_forms(db) -> list[bytes]:
    """Every way a private key could be written down: raw, hex, base64 and
    base64url, the JWK's "d", PEM and DER."""
    forms: list[bytes] = []
    for stored in db.session.scalars(select(SigningKey)):
        key = keys.opened(stored)
        raw = key.private_key.private_bytes_raw()
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        der = key.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        d = key.as_dict(private=True)["d"]
        forms += [
            raw,
            raw.hex().encode(),
            base64.b64encode(raw),
            base64.urlsafe_b64encode(raw).rstrip(b"="),
            d.encode(),
            pem,
            b"".join(pem.splitlines()[1:-1]),
            der,
            base64.b64encode(der),
        ]
    return forms


def every_stored_value(db) -> list[tuple[str, bytes]]:
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for column, value in zip(table.columns, row, strict=True):
                if value is None:
                    continue
                data = (
                    bytes(value)
                    if isinstance(value, bytes | memoryview)
                    else json.dumps(value, default=str).encode()
                )
                found.append((f"{table.name}.{column.name}", data))
    return found


def test_no_private_key_in_the_clear_in_the_database_an_export_or_a_log(
    client, db, make, certified, caplog
):
    caplog.set_level(logging.DEBUG)
    org, admin, cohort, person, certificate = certified
    second = make.organisation("Zweite GmbH")
    elsewhere = make.cohort(second)
    make.certificate(elsewhere, make.participant(second, elsewhere))
    keys.rotate(org.id)
    make.certificate(cohort, make.participant(org, cohort))
    make.user(Role.HR, [org], email="hr@example.org")
    person_id, org_id, page = person.id, org.id, f"/certificates/{certificate.id}"
    db.session.commit()

    log_in(client, "hr@example.org")
    exported = client.get(f"/participants/{person_id}/export.json")
    assert exported.status_code == 200
    assert json.loads(exported.data)["certificates"][0]["credential"].count(".") == 2
    for path in ("/jwks.json", "/status/revocation", ""):
        assert client.get(f"/issuers/{org_id}{path}").status_code == 200
    staff = client.application.test_client()
    log_in(staff, "admin@example.org")
    revoked = post_form(staff, f"{page}/revoke", {"reason": "a test"}, form_url=page)
    assert revoked.status_code == 302

    forms = private_forms(db)
    assert len(forms) == 9 * 3  # three keys: two of the first organisation, one of the second
    stored = every_stored_value(db)
    assert {name for name, _ in stored} >= {"credential_keys.private_key", "credentials.jwt"}
    leaks = [(name, form[:8]) for name, data in stored for form in forms if form in data]
    assert leaks == []
    assert [form for form in forms if form in exported.data] == []
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert [form for form in forms if form.decode("latin-1") in logged] == []


def test_rotation_keeps_earlier_credentials_valid(client, db, make, certified):
    org, _, cohort, _, certificate = certified
    before = credential(certificate).jwt
    keys.rotate(org.id)
    later = make.certificate(cohort, make.participant(org, cohort))
    after = credential(later).jwt
    assert header_of(before)["kid"] != header_of(after)["kid"]

    published = published_keys(client, org.id)
    assert len(published["keys"]) == 2
    for token in (before, after):
        checked = jws.JWS()
        checked.deserialize(token)
        checked.verify(published.get_key(header_of(token)["kid"].rsplit("/", 1)[-1]), alg="EdDSA")
        assert credentials.verify_credential(token).state == "valid"
    current = db.session.scalars(
        select(SigningKey).where(
            SigningKey.retired_at.is_(None), SigningKey.organisation_id == org.id
        )
    ).all()
    assert [k.kid for k in current] == [header_of(after)["kid"].rsplit("/", 1)[-1]]


def test_production_refuses_to_issue_without_the_secret(app, make, monkeypatch, caplog):
    org = make.organisation()
    admin = make.user(Role.ADMIN, [org])
    cohort = make.cohort(org)
    person = make.participant(org, cohort)
    make.attended(cohort, person)
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    monkeypatch.setitem(app.config, "CREDENTIAL_KEY", "")
    with pytest.raises(CredentialKeyMissing) as refused:
        certificates.issue_certificate(Actor.of_user(admin), cohort.id, person.id)
    assert str(refused.value.message).startswith("Certificates cannot be issued yet")
    assert "no certificate was issued" in str(refused.value.message)
    # Whoever runs the server reads the setting's name in the log.
    assert "QUALIPLAN_CREDENTIAL_KEY is not set" in caplog.text


def test_another_secret_does_not_open_the_keys(app, certified, make, monkeypatch):
    org, admin, cohort, _, _ = certified
    person = make.participant(org, cohort)
    make.attended(cohort, person)
    monkeypatch.setitem(app.config, "CREDENTIAL_KEY", "another secret entirely, not the first")
    with pytest.raises(CredentialKeyWrong):
        certificates.issue_certificate(Actor.of_user(admin), cohort.id, person.id)


def test_without_the_setting_a_key_file_in_the_instance_folder_is_used(
    app, make, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "CREDENTIAL_KEY", "")
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    org = make.organisation()
    cohort = make.cohort(org)
    certificate = make.certificate(cohort, make.participant(org, cohort))
    secret = tmp_path / "instance" / "credential_key"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text()) >= 40
    assert credentials.verify_credential(credential(certificate).jwt).state == "valid"


def test_the_rotate_key_command(tmp_path):
    database = tmp_path / "qualiplan.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "test",
        "QUALIPLAN_CREDENTIAL_KEY": "a secret for this test only, long enough",
        "QUALIPLAN_LANGUAGE": "en",
    }
    env.pop("QUALIPLAN_DEBUG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COMMAND, *args], capture_output=True, text=True, env=env, check=False, timeout=120
        )

    assert run("db", "upgrade").returncode == 0
    assert run("organisations", "create", "Muster AG").returncode == 0
    first = run("credentials", "rotate-key", "--organisation", "Muster AG")
    assert first.returncode == 0, first.stderr
    assert "0 earlier keys stay published" in first.stdout
    second = run("credentials", "rotate-key", "--organisation", "Muster AG", "--lang", "de")
    assert second.returncode == 0, second.stderr
    assert "1 frühere Schlüssel bleiben veröffentlicht" in second.stdout
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT kid, retired_at IS NULL, private_key FROM credential_keys ORDER BY id"
        ).fetchall()
    assert [current for _, current, _ in rows] == [0, 1]
    assert rows[1][0] in second.stdout
    unknown = run("credentials", "rotate-key", "--organisation", "Nobody")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "Error: there is no organisation called 'Nobody'"
    assert "Traceback" not in unknown.stderr
