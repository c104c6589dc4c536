"""Attendance in the room: one tap per mark, saved at once, every change on
record; who is eligible for the certificate and why not."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AttendanceChange, AttendanceRecord, Enrolment, Role
from cohorts.eligibility import Mark
from tests.web.helpers import csrf_token, log_in

TODAY = date.today()
# A Monday long enough ago that every session of the compact format has taken place.
START = TODAY - timedelta(days=TODAY.weekday(), weeks=20)


def enrolled_since(cohort_id, day):
    """Enrolments of the cohort date from `day` (the factory enrols now)."""
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.cohort_id == cohort_id)
        .values(enrolled_at=datetime.combine(day, time(8), tzinfo=UTC))
    )
    db.session.commit()


def setup(make, start=START):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org", name="Tina Trainerin")
    make.user(Role.TRAINER, [org], email="trainer@example.org", name="Tom Trainer")
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, start=start, region="DE-BW")
    anna = make.participant(org, cohort=cohort, first_name="Anna", last_name="Albers")
    ben = make.participant(org, cohort=cohort, first_name="Ben", last_name="Bauer")
    enrolled_since(cohort.id, start - timedelta(weeks=2))
    sessions = {s.element.key: s.id for s in cohort.sessions}
    return SimpleNamespace(id=cohort.id, anna=anna.id, ben=ben.id, sessions=sessions, org=org)


def tap(client, c, key, person, mark, *, json=False, minutes=None):
    page = f"/cohorts/{c.id}/attendance"
    data = {"csrf_token": csrf_token(client, page), "mark": mark}
    if minutes is not None:
        data["minutes"] = minutes
    headers = {"Accept": "application/json"} if json else {}
    url = f"{page}/{c.sessions[key]}/{person}"
    return client.post(url, data=data, headers=headers, follow_redirects=not json)


def mark_of(db, c, key, person):
    db.session.expire_all()
    record = db.session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.session_id == c.sessions[key],
            AttendanceRecord.participant_id == person,
        )
    )
    return record.mark if record else None


def test_any_mark_is_one_tap_from_any_state_and_the_answer_carries_the_counters(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    page = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    # A segment per mark, named for a screen reader by person, session and mark.
    cell = f"{c.sessions['seminar-1']}-{c.anna}"
    for word in ("anwesend", "teilweise", "entschuldigt", "abwesend"):
        assert f'aria-label="Anna Albers, Seminartag 1: {word}"' in page
    assert page.count(f'name="m-{cell}"') == 4
    assert f'<input type="hidden" name="was-{cell}" value="not_recorded">' in page

    absent = tap(client, c, "seminar-1", c.anna, "absent", json=True)
    assert absent.json["mark"] == "absent"
    assert absent.json["session"]["present"] == 0
    response = tap(client, c, "seminar-1", c.anna, "present", json=True)  # absent → present
    assert response.status_code == 200
    assert response.json == {
        "mark": "present",
        "minutes": 0,
        "status": "✓ anwesend",
        "session": {"present": 1, "expected": 2, "title": "1 von 2 anwesend"},
        "cohort": {"eligible": 0, "people": 2, "text": "0 von 2 erfüllen die Regel bisher"},
        "person": {"eligible": False, "text": response.json["person"]["text"]},
    }
    assert response.json["person"]["text"].startswith("fehlt: Seminartag 2")
    assert mark_of(db, c, "seminar-1", c.anna) is Mark.PRESENT
    page = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    assert f'name="m-{cell}" value="present" checked' in page
    assert "✓ anwesend" in page


def tap_seen(client, c, key, person, mark, seen):
    page = f"/cohorts/{c.id}/attendance"
    return client.post(
        f"{page}/{c.sessions[key]}/{person}",
        data={"csrf_token": csrf_token(client, page), "mark": mark, "was": seen},
        headers={"Accept": "application/json"},
    )


def test_a_mark_changed_by_someone_else_meanwhile_is_not_overwritten(client, make, db):
    c = setup(make)
    log_in(client, "trainer@example.org")
    tap(client, c, "seminar-1", c.anna, "excused")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainerin@example.org")
    # Her page still showed the cell open when she tapped.
    refused = tap_seen(client, c, "seminar-1", c.anna, "absent", "not_recorded")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "mark_changed"
    assert refused.json["error"]["message"] == (
        "in der Zwischenzeit hat Tom Trainer diesen Eintrag auf „entschuldigt“ gesetzt; "
        "Ihrer wurde nicht gespeichert"
    )
    assert refused.json["current"]["mark"] == "excused"
    assert refused.json["current"]["status"] == "E entschuldigt"
    assert mark_of(db, c, "seminar-1", c.anna) is Mark.EXCUSED
    assert db.session.scalar(select(func.count(AttendanceChange.id))) == 1


def test_a_tap_sent_again_after_its_answer_was_lost_is_saved_once(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    first = tap_seen(client, c, "seminar-1", c.anna, "partly", "not_recorded")
    again = tap_seen(client, c, "seminar-1", c.anna, "partly", "not_recorded")
    assert first.status_code == again.status_code == 200
    assert again.json["minutes"] == 30
    assert again.json["status"] == "◐ teilweise (30 Min. verpasst)"
    assert db.session.scalar(select(func.count(AttendanceChange.id))) == 1


def test_without_script_the_grid_is_one_form_that_saves_what_was_changed(client, make, db):
    c = setup(make)
    log_in(client, "trainer@example.org")
    tap(client, c, "seminar-2", c.ben, "excused")  # after the other page was loaded
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainerin@example.org")
    page = f"/cohorts/{c.id}/attendance"
    one, two = c.sessions["seminar-1"], c.sessions["seminar-2"]
    form = {
        "csrf_token": csrf_token(client, page),
        f"was-{one}-{c.anna}": "not_recorded",
        f"m-{one}-{c.anna}": "absent",
        f"was-{one}-{c.ben}": "not_recorded",
        f"m-{one}-{c.ben}": "partly",
        f"min-{one}-{c.ben}": "50",
        f"was-{two}-{c.anna}": "not_recorded",  # left as it was
        f"was-{two}-{c.ben}": "not_recorded",
        f"m-{two}-{c.ben}": "present",  # Tom set "excused" meanwhile
    }
    response = client.post(page, data=form, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "2 Einträge gespeichert." in text
    assert (
        "Ben Bauer, Seminartag 2: Der Prozess der Lernbegleitung: in der Zwischenzeit hat "
        "Tom Trainer diesen Eintrag auf „entschuldigt“ gesetzt; Ihrer wurde nicht gespeichert."
    ) in text
    assert mark_of(db, c, "seminar-1", c.anna) is Mark.ABSENT
    assert mark_of(db, c, "seminar-2", c.anna) is None
    assert mark_of(db, c, "seminar-2", c.ben) is Mark.EXCUSED
    record = db.session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.session_id == one, AttendanceRecord.participant_id == c.ben
        )
    )
    assert (record.mark, record.minutes_missed) == (Mark.PARTLY, 50)
    # A rule refuses the whole form: nothing of it is kept.
    form[f"was-{one}-{c.anna}"] = "absent"
    form[f"m-{one}-{c.anna}"] = "done"
    refused = client.post(
        page,
        data={**form, "csrf_token": csrf_token(client, page)},
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )
    assert "flash error refused-mark_not_for_session" in refused.get_data(as_text=True)
    assert mark_of(db, c, "seminar-1", c.anna) is Mark.ABSENT


def test_two_trainers_on_the_same_cell_both_stay_on_record(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    tap(client, c, "seminar-1", c.anna, "present")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainer@example.org")
    tap(client, c, "seminar-1", c.anna, "absent")  # from a page loaded before the first tap
    assert mark_of(db, c, "seminar-1", c.anna) is Mark.ABSENT
    changes = db.session.scalars(select(AttendanceChange).order_by(AttendanceChange.id)).all()
    assert [(ch.user.name, ch.before_mark, ch.after_mark) for ch in changes] == [
        ("Tina Trainerin", Mark.NOT_RECORDED, Mark.PRESENT),
        ("Tom Trainer", Mark.PRESENT, Mark.ABSENT),
    ]


def test_partly_present_keeps_the_minutes_and_bad_marks_change_nothing(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    tap(client, c, "seminar-1", c.ben, "partly", minutes="45")
    db.session.expire_all()
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.mark, record.minutes_missed) == (Mark.PARTLY, 45)
    for mark, minutes, status, code in (
        ("done", None, 409, "mark_not_for_session"),
        ("maybe", None, 422, "invalid_mark"),
        ("partly", "-5", 422, "invalid_minutes"),
        ("partly", "x", 422, "invalid_minutes"),
        ("partly", "601", 422, "invalid_minutes"),
    ):
        refused = tap(client, c, "seminar-1", c.ben, mark, json=True, minutes=minutes)
        assert refused.status_code == status
        assert refused.json["error"]["code"] == code
        assert refused.json["error"]["message"]
    db.session.expire_all()
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.mark, record.minutes_missed) == (Mark.PARTLY, 45)


def test_all_present_fills_only_what_is_open(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    tap(client, c, "seminar-2", c.ben, "excused")
    page = f"/cohorts/{c.id}/attendance"
    response = client.post(
        f"{page}/{c.sessions['seminar-2']}/all-present",
        data={"csrf_token": csrf_token(client, page)},
        follow_redirects=True,
    )
    assert "1 Eintrag gesetzt." in response.get_data(as_text=True)
    assert mark_of(db, c, "seminar-2", c.anna) is Mark.PRESENT
    assert mark_of(db, c, "seminar-2", c.ben) is Mark.EXCUSED
    assert "1/2" in response.get_data(as_text=True)  # the session's rate, no names


def test_someone_enrolled_later_is_not_expected_and_not_counted(client, make, db):
    c = setup(make)
    late = make.participant(c.org, first_name="Carla", last_name="Clausen")
    db.session.add(
        Enrolment(
            cohort_id=c.id,
            participant=late,
            enrolled_at=datetime.combine(START + timedelta(days=4), time(8), tzinfo=UTC),
        )
    )
    db.session.commit()
    log_in(client, "trainerin@example.org")
    page = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    row = page[page.index("Carla Clausen") :]
    row = row[: row.index("</tr>")]
    assert row.count("– nicht erwartet") == 2  # both seminar days were before her enrolment
    assert "vor der Einschreibung; in einer anderen Gruppe nachzuholen" in page


def test_eligibility_with_reasons_and_hr_sees_but_does_not_record(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    for key in ("seminar-1", "seminar-2", "reflection"):
        tap(client, c, key, c.anna, "present")
    tap(client, c, "seminar-1", c.ben, "present")
    tap(client, c, "seminar-2", c.ben, "present")
    tap(client, c, "reflection", c.ben, "absent")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "hr@example.org")
    page = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    assert '<strong>Anna Albers</strong>: <span class="tag">berechtigt</span>' in page
    assert "<strong>Ben Bauer</strong>: fehlt: Reflexionstag" in page
    assert "(abwesend am " in page
    assert "1 von 2 erfüllen die Regel bisher" in page
    assert 'class="mark"' not in page  # no buttons for HR
    refused = tap(client, c, "reflection", c.ben, "present")
    assert refused.status_code == 403
    assert mark_of(db, c, "reflection", c.ben) is Mark.ABSENT


def test_participants_mark_their_own_self_study_done(client, make, db):
    from datetime import timedelta

    from app.models import Purpose
    from app.services import tokens

    org = make.organisation()
    today = date.today()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=8)
    cohort = make.cohort(org, key="blended", start=start, region="DE-BW")
    dora = make.participant(org, cohort=cohort, first_name="Dora")
    phases = sorted((s for s in cohort.sessions if s.all_day), key=lambda s: s.first_day)
    started = phases[0].id
    later = make.cohort(org, key="blended", start=today + timedelta(weeks=10), name="Später")
    future = next(s.id for s in later.sessions if s.all_day)
    make.participant(org, cohort=later, first_name="Dora", email="dora2@example.org")
    enrolled_since(cohort.id, start - timedelta(weeks=1))
    token = tokens.issue(Purpose.PERSONAL_PAGE, dora.id, org.id, None)
    db.session.commit()
    dora_id, page = dora.id, f"/p/{token}"
    csrf = csrf_token(client, page)
    done = client.post(
        f"{page}/sessions/{started}/self-study",
        data={"csrf_token": csrf, "done": "1"},
        follow_redirects=True,
    )
    assert "Vermerkt, danke." in done.get_data(as_text=True)
    assert "✓ erledigt" in done.get_data(as_text=True)
    db.session.expire_all()
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.participant_id, record.mark) == (dora_id, Mark.DONE)
    # Someone else's session, and a guessed link, find nothing.
    assert (
        client.post(f"{page}/sessions/{future}/self-study", data={"csrf_token": csrf}).status_code
        == 404
    )
    guessed = client.post(
        f"/p/not-a-token/sessions/{started}/self-study", data={"csrf_token": csrf}
    )
    assert guessed.status_code == 404


def test_a_missed_element_made_up_in_another_cohort_counts_for_the_own(client, make, db):
    c = setup(make)
    other = make.cohort(c.org, start=START + timedelta(weeks=1), region="DE-BW", name="Gruppe 2")
    other_reflection = next(s.id for s in other.sessions if s.element.key == "reflection")
    other_id = other.id
    log_in(client, "trainerin@example.org")
    for key in ("seminar-1", "seminar-2"):
        tap(client, c, key, c.anna, "present")
    tap(client, c, "reflection", c.anna, "excused")
    own = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    assert "<strong>Anna Albers</strong>: fehlt: Reflexionstag" in own

    page = f"/cohorts/{other_id}/attendance"
    grid = client.get(page).get_data(as_text=True)
    assert 'name="guest"' not in grid  # no list of everyone: a search
    found = client.get(f"{page}?guests={other_reflection}&q=anna alb").get_data(as_text=True)
    assert f'value="{c.anna}:{c.id}"' in found  # offered as a guest
    response = client.post(
        f"{page}/{other_reflection}/guests",
        data={"csrf_token": csrf_token(client, page), "guest": f"{c.anna}:{c.id}"},
        follow_redirects=True,
    )
    assert "Anna Albers hat Reflexionstag" in response.get_data(as_text=True)
    assert "Anna Albers (Gruppe 1): ✓ anwesend" in response.get_data(as_text=True)
    own = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    assert '<strong>Anna Albers</strong>: <span class="tag">berechtigt</span>' in own
    # Nobody can be slipped in who is not on the list.
    before = db.session.scalar(select(func.count(AttendanceRecord.id)))
    refused = client.post(
        f"{page}/{other_reflection}/guests",
        data={"csrf_token": csrf_token(client, page), "guest": "999:999"},
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )
    assert "flash error refused-not_a_guest" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AttendanceRecord.id))) == before


def test_guests_are_found_by_name_twenty_at_most_and_only_from_open_cohorts(client, make, db):
    from app.models import Cohort, CohortState

    c = setup(make)
    other = make.cohort(c.org, start=START + timedelta(weeks=1), region="DE-BW", name="Gruppe 2")
    done = make.cohort(c.org, start=START + timedelta(weeks=2), region="DE-BW", name="Gruppe 3")
    for n in range(25):
        make.participant(c.org, cohort=other, first_name=f"Gast{n:02}", last_name="Gärtner")
    make.participant(c.org, cohort=other, first_name="Jörg", last_name="Müller")
    make.participant(c.org, cohort=done, first_name="Gast99", last_name="Gärtner")
    db.session.get(Cohort, done.id).state = CohortState.COMPLETED
    db.session.commit()
    log_in(client, "trainerin@example.org")
    page = f"/cohorts/{c.id}/attendance?guests={c.sessions['reflection']}"
    found = client.get(f"{page}&q=gaertner").get_data(as_text=True)
    assert found.count('name="guest"') == 20
    assert "Gast00 Gärtner (Gruppe 2)" in found
    assert "Gast20 Gärtner" not in found
    assert "Es passen mehr Personen; die ersten 20 werden gezeigt." in found
    assert "Gast99" not in client.get(f"{page}&q=gast99").get_data(as_text=True)
    assert "Jörg Müller (Gruppe 2)" in client.get(f"{page}&q=muller").get_data(as_text=True)
    nobody = client.get(f"{page}&q=niemand").get_data(as_text=True)
    assert (
        "Niemand aus einer anderen offenen Gruppe mit diesem Element passt zu „niemand“." in nobody
    )


def minutes_of(db, c, key, person):
    db.session.expire_all()
    return db.session.scalar(
        select(AttendanceRecord.minutes_missed).where(
            AttendanceRecord.session_id == c.sessions[key],
            AttendanceRecord.participant_id == person,
        )
    )


def test_partly_takes_1_to_600_minutes_typed_and_30_when_none_is_typed(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    page = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    # The field and the message the grid shows at the cell agree with the server.
    assert 'min="1" max="600"' in page
    assert 'data-minutes-range="Die verpassten Minuten liegen zwischen 1 und 600."' in page
    tapped = tap(client, c, "seminar-1", c.ben, "partly", json=True, minutes="")
    assert tapped.json["minutes"] == 30  # a tap on partly: the usual 30 minutes
    for typed in ("0", "700", "-1"):
        refused = tap(client, c, "seminar-1", c.ben, "partly", json=True, minutes=typed)
        assert refused.status_code == 422, typed
        assert refused.json["error"]["code"] == "invalid_minutes"
        assert refused.json["error"]["message"] == (
            "die verpassten Minuten liegen zwischen 1 und 600"
        )
        assert minutes_of(db, c, "seminar-1", c.ben) == 30  # unchanged, 0 not taken as 30
    assert (
        tap(client, c, "seminar-1", c.ben, "partly", json=True, minutes="1").json["minutes"] == 1
    )
    # For another mark the minutes do not count: 0 is fine there.
    assert tap(client, c, "seminar-1", c.ben, "absent", json=True, minutes="0").status_code == 200


def test_without_script_0_minutes_for_partly_is_refused_and_nothing_is_saved(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    tap(client, c, "seminar-1", c.ben, "partly", minutes="45")
    page = f"/cohorts/{c.id}/attendance"
    one = c.sessions["seminar-1"]
    refused = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            f"was-{one}-{c.anna}": "not_recorded",
            f"m-{one}-{c.anna}": "present",
            f"was-{one}-{c.ben}": "partly",
            f"m-{one}-{c.ben}": "partly",
            f"min-{one}-{c.ben}": "0",
        },
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )
    text = refused.get_data(as_text=True)
    assert "Die verpassten Minuten liegen zwischen 1 und 600." in text
    assert "Traceback" not in text
    assert minutes_of(db, c, "seminar-1", c.ben) == 45
    assert mark_of(db, c, "seminar-1", c.anna) is None


def test_minutes_sent_with_another_mark_are_ignored_up_to_600(client, make, db):
    c = setup(make)
    log_in(client, "trainerin@example.org")
    tap(client, c, "seminar-1", c.ben, "partly", minutes="45")
    page = f"/cohorts/{c.id}/attendance"
    one = c.sessions["seminar-1"]

    def send(minutes):
        # Ben's cell still holds the partly mark's minutes field when set present.
        return client.post(
            page,
            data={
                "csrf_token": csrf_token(client, page),
                f"was-{one}-{c.anna}": "not_recorded",
                f"m-{one}-{c.anna}": "absent",
                f"was-{one}-{c.ben}": "partly",
                f"m-{one}-{c.ben}": "present",
                f"min-{one}-{c.ben}": minutes,
            },
            headers={"Referer": f"http://localhost{page}"},
            follow_redirects=True,
        ).get_data(as_text=True)

    for minutes in ("601", "-1"):
        text = send(minutes)
        assert "Die verpassten Minuten liegen zwischen 0 und 600." in text, minutes
        assert "Traceback" not in text
        assert (mark_of(db, c, "seminar-1", c.ben), minutes_of(db, c, "seminar-1", c.ben)) == (
            Mark.PARTLY,
            45,
        )
        assert mark_of(db, c, "seminar-1", c.anna) is None
    assert "2 Einträge gespeichert." in send("600")
    assert (mark_of(db, c, "seminar-1", c.ben), minutes_of(db, c, "seminar-1", c.ben)) == (
        Mark.PRESENT,
        0,
    )
    assert mark_of(db, c, "seminar-1", c.anna) is Mark.ABSENT


def test_an_open_cell_set_open_again_is_no_error(client, make, db):
    """An undo of "all present" whose mark never reached the server sends
    "open" for a cell that has no record: answered, not a server error."""
    c = setup(make)
    log_in(client, "trainerin@example.org")
    response = tap_seen(client, c, "seminar-1", c.anna, "not_recorded", "not_recorded")
    assert response.status_code == 200
    assert response.json["mark"] == "not_recorded"
    assert mark_of(db, c, "seminar-1", c.anna) in (None, Mark.NOT_RECORDED)


def test_all_present_and_its_undo_are_taps_of_the_cells_with_the_script(client, make, db):
    """The script marks each open cell of the column as one tap, carrying the
    mark it saw; its undo sets them open again, except a cell someone
    changed since. Without the script the button sends its plain form."""
    c = setup(make)
    log_in(client, "trainerin@example.org")
    page = client.get(f"/cohorts/{c.id}/attendance").get_data(as_text=True)
    two = c.sessions["seminar-2"]
    assert f'form="all-present-{two}" data-all="{two}" data-mark="present"' in page
    assert f'<form id="all-present-{two}" method="post"' in page
    assert 'id="attendance-bulk"' in page
    assert ">Rückgängig</button>" in page
    for person in (c.anna, c.ben):
        assert (
            tap_seen(client, c, "seminar-2", person, "present", "not_recorded").status_code == 200
        )
    # Tom marks Ben excused meanwhile; the undo leaves his mark.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainer@example.org")
    tap(client, c, "seminar-2", c.ben, "excused")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainerin@example.org")
    assert tap_seen(client, c, "seminar-2", c.anna, "not_recorded", "present").status_code == 200
    refused = tap_seen(client, c, "seminar-2", c.ben, "not_recorded", "present")
    assert refused.status_code == 409
    assert refused.json["current"]["mark"] == "excused"
    assert mark_of(db, c, "seminar-2", c.anna) is Mark.NOT_RECORDED
    assert mark_of(db, c, "seminar-2", c.ben) is Mark.EXCUSED
