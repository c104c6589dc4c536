"""Certificates issued before Qualiplan signed credentials get theirs
afterwards: `qualiplan credentials issue-missing`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, func, select

from app import credentials
from app.models.credentials import CredentialRecord

COMMAND = str(Path(sys.executable).with_name("qualiplan"))


def test_a_certificate_without_a_credential_gets_one_that_verifies(db, make, certified):
    org, _, cohort, person, certificate = certified
    other = make.participant(org, cohort, first_name="Jörg", last_name="Yılmaz")
    erased = make.certificate(cohort, other)
    erased.name = ""  # as erasure leaves a certificate that is kept
    db.session.execute(delete(CredentialRecord))
    db.session.commit()
    assert credentials.credential_of(certificate) is None

    assert credentials.issue_missing() == (1, 1)
    db.session.commit()
    issued = credentials.credential_of(certificate)
    assert issued is not None
    assert issued.document["credentialSubject"]["achievement"]["name"]
    assert credentials.verify_credential(issued.jwt).state == "valid"
    # Once done, nothing more to do; the erased person's stays without one.
    assert credentials.issue_missing() == (0, 1)
    assert db.session.scalar(select(func.count(CredentialRecord.id))) == 1


def test_only_the_organisation_named_and_never_a_revoked_certificate(db, make, certified):
    org, _, cohort, person, certificate = certified
    elsewhere = make.organisation("Zweite GmbH")
    their_cohort = make.cohort(elsewhere, name="Herbst")
    theirs = make.certificate(their_cohort, make.participant(elsewhere, their_cohort))
    revoked = make.certificate(cohort, make.participant(org, cohort))
    revoked.revoked_at = revoked.issued_at
    db.session.execute(delete(CredentialRecord))
    db.session.commit()
    assert credentials.issue_missing(org.id) == (1, 0)
    db.session.commit()
    assert credentials.credential_of(certificate) is not None
    assert credentials.credential_of(theirs) is None
    assert credentials.credential_of(revoked) is None


def test_the_command_signs_what_is_missing_once_and_says_so(tmp_path):
    database = tmp_path / "qualiplan.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "test",
        "QUALIPLAN_CREDENTIAL_KEY": "x" * 43,
        "QUALIPLAN_QUEUE_URL": "memory://",
    }
    env.pop("QUALIPLAN_LANGUAGE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COMMAND, *args], capture_output=True, text=True, env=env, check=False, timeout=120
        )

    assert run("db", "upgrade").returncode == 0
    assert run("demo").returncode == 0
    with sqlite3.connect(database) as connection:
        issued = connection.execute("SELECT count(*) FROM credentials").fetchone()[0]
        assert issued > 0
        connection.execute("DELETE FROM credentials")
    done = run("credentials", "issue-missing")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{issued} Nachweise signiert."
    again = run("credentials", "issue-missing", "--lang", "en")
    assert again.stdout.strip() == "0 credentials signed."
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM credentials").fetchone()[0] == issued
    unknown = run("credentials", "issue-missing", "--organisation", "Nobody")
    assert unknown.returncode == 2
    assert "Traceback" not in unknown.stderr
