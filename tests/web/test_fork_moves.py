"""A planned cohort on a standard moves onto its organisation's own version
of it: first a preview, then the move; the sessions stay the same sessions."""

from datetime import timedelta

from sqlalchemy import func, select

from app.models import (
    AttendanceRecord,
    Cohort,
    CohortState,
    CurriculumRecord,
    Enrolment,
    Organisation,
    Role,
    Session,
    SessionStatus,
)
from app.services import curricula as workbench
from cohorts.eligibility import Mark
from tests.web.helpers import log_in, post_form
from tests.web.test_cohort_pages import a_monday


def fork_of_compact(db, make, organisation, change=None):
    """The organisation's fork of the compact standard, published as version 2
    with `change` applied to its file (version 1 is the plain copy)."""
    record = workbench.fork(make.version("compact"), organisation, None)
    workbench.publish(workbench.draft_of(record), None, expected_version=1)
    if change is not None:
        draft = workbench.start_draft(record)
        db.session.flush()
        workbench.edit(draft, change, expected_version=draft.lock_version)
        db.session.flush()
        workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()
    return workbench.latest_published(record)


def later_reflection(data):
    reflection = next(e for e in data["elements"] if e["key"] == "reflection")
    reflection["gap"] = {"min": "3w", "preferred": "12w", "max": "6m"}


def without_reflection(data):
    data["elements"] = [e for e in data["elements"] if e["key"] != "reflection"]
    data["certificate"]["required"] = [
        k for k in data["certificate"]["required"] if k != "reflection"
    ]


def world(make, db, change=later_reflection, start=None, people=2):
    org = make.organisation("Muster AG")
    user = make.user(Role.TRAINER, [org], email="planer@example.org", name="Petra Plan")
    fork = fork_of_compact(db, make, org, change)
    cohort = make.cohort(org, start=start or a_monday(4), region="DE-BW", name="Frühjahr")
    for n in range(people):
        make.participant(org, cohort=cohort, email=f"p{n}@example.org")
    return {
        "org": org.id,
        "cohort": cohort.id,
        "fork": fork.curriculum_id,
        "fork_version": fork.id,
        "user": user.email,
        "sessions": {s.element.key: (s.id, s.uid, s.first_day) for s in cohort.sessions},
    }


def move(client, ids, version=None, **kwargs):
    page = f"/cohorts/{ids['cohort']}/fork/{ids['fork']}"
    return post_form(
        client,
        page,
        {"version": str(version), "target": str(ids["fork_version"])}
        if version is not None
        else {},
        form_url=f"/cohorts/{ids['cohort']}",
        headers={"Referer": f"http://localhost{page}"},
        **kwargs,
    )


def test_preview_then_move_onto_the_fork(client, make, db):
    ids = world(make, db)
    log_in(client, ids["user"])
    page = client.get(f"/cohorts/{ids['cohort']}").get_data(as_text=True)
    assert "Der eigenen Fassung der Organisation folgen" in page
    # The fork is named with its client.
    assert "Seminartage und Reflexionstag – für Muster AG ansehen" in page
    preview = client.get(f"/cohorts/{ids['cohort']}/fork/{ids['fork']}").get_data(as_text=True)
    assert "Noch ist nichts gespeichert." in preview
    assert "Reflexionstag: Erfahrungen teilen" in preview  # titles, not keys
    assert ">reflection<" not in preview
    _, _, reflection_day = ids["sessions"]["reflection"]
    later = reflection_day + timedelta(weeks=4)
    assert f"{later:%d.%m.%Y}" in preview
    assert "Vorschau verwerfen" in preview
    cohort = db.session.get(Cohort, ids["cohort"])
    assert cohort.version.curriculum.organisation_id is None  # nothing changed yet
    response = move(client, ids, cohort.lock_version, follow_redirects=True)
    shown = response.get_data(as_text=True)
    assert "Frühjahr folgt jetzt Lernbegleitung kompakt" in shown
    db.session.expire_all()
    cohort = db.session.get(Cohort, ids["cohort"])
    assert cohort.version_id == ids["fork_version"]
    after = {s.element.key: s for s in cohort.sessions}
    assert set(after) == set(ids["sessions"])
    for key, (session_id, uid, _) in ids["sessions"].items():
        # The same sessions: calendars keep their events.
        assert after[key].id == session_id
        assert after[key].uid == uid
        assert after[key].element.version_id == ids["fork_version"]
    assert after["reflection"].first_day == later
    assert after["reflection"].revision == 1
    assert after["seminar-1"].revision == 0
    enrolled = db.session.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.cohort_id == ids["cohort"])
    )
    assert enrolled == 2
    # The cohort page no longer offers the move: the cohort follows the fork.
    assert "Der eigenen Fassung der Organisation folgen" not in shown


