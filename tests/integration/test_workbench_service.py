"""The workbench's use cases called directly, as any door calls them: the
actor first, the policy checked, refusals with stable codes, nothing
committed by the service itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.models import Change, CurriculumRecord, CurriculumVersion, Role
from app.services import curricula as workbench
from app.services.errors import NotFound, NotPermitted, StaleEdit
from app.services.policy import Actor
from curricula.model import Text


@pytest.fixture
def setting(make, db):
    ours, theirs = make.organisation("Eigene GmbH"), make.organisation("Fremde AG")
    consultant = make.user(Role.CONSULTANT, [ours], email="c@example.org")
    clerk = make.user(Role.HR, [ours], email="hr@example.org")
    standard = make.version("compact").curriculum
    db.session.commit()
    return {
        "ours": ours,
        "theirs": theirs,
        "consultant": Actor.of_user(consultant),
        "clerk": Actor.of_user(clerk),
        "standard": standard,
    }


def test_fork_and_edit_refusals_carry_their_codes(setting, db):
    consultant, clerk = setting["consultant"], setting["clerk"]
    standard, ours, theirs = setting["standard"], setting["ours"], setting["theirs"]
    with pytest.raises(NotPermitted):
        workbench.fork_curriculum(clerk, standard.id, ours.id)
    with pytest.raises(NotFound):
        workbench.fork_curriculum(consultant, standard.id, theirs.id)
    with pytest.raises(NotPermitted) as read_only:
        workbench.begin_draft(consultant, standard.id)
    assert read_only.value.code == "standard_read_only"

    fork = workbench.fork_curriculum(consultant, standard.id, ours.id)
    assert (fork.organisation_id, fork.upstream_id) == (ours.id, standard.id)
    with pytest.raises(workbench.WorkbenchError) as again:
        workbench.fork_curriculum(consultant, standard.id, ours.id)
    assert again.value.code == "fork_exists"

    draft = workbench.draft_of(fork)
    stale = draft.lock_version
    key = workbench.add_element(
        consultant, fork.id, Text("Übung", "Practice"), expected_version=stale
    )
    assert key == "uebung"
    db.session.flush()
    with pytest.raises(StaleEdit):
        workbench.remove_element(consultant, fork.id, "uebung", expected_version=stale)
    with pytest.raises(workbench.WorkbenchError) as followed:
        workbench.remove_element(
            consultant, fork.id, "seminar-2", expected_version=draft.lock_version
        )
    assert followed.value.code == "element_has_followers"
    with pytest.raises(workbench.InvalidCurriculum) as invalid:
        workbench.add_element(
            consultant, fork.id, Text("x" * 201, "x"), expected_version=draft.lock_version
        )
    assert [p.field for p in invalid.value.problems] == ["title.de"]
    with pytest.raises(NotFound):
        workbench.move_element(
            consultant, fork.id, "nowhere", "up", expected_version=draft.lock_version
        )
    # Someone of another organisation does not even find it.
    stranger = Actor(None, Role.CONSULTANT, frozenset({theirs.id}))
    with pytest.raises(NotFound):
        workbench.publish_draft(stranger, fork.id, expected_version=draft.lock_version)


def test_publishing_records_who_did_it(setting, db):
    consultant = setting["consultant"]
    fork = workbench.fork_curriculum(consultant, setting["standard"].id, setting["ours"].id)
    draft = workbench.draft_of(fork)
    version = workbench.publish_draft(consultant, fork.id, expected_version=draft.lock_version)
    assert version.number == 1
    assert not version.is_draft
    entry = db.session.scalar(
        select(Change).where(Change.subject == "curriculum", Change.subject_id == fork.id)
    )
    assert entry.user_id == consultant.user.id
    assert workbench.readable(consultant)[-1].id == fork.id
    assert fork.id not in [
        r.id for r in workbench.readable(Actor(None, Role.CONSULTANT, frozenset()))
    ]


def test_a_draft_changed_between_reading_and_publishing_is_a_stale_edit(setting, db):
    consultant = setting["consultant"]
    fork = workbench.fork_curriculum(consultant, setting["standard"].id, setting["ours"].id)
    db.session.commit()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork.id))
    seen = draft.lock_version  # read: the check against the form's version passes
    # Another request saves the draft after this one read it.
    db.session.execute(
        update(CurriculumVersion)
        .where(CurriculumVersion.id == draft.id)
        .values(lock_version=CurriculumVersion.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(StaleEdit) as stale:
        workbench.publish_draft(consultant, fork.id, expected_version=seen)
    assert "draft" in str(stale.value.message)
    db.session.rollback()
    assert workbench.draft_of(db.session.get(CurriculumRecord, fork.id)) is not None
