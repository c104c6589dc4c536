"""Forking: only what the user may read can be forked, only into an
organisation of theirs, and a fork is offered new versions only of an
upstream its organisation may read."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import CurriculumRecord, Organisation, Role, User
from app.services import curricula as workbench
from app.services.errors import NotFound
from app.services.policy import Actor
from app.services.standards import add_version
from curricula.loader import load_text
from tests.web.helpers import csrf_token, log_in
from tests.web.test_workbench import standard

THEIR_TITLE = "Geheimformat der Fremde AG"


def curricula_of(db, organisation_id: int) -> list[CurriculumRecord]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CurriculumRecord).where(CurriculumRecord.organisation_id == organisation_id)
        )
    )


def publish_new_version(db, record_id: int, *, title: str | None = None, gap: str = "10w"):
    """The record's owners publish a version with a longer gap before the reflection day."""
    record = db.session.get(CurriculumRecord, record_id)
    draft = workbench.start_draft(record)

    def change(data):
        if title:
            data["title"]["de"] = title
        reflection = next(e for e in data["elements"] if e["key"] == "reflection")
        reflection["gap"]["preferred"] = gap

    workbench.edit(draft, change, expected_version=draft.lock_version)
    workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()


@pytest.fixture
def world(make, db):
    """Our organisation with a consultant, and another organisation with a
    curriculum of its own (forked from the standard and published)."""
    ours = make.organisation("Eigene GmbH")
    theirs = make.organisation("Fremde AG")
    make.user(Role.CONSULTANT, [ours], email="beratung@example.org")
    make.user(Role.CONSULTANT, [ours, theirs], email="beide@example.org")
    make.user(Role.HR, [ours], email="personal@example.org")
    record = workbench.fork(make.version("compact"), theirs, None)
    draft = workbench.draft_of(record)
    workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()
    return {"ours": ours.id, "theirs": theirs.id, "their_curriculum": record.id}


def fork_post(client, curriculum_id: int, organisation_id: int, **kwargs):
    token = csrf_token(client, "/curricula")
    return client.post(
        f"/curricula/{curriculum_id}/fork",
        data={"csrf_token": token, "organisation": organisation_id},
        **kwargs,
    )


def test_a_curriculum_of_another_organisation_cannot_be_forked(client, db, world):
    log_in(client, "beratung@example.org")
    assert client.get(f"/curricula/{world['their_curriculum']}").status_code == 404
    response = fork_post(client, world["their_curriculum"], world["ours"])
    assert response.status_code == 404
    assert curricula_of(db, world["ours"]) == []
    # The same through the service, whoever calls it.
    consultant = db.session.scalar(select(User).where(User.email == "beratung@example.org"))
    with pytest.raises(NotFound):
        workbench.fork_curriculum(
            Actor.of_user(consultant), world["their_curriculum"], world["ours"]
        )


def test_a_fork_goes_only_into_an_organisation_of_the_user(client, db, world):
    log_in(client, "beratung@example.org")
    their_count = len(curricula_of(db, world["theirs"]))
    response = fork_post(client, standard(db), world["theirs"])
    assert response.status_code == 404
    assert len(curricula_of(db, world["theirs"])) == their_count
    assert curricula_of(db, world["ours"]) == []


def test_only_planners_fork(client, db, world):
    log_in(client, "personal@example.org")
    assert fork_post(client, standard(db), world["ours"]).status_code == 403
    assert curricula_of(db, world["ours"]) == []


def test_a_fork_is_not_offered_what_another_organisation_publishes(client, db, world):
    """A fork whose upstream belongs to another organisation (someone who
    works for both forked it) shows nothing of that organisation's later
    versions, and none of them can be taken into it."""
    their_version = workbench.latest_published(
        db.session.get(CurriculumRecord, world["their_curriculum"])
    )
    ours = workbench.fork(their_version, db.session.get(Organisation, world["ours"]), None)
    draft = workbench.draft_of(ours)
    workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()
    fork_id, source = ours.id, workbench.latest_published(ours).source
    publish_new_version(db, world["their_curriculum"], title=THEIR_TITLE, gap="12w")

    log_in(client, "beratung@example.org")
    page = client.get(f"/curricula/{fork_id}").get_data(as_text=True)
    assert "hat Version" not in page
    assert 'name="change"' not in page
    assert THEIR_TITLE not in page
    assert THEIR_TITLE not in client.get("/curricula").get_data(as_text=True)
    token = csrf_token(client, f"/curricula/{fork_id}")
    for action, data in (
        ("take", {"change": "changed:reflection", "overwrite": "1"}),
        ("keep", {}),
    ):
        refused = client.post(
            f"/curricula/{fork_id}/upstream/{action}",
            data={"csrf_token": token, "version": "0", **data},
        )
        assert refused.status_code == 303
        followed = client.get(refused.headers["Location"]).get_data(as_text=True)
        assert "refused-nothing_upstream" in followed
    db.session.expire_all()
    record = db.session.get(CurriculumRecord, fork_id)
    assert workbench.draft_of(record) is None
    assert workbench.latest_published(record).source == source
    assert workbench.upstream_state(record) is None


def test_someone_of_both_organisations_forks_theirs_but_gets_no_later_versions(client, db, world):
    log_in(client, "beide@example.org")
    response = fork_post(client, world["their_curriculum"], world["ours"])
    assert response.status_code == 303
    [fork] = curricula_of(db, world["ours"])
    assert fork.upstream_id == world["their_curriculum"]
    page = f"/curricula/{fork.id}"
    version = re.search(r'name="version"[^>]*value="(\d+)"', client.get(page).get_data(True))
    client.post(
        f"{page}/draft/publish",
        data={"csrf_token": csrf_token(client, page), "version": version.group(1)},
    )
    publish_new_version(db, world["their_curriculum"], gap="12w")
    # Even this user, who may read both, is not offered the other
    # organisation's new version in the fork: the fork's organisation may not.
    assert "hat Version 3" not in client.get(page).get_data(as_text=True)
    db.session.expire_all()
    assert workbench.upstream_state(db.session.get(CurriculumRecord, fork.id)) is None


def test_a_fork_of_a_standard_is_still_offered_its_new_versions(client, db, world):
    log_in(client, "beratung@example.org")
    assert fork_post(client, standard(db), world["ours"]).status_code == 303
    [fork] = curricula_of(db, world["ours"])
    fork_id = fork.id
    draft = workbench.draft_of(fork)
    workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()
    publish_standard_version(db)
    page = client.get(f"/curricula/{fork_id}").get_data(as_text=True)
    assert "hat Version 3" in page
    assert 'name="change"' in page


def publish_standard_version(db):
    upstream = db.session.get(CurriculumRecord, standard(db))
    source = (
        upstream.versions[-1]
        .source.replace('preferred = "8w"', 'preferred = "10w"')
        .replace("version = 2", "version = 3", 1)
    )
    add_version(upstream, load_text(source), source)
    db.session.commit()


def test_forking_twice_is_refused_with_its_code(client, db, world):
    log_in(client, "beratung@example.org")
    assert fork_post(client, standard(db), world["ours"]).status_code == 303
    again = fork_post(client, standard(db), world["ours"], follow_redirects=True)
    assert "refused-fork_exists" in again.get_data(as_text=True)
    assert "Es wurde nichts gespeichert" in again.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(func.count(CurriculumRecord.id)).where(
                CurriculumRecord.organisation_id == world["ours"]
            )
        )
        == 1
    )
