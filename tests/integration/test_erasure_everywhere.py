"""Erasure leaves no name behind: not the one the person has now, not the ones
she had before, not in other people's records, and on SQLite not in the
database files either (the write-ahead log and freed pages included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import event, select

from app import throttle
from app.extensions import db
from app.models import Certificate, Change, Participant, Role, User
from app.services import privacy
from app.services.policy import Actor
from app.services.standards import import_standards
from tests.conftest import app_for
from tests.integration import person_life
from tests.integration.person_life import NEW_NAME, PASSWORD, TRACES
from tests.web.helpers import post_form


def encodings(text: str) -> list[bytes]:
    """How a text can sit in the file: UTF-8, UTF-16 (either order), and as
    JSON writes it with non-ASCII letters escaped."""
    escaped = json.dumps(text)[1:-1]
    forms = {text.encode("utf-8"), escaped.encode("ascii")}
    forms |= {text.encode("utf-16-le"), text.encode("utf-16-be")}
    return sorted(forms)


def found_in(files: list[Path], texts: tuple[str, ...]) -> list[tuple[str, str]]:
    found = []
    for path in files:
        content = path.read_bytes() if path.exists() else b""
        for text in texts:
            for form in encodings(text):
                if form.lower() in content.lower():
                    found.append((path.name, text))
    return sorted(set(found))


@pytest.fixture
def served(tmp_path):
    """An app of its own on an SQLite file, as a real installation runs."""
    path = tmp_path / "qualiplan.db"
    app = app_for(f"sqlite:///{path}")
    with app.app_context():
        # Many SQLite builds leave freed space as it was; some (Debian's)
        # zero it by default. Start from the former, as the app must not
        # depend on how SQLite was built.
        event.listen(db.engine, "connect", _built_without_secure_delete, insert=True)
        db.engine.dispose()
        db.create_all()
        import_standards()
        db.session.commit()
    try:
        yield app, path
    finally:
        throttle.reset(app)
        with app.app_context():
            db.engine.dispose()


def _built_without_secure_delete(connection, record) -> None:
    connection.execute("PRAGMA secure_delete = OFF")


def database_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def log_in(client, email: str) -> None:
    response = post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_an_erased_person_leaves_no_name_in_the_database_files(served):
    app, path = served
    with app.app_context():
        life = person_life.before_the_rename(Actor.system())
        db.session.commit()
        # Her name is everywhere by now, also on disk.
        assert found_in(database_files(path), TRACES)

    client = app.test_client()
    log_in(client, "admin@example.org")
    page = f"/participants/{life.person}"
    with app.app_context():
        version = db.session.get(Participant, life.person).lock_version
    renamed = post_form(
        client,
        page,
        {
            **person_life.person_fields(
                person_life.FIRST,
                person_life.NEW_LAST,
                person_life.NEW_EMAIL,
                manager_name="Mara Manager",
                manager_email=person_life.MANAGER_EMAIL,
            ),
            "version": str(version),
        },
    )
    assert renamed.status_code == 302, renamed.get_data(as_text=True)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
        person_life.after_the_rename(Actor.of_user(admin), life)
        db.session.commit()

    erased = post_form(client, f"{page}/erase", {"confirm": NEW_NAME}, form_url=page)
    assert erased.status_code == 302, erased.get_data(as_text=True)

    with app.app_context():
        assert db.session.get(Participant, life.person) is None
        # The certificate she holds stays verifiable, without a name.
        verified = client.get(f"/verify/{life.certificate_code}")
        assert verified.status_code == 200
    assert found_in(database_files(path), TRACES) == []
    # The others are still there, as they were.
    assert found_in(database_files(path), ("Bruno Bauer", "carla.conti@example.org")) != []


def every_stored_text(session) -> list[tuple[str, str]]:
    """Every value of every table, as text, with the table it is in."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                if value is not None:
                    found.append((table.name, json.dumps(value, default=str, ensure_ascii=False)))
    return found


def naming(texts: list[tuple[str, str]], traces: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (table, text)
        for table, text in texts
        if any(trace.casefold() in text.casefold() for trace in traces)
    ]


def test_erasure_finds_every_name_the_person_ever_had(client, db):
    life = person_life.before_the_rename(Actor.system())
    person_life.rename(Actor.system(), life)
    person_life.after_the_rename(Actor.system(), life)
    db.session.commit()
    assert {table for table, _ in naming(every_stored_text(db.session), TRACES)} >= {
        "participants",
        "changes",
        "certificates",
    }

    log_in(client, "admin@example.org")
    page = f"/participants/{life.person}"
    done = post_form(
        client, f"{page}/erase", {"confirm": NEW_NAME}, form_url=page, follow_redirects=True
    )
    said = done.get_data(as_text=True)
    assert "3 ohne Namen behalten, 0 gelöscht" in said
    # Two tandem confirmations, a colleague's record and its history, a revocation reason.
    assert "5 andere Einträge nannten die Person und zeigen jetzt „[gelöscht]“" in said

    db.session.expire_all()
    assert naming(every_stored_text(db.session), TRACES) == []
    # What others' records said about them stays, with the marker in her place.
    confirmations = db.session.scalars(
        select(Change.after).where(Change.subject == "tandems", Change.cohort_id == life.cohort)
    ).all()
    assert len(confirmations) == 2
    for after in confirmations:
        assert ["Bruno Bauer", "[erased]"] in [sorted(group) for group in after["tandems"]]
    carla = db.session.get(Participant, life.reporting)
    assert (carla.manager_name, carla.manager_email) == ("", "")
    assert carla.first_name == "Carla"
    reasons = db.session.scalars(select(Certificate.revoked_reason)).all()
    assert "issued to [erased] before her attendance was checked" in reasons
    kept = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert [(c.name, c.participant_id) for c in kept] == [("", None)] * 3
    erased = db.session.scalars(select(Change).where(Change.action == "erased")).all()
    assert [(c.subject_id, c.before, c.after) for c in erased] == [(life.person, None, None)]


