"""The export of everything stored about a person (GDPR Art. 15): all of it,
from every table that refers to them, and of other people only what the
person saw themselves (their tandem partners' names)."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import Certificate, Cohort, Participant, User
from app.services import certificates, person_data, tandems
from app.services.attendance import grid, set_mark
from app.services.policy import Actor
from cohorts.eligibility import Mark
from tests.integration import person_life
from tests.integration.person_life import (
    MANAGER_EMAIL,
    NEW_EMAIL,
    OLD_EMAIL,
    OLD_NAME,
    PRINTED,
    STAFF_EMAILS,
)
from tests.web.helpers import log_in


def tables_about_participants() -> set[str]:
    """The participants table and every table whose foreign keys lead to it,
    directly or through another such table."""
    found = {"participants"}
    while True:
        more = {
            table.name
            for table in db.metadata.sorted_tables
            if table.name not in found
            and any(key.column.table.name in found for key in table.foreign_keys)
        }
        if not more:
            return found
        found |= more


def test_every_table_about_a_participant_has_its_part_in_the_export():
    missing = tables_about_participants() - person_data.PARTS.keys()
    assert missing == set(), f"add these tables to the export: {sorted(missing)}"


def a_whole_life():
    actor = Actor.system()
    life = person_life.before_the_rename(actor)
    person_life.rename(actor, life)
    person_life.after_the_rename(actor, life)
    cohort = db.session.get(Cohort, life.cohort)
    tandems.propose(cohort, None, expected_version=cohort.lock_version, shuffle=True)
    db.session.commit()
    return life


def exported(client, life) -> dict:
    log_in(client, "hr@example.org")
    response = client.get(f"/participants/{life.person}/export.json")
    assert response.status_code == 200
    return json.loads(response.data)


def test_the_export_holds_everything_about_the_person(client, db):
    life = a_whole_life()
    data = exported(client, life)

    for part in set(person_data.PARTS.values()) | {"tandem_changes"}:
        assert data[part], part
    person = db.session.get(Participant, life.person)
    keys = {c.key for c in Participant.__table__.columns} - {"id", "organisation_id"}
    assert keys - {"lock_version"} <= data["person"].keys()
    assert (data["person"]["last_name"], data["person"]["email"]) == ("Brightwater", NEW_EMAIL)
    assert data["person"]["manager_email"] == MANAGER_EMAIL == person.manager_email

    assert [(e["cohort"], e["status"]) for e in data["enrolments"]] == [
        ("Frühjahr", "enrolled"),
        ("Herbst", "withdrawn"),
    ]
    assert data["enrolments"][1]["withdrawn_at"] is not None
    first = data["attendance"][0]
    assert [(c["before"], c["after"]) for c in first["changes"]] == [
        ("not_recorded", "absent"),
        ("absent", "present"),
    ]
    assert {(t["state"], tuple(t["with"] or ())) for t in data["tandems"]} == {
        ("ended", ("Bruno Bauer",)),
        ("confirmed", ("Bruno Bauer",)),
        ("proposed", ()),
    }
    assert [t["with"] for t in data["tandems"] if t["state"] == "proposed"] == [None]
    assert [c["with"] for c in data["tandem_changes"]] == [["Bruno Bauer"], ["Bruno Bauer"]]
    assert len(data["not_together"]) == 2
    assert sorted(link["purpose"] for link in data["links"]) == [
        "participant_feed",
        "participant_feed",
        "personal_page",
    ]
    assert [(c["state"], c["name"]) for c in data["certificates"]] == [
        ("superseded", OLD_NAME),
        ("revoked", PRINTED),
        ("valid", OLD_NAME),
    ]
    actions = [h["action"] for h in data["history"]]
    assert actions == [
        "participant created",
        "enrolment enrolled",
        "participant updated",
        "enrolment enrolled",
        "enrolment withdrawn",
    ]
    # Her record under both names.
    assert data["history"][0]["after"]["email"] == OLD_EMAIL
    assert data["history"][2]["after"]["email"] == NEW_EMAIL


def test_the_export_holds_of_other_people_only_the_partners_she_saw(client, db):
    life = a_whole_life()
    certificate_id = certificates.of_participant(life.person)[0].id
    hr = db.session.scalar(select(User).where(User.email == "hr@example.org"))
    reason = "mixed up with Dario Duarte's"
    certificates.revoke_certificate(Actor.of_user(hr), certificate_id, reason)
    trainer = db.session.scalar(select(User).where(User.email == "trainer@example.org"))
    person = db.session.get(Participant, life.person)
    session = grid(db.session.get(Cohort, life.cohort)).sessions[0]
    set_mark(session, person, Mark.EXCUSED, trainer)
    db.session.commit()
    text = json.dumps(exported(client, life), ensure_ascii=False)

    assert "Bruno Bauer" in text  # her tandem partner, shown on her page
    others = db.session.query(Participant).filter(Participant.id != life.person).all()
    for other in others:
        assert other.email not in text
        if other.id != life.partner:
            assert other.name not in text
    for word in ("Vertrieb", "Lager", "Carla", "Dario", "bruno.bauer"):
        assert word not in text
    for email in STAFF_EMAILS:
        assert email not in text
    for name in ("Ada Admin", "Hanna HR", "Tim Trainer"):
        assert name not in text
    # The reason stays as the staff wrote it; the export leaves the other name out.
    assert db.session.get(Certificate, certificate_id).revoked_reason == reason
    assert "mixed up with […]'s" in text
    # Whoever among the staff changed something is named by role.
    assert '"by": "trainer"' in text