def test_attendance_stays_with_its_session(client, make, db):
    ids = world(make, db)
    cohort = db.session.get(Cohort, ids["cohort"])
    person_id = db.session.scalar(
        select(Enrolment.participant_id).where(Enrolment.cohort_id == cohort.id)
    )
    seminar_id = ids["sessions"]["seminar-1"][0]
    db.session.add(
        AttendanceRecord(
            session_id=seminar_id,
            participant_id=person_id,
            for_cohort_id=cohort.id,
            mark=Mark.PRESENT,
        )
    )
    db.session.commit()
    version = cohort.lock_version
    log_in(client, ids["user"])
    move(client, ids, version)
    db.session.expire_all()
    assert db.session.get(Cohort, ids["cohort"]).version_id == ids["fork_version"]
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.session_id, record.mark) == (seminar_id, Mark.PRESENT)


def test_a_fork_without_an_element_that_took_place_is_refused(client, make, db):
    # Started half a year ago and never set running: every session is over.
    ids = world(make, db, change=without_reflection, start=a_monday(-30))
    version = db.session.get(Cohort, ids["cohort"]).lock_version
    log_in(client, ids["user"])
    response = client.get(
        f"/cohorts/{ids['cohort']}/fork/{ids['fork']}",
        headers={"Referer": f"http://localhost/cohorts/{ids['cohort']}"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "refused-fork_does_not_fit" in page
    assert "Netzwerk stärken hat stattgefunden oder hat erfasste Anwesenheit" in page
    response = move(client, ids, version, follow_redirects=True)
    assert "refused-fork_does_not_fit" in response.get_data(as_text=True)
    db.session.expire_all()
    cohort = db.session.get(Cohort, ids["cohort"])
    assert cohort.version.curriculum.organisation_id is None
    assert {s.status for s in cohort.sessions} == {SessionStatus.SCHEDULED}


def test_a_fork_without_an_element_with_attendance_is_refused(client, make, db):
    ids = world(make, db, change=without_reflection)
    cohort = db.session.get(Cohort, ids["cohort"])
    person_id = db.session.scalar(
        select(Enrolment.participant_id).where(Enrolment.cohort_id == cohort.id)
    )
    db.session.add(
        AttendanceRecord(
            session_id=ids["sessions"]["reflection"][0],
            participant_id=person_id,
            for_cohort_id=cohort.id,
            mark=Mark.EXCUSED,
        )
    )
    db.session.commit()
    version = cohort.lock_version
    log_in(client, ids["user"])
    response = move(client, ids, version, follow_redirects=True)
    assert "refused-fork_does_not_fit" in response.get_data(as_text=True)
    assert db.session.get(Cohort, ids["cohort"]).version.curriculum.organisation_id is None


def test_a_session_whose_element_the_fork_left_out_is_cancelled_when_still_to_come(
    client, make, db
):
    ids = world(make, db, change=without_reflection)
    version = db.session.get(Cohort, ids["cohort"]).lock_version
    log_in(client, ids["user"])
    preview = client.get(f"/cohorts/{ids['cohort']}/fork/{ids['fork']}").get_data(as_text=True)
    assert "abgesagt" in preview
    move(client, ids, version)
    db.session.expire_all()
    reflection = db.session.get(Session, ids["sessions"]["reflection"][0])
    assert reflection.status is SessionStatus.CANCELLED
    assert reflection.revision == 1


def test_a_stale_preview_is_refused(client, make, db):
    ids = world(make, db)
    log_in(client, ids["user"])
    response = move(client, ids, 0, follow_redirects=True)
    assert "refused-stale" in response.get_data(as_text=True)
    assert db.session.get(Cohort, ids["cohort"]).version.curriculum.organisation_id is None


def test_the_move_is_csrf_protected(client, make, db):
    ids = world(make, db)
    version = db.session.get(Cohort, ids["cohort"]).lock_version
    log_in(client, ids["user"])
    response = client.post(
        f"/cohorts/{ids['cohort']}/fork/{ids['fork']}", data={"version": str(version)}
    )
    assert response.status_code == 400
    assert db.session.get(Cohort, ids["cohort"]).version.curriculum.organisation_id is None


def test_a_running_cohort_is_not_offered_the_move(client, make, db):
    ids = world(make, db)
    cohort = db.session.get(Cohort, ids["cohort"])
    cohort.state = CohortState.RUNNING
    db.session.commit()
    version = cohort.lock_version
    log_in(client, ids["user"])
    page = client.get(f"/cohorts/{ids['cohort']}").get_data(as_text=True)
    assert "Der eigenen Fassung der Organisation folgen" not in page
    response = move(client, ids, version, follow_redirects=True)
    assert "refused-cohort_not_planned" in response.get_data(as_text=True)


def test_another_organisations_fork_is_not_a_target(client, make, db):
    ids = world(make, db)
    other = make.organisation("Andere AG")
    foreign = fork_of_compact(db, make, other, later_reflection)
    foreign_id = foreign.curriculum_id
    log_in(client, ids["user"])
    assert client.get(f"/cohorts/{ids['cohort']}/fork/{foreign_id}").status_code == 404
    page = client.get(f"/cohorts/{ids['cohort']}").get_data(as_text=True)
    assert "Andere AG" not in page


def test_hr_does_not_move_cohorts(client, make, db):
    ids = world(make, db)
    org = db.session.get(Organisation, ids["org"])
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    assert "Der eigenen Fassung" not in client.get(f"/cohorts/{ids['cohort']}").get_data(
        as_text=True
    )
    assert client.get(f"/cohorts/{ids['cohort']}/fork/{ids['fork']}").status_code == 403


def test_a_fork_version_published_after_the_preview_is_refused(client, make, db):
    ids = world(make, db)
    version = db.session.get(Cohort, ids["cohort"]).lock_version
    log_in(client, ids["user"])
    client.get(f"/cohorts/{ids['cohort']}/fork/{ids['fork']}")
    # Meanwhile the organisation publishes a newer version of its fork.
    draft = workbench.start_draft(db.session.get(CurriculumRecord, ids["fork"]))
    db.session.flush()
    workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()
    response = move(client, ids, version, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "refused-stale" in page
    assert "neuere Version" in page
    assert db.session.get(Cohort, ids["cohort"]).version.curriculum.organisation_id is None


def test_after_the_move_the_page_says_the_cohort_follows_the_fork(client, make, db):
    ids = world(make, db)
    version = db.session.get(Cohort, ids["cohort"]).lock_version
    log_in(client, ids["user"])
    move(client, ids, version)
    page = client.get(f"/cohorts/{ids['cohort']}/fork/{ids['fork']}").get_data(as_text=True)
    assert "Frühjahr folgt Lernbegleitung kompakt" in page
    assert "bereits." in page
    response = move(client, ids, version + 1, follow_redirects=True)
    assert "refused-already_on_fork" in response.get_data(as_text=True)