def test_a_refused_erasure_changes_nothing(client, db):
    life = person_life.before_the_rename(Actor.system())
    db.session.commit()
    before = every_stored_text(db.session)
    log_in(client, "admin@example.org")
    page = f"/participants/{life.person}"
    refused = post_form(client, f"{page}/erase", {"confirm": person_life.FIRST}, form_url=page)
    assert refused.status_code == 303
    db.session.expire_all()
    assert every_stored_text(db.session) == before


# Text columns that never hold a participant's name or address, and why.
NEVER_A_PERSON = {
    **dict.fromkeys(
        ["organisations.name", "organisations.default_region", "organisations.default_timezone"],
        "the organisation",
    ),
    **dict.fromkeys(
        ["organisations.signatory_name", "organisations.signatory_role"],
        "the staff member who signs certificates",
    ),
    **dict.fromkeys(
        ["users.email", "users.name", "users.password_hash", "users.language"], "staff accounts"
    ),
    "users.session_token": "a random value",
    "users.reset_token_hash": "a hash of a random value",
    "access_tokens.token_hash": "a hash of a random value",
    **dict.fromkeys(
        [
            "curricula.key",
            "curricula.title_de",
            "curricula.title_en",
            "curriculum_versions.source",
            "curriculum_elements.key",
            "curriculum_elements.kind",
            "curriculum_elements.mode",
            "curriculum_elements.title_de",
            "curriculum_elements.title_en",
        ],
        "programmes: what is taught, not who learns",
    ),
    **dict.fromkeys(
        [
            "participants.first_name",
            "participants.last_name",
            "participants.email",
            "participants.department",
            "participants.site",
            "participants.employee_number",
            "participants.search_text",
            "participants.last_name_key",
            "participants.first_name_key",
        ],
        "a person's own record: deleted with them, and in a colleague's record the colleague's",
    ),
    **dict.fromkeys(
        [
            "cohorts.name",
            "cohorts.region",
            "cohorts.timezone",
            "cohorts.online_link",
            "cohorts.delivery",
            "cohorts.state",
        ],
        "the cohort's name, region and meeting link",
    ),
    "sessions.uid": "a random calendar id",
    "sessions.online_link": "the meeting link",
    "sessions.mode": "a word from the curriculum's list",
    "certificates.code": "a random verification code",
    "changes.subject": "a word naming the kind of record",
    "changes.action": "a word naming the change",
    "organisations.mail_from": "the organisation's sender address",
    "organisations.reminder_days": "numbers of days",
    **dict.fromkeys(
        ["users.calendar_choice", "participants.calendar_choice", "participants.language"],
        "a word from a fixed list",
    ),
    **dict.fromkeys(
        ["notifications.address", "notifications.answer"],
        "the recipient's address and the mail server's answer about it: deleted with them",
    ),
    "notifications.key": "ids and version numbers",
    "notifications.kind": "a word naming the kind of message",
    "notifications.language": "a language code",
    **dict.fromkeys(
        ["credential_keys.kid", "credential_keys.public_jwk"], "an organisation's public key"
    ),
    "credentials.credential_id": "a random identifier",
    "jobs.public_id": "a random identifier",
    **dict.fromkeys(["jobs.kind", "jobs.language", "jobs.file_type"], "a word from a fixed list"),
    "jobs.file_name": "the cohort's or the organisation's name and a year",
    **dict.fromkeys(
        [
            "registrations.offer_token_hash",
            "registrations.email_token_hash",
            "registrations.manager_token_hash",
            "registrations.status_token_hash",
            "organisations.registration_token_hash",
        ],
        "a hash of a random value",
    ),
    "organisations.waiting_list_mode": "a word from a fixed list",
    **dict.fromkeys(
        ["credentials.jwt", "credentials.subject_salt"],
        "the signed credential (base64) and its salt: deleted on erasure",
    ),
}


def test_every_text_column_is_searched_on_erasure_or_holds_no_name():
    """A new column of text (or a new table) must be placed: searched for
    the person's names on erasure, or known to hold none."""
    from sqlalchemy import JSON, Enum, String, Text

    searched = {f"{c.class_.__table__.name}.{c.key}" for c in privacy.MENTIONS}
    unplaced = [
        f"{table.name}.{column.name}"
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
        and not isinstance(column.type, Enum)  # a word from a fixed list
        and f"{table.name}.{column.name}" not in searched | NEVER_A_PERSON.keys()
    ]
    assert unplaced == [], unplaced


def test_a_namesake_keeps_being_someone_s_manager(client, db, make):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org")
    anna = make.participant(org, first_name="Anna", last_name="Jürgens", email="anna1@example.org")
    make.participant(org, first_name="Anna", last_name="Jürgens", email="anna2@example.org")
    carla = make.participant(
        org, first_name="Carla", manager_name="Anna Jürgens", manager_email="anna2@example.org"
    )
    dora = make.participant(
        org, first_name="Dora", manager_name="Anna Jürgens", manager_email="ANNA1@example.org"
    )
    ids = anna.id, carla.id, dora.id
    log_in(client, "admin@example.org")
    page = f"/participants/{ids[0]}"
    erased = post_form(client, f"{page}/erase", {"confirm": "Anna Jürgens"}, form_url=page)
    assert erased.status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, ids[0]) is None
    assert db.session.get(Participant, ids[1]).manager_email == "anna2@example.org"
    assert db.session.get(Participant, ids[2]).manager_email == ""
