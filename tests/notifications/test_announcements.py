"""Who is told what: each change records its invitations, cancellations and
words in its own transaction, through the pages planners and HR use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import icalendar
import pytest
from sqlalchemy import select

from app import queue
from app.models import Cohort, Notification, Organisation, Participant, Role, Session, User
from app.services import announcements
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in, post_form
from tests.web.test_cohort_pages import confirm_cancellation
from tests.web.test_withdrawal import _UNDO_STAMP, enrolment_of, withdraw

START = date(2027, 1, 11)


@pytest.fixture(autouse=True)
def _empty_queue():
    queue.huey.flush()
    yield
    queue.huey.flush()


def setup(make, db, start=START):
    """A blended cohort with a trainer and four people: one taking
    invitations (German), one following a feed (English), one both, one
    without an address."""
    org = make.organisation("Muster AG")
    org.mail_from = "lernen@muster.example"
    planner = make.user(Role.TRAINER, [org], email="planner@example.org", name="Petra Plan")
    trainer = make.user(Role.TRAINER, [org], email="tom@example.org", name="Tom Trainer")
    other = make.user(Role.TRAINER, [org], email="olga@example.org", name="Olga Other")
    cohort = make.cohort(
        org, key="blended", start=start, region="DE-BY", trainers=[trainer], name="Herbst"
    )
    people = {
        "anna": make.participant(org, cohort, first_name="Anna", email="anna@example.org"),
        "ben": make.participant(
            org, cohort, first_name="Ben", email="ben@example.org", language="en"
        ),
        "carla": make.participant(org, cohort, first_name="Carla", email="carla@example.org"),
        "dora": make.participant(org, cohort, first_name="Dora", email=""),
    }
    people["ben"].calendar_choice = "feed"
    people["carla"].calendar_choice = "both"
    db.session.commit()
    db.session.execute(Notification.__table__.delete())  # a cohort made by hand tells nobody
    db.session.commit()
    return SimpleNamespace(
        org=org.id,
        cohort=cohort.id,
        planner=planner.email,
        trainer=trainer.id,
        other=other.id,
        sessions={s.element.key: s.id for s in cohort.sessions},
        **{name: p.id for name, p in people.items()},
    )


def recorded(db) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def post(client, url, data, page):
    return client.post(
        url,
        data={"csrf_token": csrf_token(client, page), **data},
        headers={"Referer": f"http://localhost{page}"},
    )


def move(client, db, world, key="video-2", day="2027-01-29"):
    session_id = world.sessions[key]
    page = f"/cohorts/{world.cohort}/sessions/{session_id}"
    version = db.session.get(Session, session_id).lock_version
    return post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": day, "move-pin": "y", "move-earlier": "y"},
        page,
    )


def to(notes, **who) -> list[Notification]:
    ((field, value),) = who.items()
    return [n for n in notes if getattr(n, field) == value]


def test_a_move_updates_everyone_with_a_higher_sequence(client, make, db):
    world = setup(make, db)
    before = {
        s.id: (s.revision, s.first_day) for s in db.session.get(Cohort, world.cohort).sessions
    }
    log_in(client, world.planner)
    assert move(client, db, world).status_code == 302
    db.session.expire_all()
    moved = [
        s for s in db.session.get(Cohort, world.cohort).sessions if s.revision > before[s.id][0]
    ]
    assert len(moved) == 5
    notes = recorded(db)
    invitations = [n for n in notes if n.kind == "invitation"]
    # Anna, Carla (both) and the trainer (not of self-study), once per moved
    # session; Dora has no address.
    assert len(invitations) == sum(2 + len(s.trainers) for s in moved)
    assert len({n.key for n in notes}) == len(notes)
    for session in moved:
        for_session = [n for n in invitations if n.session_id == session.id]
        tags = [f"p{world.anna}", f"p{world.carla}"] + [f"u{t.id}" for t in session.trainers]
        assert sorted(n.key for n in for_session) == sorted(
            f"invitation:{session.id}:{session.revision}:{tag}" for tag in tags
        )
        for note in for_session:
            payload = note.payload
            assert payload["uid"] == session.uid
            assert payload["sequence"] == session.revision == before[session.id][0] + 1
            assert payload["change"]["what"] == "moved"
            assert payload["change"]["before"]["start"].startswith(
                before[session.id][1].isoformat()
            )
            assert payload["start"].startswith(session.first_day.isoformat())
            assert payload["organizer"] == {
                "name": "Muster AG",
                "address": "lernen@muster.example",
            }
            assert payload["from"] == "Muster AG <lernen@muster.example>"
            assert payload["personal_url"] is None
            role = "CHAIR" if note.user_id == world.trainer else "REQ-PARTICIPANT"
            assert payload["attendee"]["role"] == role
            assert payload["attendee"]["address"] == note.address
    # Ben follows his feed: one message in English words naming every session moved.
    [words] = to(notes, participant_id=world.ben)
    assert (words.kind, words.language, words.session_id) == ("text", "en", None)
    assert words.payload["subject"] == "Changes: Herbst"
    assert words.payload["body"].count("\n") >= len(moved)
    assert not to(notes, participant_id=world.dora)


def test_a_refused_move_and_a_preview_record_nothing(client, make, db):
    world = setup(make, db)
    log_in(client, world.planner)
    webinar = world.sessions["webinar"]
    page = f"/cohorts/{world.cohort}/sessions/{webinar}"
    version = db.session.get(Session, webinar).lock_version
    refused = post(
        client, f"{page}/move", {"move-version": version, "move-day": "2027-01-20"}, page
    )
    assert refused.status_code == 303
    preview = post(
        client,
        f"{page}/move/preview",
        {"move-version": version, "move-day": "2027-01-28", "move-pin": "y"},
        page,
    )
    assert preview.status_code == 200
    assert recorded(db) == []
    assert queue.run_pending() == 0


def test_the_same_change_recorded_twice_is_recorded_once(db, make):
    world = setup(make, db)
    cohort = db.session.get(Cohort, world.cohort)
    session = db.session.get(Session, world.sessions["webinar"])
    session.revision += 1
    snapshot = {"first_day": "2027-01-20", "last_day": "2027-01-20", "venue": None}
    announcements.moved(cohort, [(session, snapshot)])
    announcements.moved(cohort, [(session, snapshot)])
    db.session.commit()
    first = len(recorded(db))
    announcements.moved(cohort, [(session, snapshot)])
    db.session.commit()
    assert first == 4 == len(recorded(db))  # Anna, Carla, the trainer; Ben's words


def test_enrolling_invites_to_the_sessions_to_come_only(client, make, db):
    world = setup(make, db, start=date.today() - timedelta(days=21))
    org = db.session.get(Organisation, world.org)
    eva = make.participant(org, first_name="Eva", email="eva@example.org", language="en")
    eva_id = eva.id
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    page = f"/participants/{eva_id}"
    response = post_form(client, f"{page}/enrol", {"cohort": str(world.cohort)}, form_url=page)
    assert response.status_code == 302
    cohort = db.session.get(Cohort, world.cohort)
    now = datetime.now(UTC)
    coming = {
        s.id
        for s in cohort.sessions
        if (s.ends_at > now if s.ends_at else s.last_day >= now.date())
    }
    assert coming
    assert coming != {s.id for s in cohort.sessions}  # some are over
    notes = recorded(db)
    assert {n.session_id for n in notes} == coming
    assert {(n.kind, n.language, n.participant_id) for n in notes} == {
        ("invitation", "en", eva_id)
    }
    assert {n.payload["change"]["what"] for n in notes} == {"enrolled"}
    english = db.session.get(Session, notes[0].session_id).element.title_en
    assert notes[0].payload["title"] == english


def test_a_withdrawal_cancels_and_its_undo_invites_again(client, make, db):
    world = setup(make, db)
    org = db.session.get(Organisation, world.org)
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    enrolment = enrolment_of(db, world.anna)
    done = withdraw(client, world.cohort, enrolment.id, f"/cohorts/{world.cohort}")
    cancellations = recorded(db)
    sessions = db.session.get(Cohort, world.cohort).sessions
    stamp = _UNDO_STAMP.search(client.get(done.headers["Location"]).get_data(as_text=True))
    stamp = stamp.group(1)
    assert sorted(n.key for n in cancellations) == sorted(
        f"cancellation:{s.id}:{s.revision}:p{world.anna}:{stamp}" for s in sessions
    )
    assert {n.payload["change"]["what"] for n in cancellations} == {"withdrawn"}
    token = csrf_token(client, done.headers["Location"])
    client.post(
        f"/cohorts/{world.cohort}/enrolments/{enrolment.id}/undo-withdrawal",
        data={"csrf_token": token, "withdrawn_at": stamp, "back": f"/cohorts/{world.cohort}"},
    )
    again = recorded(db)[len(cancellations) :]
    assert sorted(n.key for n in again) == sorted(
        f"invitation:{s.id}:{s.revision}:p{world.anna}:{stamp}" for s in sessions
    )
    assert {n.payload["change"]["what"] for n in again} == {"enrolled"}


def test_a_feed_follower_withdrawn_is_told_in_words(db, make):
    world = setup(make, db)
    from app.services import enrolments

    enrolments.withdraw(enrolment_of(db, world.ben), None)
    db.session.commit()
    [words] = recorded(db)
    assert (words.kind, words.participant_id, words.language) == ("text", world.ben, "en")


def test_trainers_and_venue_changed_on_the_session_page(client, make, db):
    world = setup(make, db)
    log_in(client, world.planner)
    seminar = world.sessions["kickoff"]
    page = f"/cohorts/{world.cohort}/sessions/{seminar}"
    version = db.session.get(Session, seminar).lock_version
    response = post(
        client,
        f"{page}/details",
        {
            "details-version": version,
            "details-venue": "Bildungszentrum Nord, Raum 2",
            "details-online_link": "",
            "details-trainers": [str(world.other)],
        },
        page,
    )
    assert response.status_code == 302
    session = db.session.get(Session, seminar)
    assert session.revision == 1
    notes = recorded(db)
    by_key = {n.key: n for n in notes}
    added = by_key[f"invitation:{seminar}:1:u{world.other}"]
    assert added.payload["change"]["what"] == "trainer_added"
    assert added.payload["attendee"]["role"] == "CHAIR"
    removed = by_key[f"cancellation:{seminar}:1:u{world.trainer}"]
    assert removed.payload["change"]["what"] == "trainer_removed"
    for person in (world.anna, world.carla):
        details = by_key[f"invitation:{seminar}:1:p{person}"]
        assert details.payload["change"]["what"] == "details"
        assert details.payload["location"] == "Bildungszentrum Nord, Raum 2"
        assert details.payload["change"]["before"]["location"] is None
    [words] = to(notes, participant_id=world.ben)
    assert "Bildungszentrum Nord" in words.payload["body"]
    assert len(notes) == 5


def test_a_session_cancelled_and_restored(client, make, db):
    world = setup(make, db)
    log_in(client, world.planner)
    practice = world.sessions["practice-day"]
    page = f"/cohorts/{world.cohort}/sessions/{practice}"
    version = db.session.get(Session, practice).lock_version
    post(client, f"{page}/cancel", {"status-version": version, "status-confirmed": "yes"}, page)
    cancelled = recorded(db)
    assert sorted(n.key for n in cancelled if n.kind == "cancellation") == sorted(
        f"cancellation:{practice}:1:{tag}"
        for tag in (f"p{world.anna}", f"p{world.carla}", f"u{world.trainer}")
    )
    assert {n.payload["change"]["what"] for n in cancelled if n.kind != "text"} == {"cancelled"}
    version = db.session.get(Session, practice).lock_version
    post(client, f"{page}/restore", {"status-version": version}, page)
    restored = recorded(db)[len(cancelled) :]
    assert sorted(n.key for n in restored if n.kind == "invitation") == sorted(
        f"invitation:{practice}:2:{tag}"
        for tag in (f"p{world.anna}", f"p{world.carla}", f"u{world.trainer}")
    )
    assert {n.kind for n in to(cancelled + restored, participant_id=world.ben)} == {"text"}


def test_a_cohort_cancelled_and_taken_back(client, make, db):
    world = setup(make, db)
    log_in(client, world.planner)
    confirm_cancellation(client, world.cohort)
    notes = recorded(db)
    sessions = db.session.get(Cohort, world.cohort).sessions
    cancellations = [n for n in notes if n.kind == "cancellation"]
    assert len(cancellations) == sum(2 + len(s.trainers) for s in sessions)
    assert {n.payload["change"]["what"] for n in cancellations} == {"cohort_cancelled"}
    [words] = to(notes, participant_id=world.ben)
    assert words.payload["subject"] == "Cancelled: Herbst"
    version = db.session.get(Cohort, world.cohort).lock_version
    post_form(
        client,
        f"/cohorts/{world.cohort}/undo-cancellation",
        {"version": str(version)},
        form_url=f"/cohorts/{world.cohort}",
    )
    again = recorded(db)[len(notes) :]
    invitations = [n for n in again if n.kind == "invitation"]
    assert len(invitations) == len(cancellations)
    assert {n.payload["change"]["what"] for n in invitations} == {"restored"}
    for note in invitations:
        assert note.payload["sequence"] == db.session.get(Session, note.session_id).revision == 2


def test_a_change_of_calendar_choice(db, make):
    world = setup(make, db)
    anna = db.session.get(Participant, world.anna)
    anna.calendar_choice = "feed"
    announcements.choice_changed(anna, "invitations")
    db.session.commit()
    notes = recorded(db)
    assert {(n.kind, n.payload["change"]["what"]) for n in notes} == {
        ("cancellation", "feed_chosen")
    }
    assert all(":choice:" in n.key for n in notes)
    trainer = db.session.get(User, world.trainer)
    trainer.calendar_choice = "both"
    announcements.choice_changed(trainer, "invitations")  # still invitations: nothing
    db.session.commit()
    assert len(recorded(db)) == len(notes)


def test_a_planned_cohort_invites_its_trainers(client, make, db):
    world = setup(make, db)
    from app.services import cohorts
    from app.services.policy import Actor

    planner = db.session.scalar(select(User).where(User.email == world.planner))
    version = db.session.get(Cohort, world.cohort).version_id
    cohort, _ = cohorts.plan_cohort(
        Actor.of_user(planner),
        cohorts.CohortWish(
            organisation_id=world.org,
            version_id=version,
            name="Winter",
            start=date(2027, 2, 1),
            region="DE-BY",
            timezone="Europe/Berlin",
            trainer_ids=[world.other],
        ),
    )
    db.session.commit()
    notes = recorded(db)
    with_trainers = [s for s in cohort.sessions if s.trainers]
    assert sorted(n.key for n in notes) == sorted(
        f"invitation:{s.id}:0:u{world.other}" for s in with_trainers
    )


def test_a_move_arrives_as_an_update_in_the_calendar(client, make, db, app):
    world = setup(make, db)
    log_in(client, world.planner)
    with mail_server(app) as server:
        move(client, db, world)
        assert server.inbox.messages == []  # recorded; the worker sends
        queue.run_pending()
        webinar = db.session.get(Session, world.sessions["webinar"])
        [to_anna] = [
            m
            for m in server.inbox.to("anna@example.org")
            if webinar.element.title_de in str(m["Subject"])
        ]
        calendar_part = next(p for p in to_anna.walk() if p.get_content_type() == "text/calendar")
        assert calendar_part.get_param("method") == "REQUEST"
        calendar = icalendar.Calendar.from_ical(calendar_part.get_content())
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == webinar.uid
        assert int(event["SEQUENCE"]) == webinar.revision == 1
        assert "lernen@muster.example" in str(event["ORGANIZER"])
        assert "anna@example.org" in str(event["ATTENDEE"])
        assert event.decoded("DTSTART").date() == webinar.first_day
        assert "lernen@muster.example" in str(to_anna["From"])
        [to_ben] = server.inbox.to("ben@example.org")
        assert to_ben.get_content_type() == "text/plain"
        assert to_ben["Subject"] == "Changes: Herbst"
        # Five sessions to Anna, Carla and (where there is one) the trainer,
        # one message in words to Ben.
        moved = [s for s in db.session.get(Cohort, world.cohort).sessions if s.revision]
        assert len(server.inbox.messages) == sum(2 + len(s.trainers) for s in moved) + 1
        assert queue.run_pending() == 0


def test_a_cohort_moved_onto_a_fork_tells_what_changed(client, make, db):
    from tests.web.test_fork_moves import move as fork_move
    from tests.web.test_fork_moves import without_reflection
    from tests.web.test_fork_moves import world as fork_world

    ids = fork_world(make, db, change=without_reflection)
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    reflection_id = ids["sessions"]["reflection"][0]
    log_in(client, ids["user"])
    cohort = db.session.get(Cohort, ids["cohort"])
    revisions = {s.id: s.revision for s in cohort.sessions}
    fork_move(client, ids, cohort.lock_version, follow_redirects=True)
    db.session.expire_all()
    cohort = db.session.get(Cohort, ids["cohort"])
    assert cohort.version_id == ids["fork_version"]
    notes = recorded(db)
    assert len({n.key for n in notes}) == len(notes)
    by_session: dict[int, set[str]] = {}
    for note in notes:
        by_session.setdefault(note.session_id, set()).add(
            f"{note.kind}:{note.payload['change'] and note.payload['change']['what']}"
        )
    # The session the fork has no element for is cancelled for both people.
    assert by_session.pop(reflection_id) == {"cancellation:cancelled"}
    assert sorted(n.address for n in to(notes, session_id=reflection_id)) == [
        "p0@example.org",
        "p1@example.org",
    ]
    changed = {s.id for s in cohort.sessions if s.revision != revisions.get(s.id)}
    assert set(by_session) <= changed
    assert all(kinds <= {"invitation:moved", "invitation:None"} for kinds in by_session.values())


def test_a_new_cohort_venue_reaches_the_sessions_that_use_it(db, make):
    from app.services import cohorts
    from app.services.policy import Actor

    world = setup(make, db)
    cohort = db.session.get(Cohort, world.cohort)
    kickoff = db.session.get(Session, world.sessions["kickoff"])
    kickoff.venue = "Eigener Raum"  # keeps its own venue
    db.session.commit()
    cohorts.change_cohort(
        Actor.system(),
        world.cohort,
        name=cohort.name,
        capacity=None,
        venue="Haus am See",
        online_link=None,
        version=cohort.lock_version,
    )
    db.session.commit()
    notes = recorded(db)
    in_person = {
        s.id for s in cohort.sessions if s.mode in ("in_person", "either") and not s.venue
    }
    assert in_person
    assert {n.session_id for n in notes if n.kind == "invitation"} == in_person
    for note in notes:
        if note.kind == "invitation":
            assert note.payload["location"] == "Haus am See"
            assert note.payload["change"] == {
                "what": "details",
                "before": note.payload["change"]["before"] | {"location": None},
            }
            session = db.session.get(Session, note.session_id)
            assert note.payload["sequence"] == session.revision == 1
    assert db.session.get(Session, world.sessions["kickoff"]).revision == 0


def test_enrolling_many_at_once_invites_each(db, make):
    from app.services import bulk
    from app.services.policy import Actor

    world = setup(make, db)
    org = db.session.get(Organisation, world.org)
    other = make.cohort(org, key="blended", start=date(2027, 3, 1), region="DE-BY", name="B")
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    bulk.enrol(Actor.system(), other.id, [world.anna, world.ben], acknowledge=True)
    db.session.commit()
    notes = recorded(db)
    # Anna takes invitations; Ben follows his feed, which shows the new cohort.
    assert {n.participant_id for n in notes} == {world.anna}
    assert len(notes) == len(other.sessions)


def test_planning_again_from_a_new_start_updates_every_moved_session(db, make):
    from app.services import sessions as session_service
    from app.services.policy import Actor

    world = setup(make, db)
    cohort = db.session.get(Cohort, world.cohort)
    moved, _ = session_service.replan(
        Actor.system(),
        world.cohort,
        date(2027, 2, 1),
        version=cohort.lock_version,
        now=datetime.now(UTC),
    )
    db.session.commit()
    assert moved
    notes = recorded(db)
    invitations = [n for n in notes if n.kind == "invitation"]
    assert {n.session_id for n in invitations} == {m.session.id for m in moved}
    for note in invitations:
        session = db.session.get(Session, note.session_id)
        assert note.key.startswith(f"invitation:{session.id}:{session.revision}:")
        assert note.payload["sequence"] == session.revision == 1
        assert note.payload["change"]["what"] == "moved"
    assert len(to(notes, participant_id=world.ben)) == 1
