"""The JSON API as an HR system uses it: tokens, organisations, roles, errors,
pages, and writes that go through the same rules as the pages."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AttendanceChange, Certificate, Organisation, Participant
from tests.web.helpers import csrf_token, log_in, post_form

API = "/api/v1"


def test_without_a_valid_token_nothing_is_answered(client, world):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eA=="}):
        response = client.get(f"{API}/cohorts", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["error"]["code"] == "unauthorized"


def test_the_login_cookie_is_not_a_key_to_the_api(client, world):
    log_in(client, "hr@eigene.example")
    assert client.get("/dashboard").status_code == 200
    assert client.get(f"{API}/cohorts").status_code == 401


def test_a_token_sees_its_own_organisation_only(call, world):
    listing = call("GET", f"{API}/cohorts").json
    assert [c["id"] for c in listing["items"]] == [world["cohort"]]
    assert listing["total"] == 1
    assert [o["name"] for o in call("GET", f"{API}/organisations").json] == ["Eigene GmbH"]
    for url in (
        f"/cohorts/{world['foreign_cohort']}",
        f"/cohorts/{world['foreign_cohort']}/sessions",
        f"/participants/{world['stranger']}",
        f"/cohorts/{world['foreign_cohort']}/certificates",
    ):
        response = call("GET", API + url)
        assert response.status_code == 404, url
        assert response.json["error"] == {
            "status": 404,
            "code": "not_found",
            "message": "Not found.",
            "details": {},
        }


def test_lists_come_in_pages(call, make, world, db):

    organisation = db.session.get(Organisation, world["organisation"])
    for number in range(5):
        make.participant(organisation, last_name=f"Zeller{number}")
    first = call("GET", f"{API}/participants?per_page=3").json
    second = call("GET", f"{API}/participants?per_page=3&page=2").json
    assert (first["total"], len(first["items"]), len(second["items"])) == (7, 3, 3)
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}
    found = call("GET", f"{API}/participants?q=albers").json["items"]
    assert [p["last_name"] for p in found] == ["Albers"]
    wrong = call("GET", f"{API}/participants?per_page=1000")
    assert wrong.status_code == 422
    assert "per_page" in wrong.json["error"]["details"]["query"]


def test_hr_adds_and_enrols_a_person_with_the_pages_rules(call, world, db):
    created = call(
        "POST",
        f"{API}/participants",
        json={"first_name": "Cem", "last_name": "Çelik", "email": "CEM@eigene.example"},
    )
    assert created.status_code == 201
    assert created.json["email"] == "cem@eigene.example"
    again = call(
        "POST",
        f"{API}/participants",
        json={"first_name": "Cem", "last_name": "C", "email": "cem@eigene.example"},
    )
    assert again.status_code == 409
    invalid = call("POST", f"{API}/participants", json={"first_name": "", "email": 3})
    assert invalid.status_code == 422
    assert set(invalid.json["error"]["details"]["json"]) == {"first_name", "last_name", "email"}

    url = f"{API}/cohorts/{world['cohort']}/enrolments"
    for person in (world["ben"], created.json["id"]):
        assert call("POST", url, json={"participant_id": person}).status_code == 201
    # The cohort has three places, and they are taken.
    extra = call(
        "POST",
        f"{API}/participants",
        json={"first_name": "Dora", "last_name": "Dietz", "email": "dora@eigene.example"},
    ).json["id"]
    full = call("POST", url, json={"participant_id": extra})
    assert full.status_code == 409
    assert "full" in full.json["error"]["message"]
    foreign = call("POST", url, json={"participant_id": world["stranger"]})
    assert foreign.status_code == 404
    assert len(call("GET", url).json) == 3


def test_roles_decide_what_a_token_may_change(call, world, db):
    body = {"first_name": "X", "last_name": "Y", "email": "x@eigene.example"}
    cert = {"participant_id": world["anna"]}
    mark = {"mark": "present"}
    session, anna = world["sessions"][0], world["anna"]
    mark_url = f"{API}/cohorts/{world['cohort']}/attendance/{session}/{anna}"
    assert call("PUT", mark_url, "hr", json=mark).status_code == 403
    assert (
        call(
            "POST", f"{API}/cohorts/{world['cohort']}/certificates", "trainer", json=cert
        ).status_code
        == 403
    )
    assert call("POST", f"{API}/participants", "consultant", json=body).status_code == 201
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_a_trainer_records_attendance_and_hr_issues_and_revokes(call, world, held, db):
    cohort, mia, sessions = held["cohort"], held["mia"], held["sessions"]
    changes_before = db.session.scalar(select(func.count(AttendanceChange.id)))
    marks_before = len(call("GET", f"{API}/cohorts/{cohort}/attendance").json)
    for session in sessions:
        response = call(
            "PUT",
            f"{API}/cohorts/{cohort}/attendance/{session}/{mia}",
            "trainer",
            json={"mark": "present"},
        )
        assert response.status_code == 200
        assert response.json["mark"] == "present"
    changes = db.session.scalar(select(func.count(AttendanceChange.id)))
    assert changes - changes_before == len(sessions)
    impossible = call(
        "PUT",
        f"{API}/cohorts/{cohort}/attendance/{sessions[0]}/{mia}",
        "trainer",
        json={"mark": "done"},
    )
    assert impossible.status_code == 409
    assert impossible.json["error"]["code"] == "mark_not_for_session"
    marks = call("GET", f"{API}/cohorts/{cohort}/attendance").json
    assert len(marks) - marks_before == len(sessions)

    issued = call("POST", f"{API}/cohorts/{cohort}/certificates", json={"participant_id": mia})
    assert issued.status_code == 201
    assert issued.json["state"] == "valid"
    assert issued.json["serial"] == 2  # after Hanna's
    twice = call("POST", f"{API}/cohorts/{cohort}/certificates", json={"participant_id": mia})
    assert twice.status_code == 409
    assert "already" in twice.json["error"]["message"]
    revoked = call(
        "POST", f"{API}/certificates/{issued.json['id']}/revoke", json={"reason": "Irrtum"}
    )
    assert revoked.status_code == 200
    assert revoked.json["state"] == "revoked"
    assert call("GET", f"/verify/{issued.json['code']}").status_code == 410


def test_partly_takes_the_minutes_as_the_grid_does(call, held, db):
    url = f"{API}/cohorts/{held['cohort']}/attendance/{held['timed']}/{held['mia']}"

    def put(body):
        return call("PUT", url, "trainer", json=body)

    # Left out, the usual 30 minutes, as a tap on partly in the grid.
    assert put({"mark": "partly"}).json["minutes_missed"] == 30
    assert put({"mark": "partly", "minutes_missed": 45}).json["minutes_missed"] == 45

    def refused(mark, minutes, lowest):
        answer = put({"mark": mark, "minutes_missed": minutes})
        assert answer.status_code == 422, minutes
        message = f"The minutes missed lie between {lowest} and 600."
        assert answer.json["error"] == {
            "status": 422,
            "code": "invalid_minutes",
            "message": message,
            "details": {"minutes_missed": [message]},
        }

    changes = db.session.scalar(select(func.count(AttendanceChange.id)))
    for minutes in (0, -5, 601):
        refused("partly", minutes, 1)
    # 0 is not taken as 30: nothing changed.
    assert db.session.scalar(select(func.count(AttendanceChange.id))) == changes
    marks = call("GET", f"{API}/cohorts/{held['cohort']}/attendance").json
    [mia] = [m for m in marks if m["participant_id"] == held["mia"]]
    assert (mia["mark"], mia["minutes_missed"]) == ("partly", 45)
    # Another mark misses no time: 0 to 600 is fine there, and nothing is kept.
    for minutes in (0, 600):
        present = put({"mark": "present", "minutes_missed": minutes})
        assert (present.status_code, present.json["minutes_missed"]) == (200, 0), minutes
    changes = db.session.scalar(select(func.count(AttendanceChange.id)))
    for minutes in (-1, 601):
        refused("absent", minutes, 0)
    assert db.session.scalar(select(func.count(AttendanceChange.id))) == changes
    marks = call("GET", f"{API}/cohorts/{held['cohort']}/attendance").json
    [mia] = [m for m in marks if m["participant_id"] == held["mia"]]
    assert (mia["mark"], mia["minutes_missed"]) == ("present", 0)


def test_published_versions_are_readable_and_drafts_are_not(call, world):
    listing = call("GET", f"{API}/curricula").json
    compact = next(c for c in listing["items"] if c["key"] == "compact")
    version = compact["versions"][-1]
    detail = call("GET", f"{API}/curricula/{compact['id']}/versions/{version['id']}").json
    assert detail["source"].startswith("#") or "[[element]]" in detail["source"]
    assert [e["key"] for e in detail["elements"]] == ["seminar-1", "seminar-2", "reflection"]
    assert (
        call("PUT", f"{API}/curricula/{compact['id']}/versions/{version['id']}").status_code == 405
    )


def test_tokens_are_made_and_revoked_by_their_owner_and_stored_as_hashes(client, world, db):
    from app.models import AccessToken

    log_in(client, "trainer@eigene.example")
    page = post_form(
        client,
        "/me/api-tokens",
        {"organisation": world["organisation"]},
        form_url="/me/api-tokens",
    )
    token = page.get_data(as_text=True).split('id="new-token" type="text" readonly value="')[1]
    token = token.split('"')[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/cohorts", headers=headers).status_code == 200
    assert db.session.scalar(select(AccessToken).where(AccessToken.token_hash == token)) is None
    record = db.session.scalars(select(AccessToken).order_by(AccessToken.id.desc())).first()
    form = {"csrf_token": csrf_token(client, "/me/api-tokens")}
    assert client.post(f"/me/api-tokens/{record.id}/revoke", data=form).status_code == 302
    assert client.get(f"{API}/cohorts", headers=headers).status_code == 401
    # Someone else's token cannot be revoked from here.
    stranger = db.session.scalars(
        select(AccessToken).where(AccessToken.subject_id != record.subject_id)
    ).first()
    form = {"csrf_token": csrf_token(client, "/me/api-tokens")}
    assert client.post(f"/me/api-tokens/{stranger.id}/revoke", data=form).status_code == 404


def test_a_removed_member_loses_api_access(call, world, db):
    from app.models import User

    hr = db.session.scalar(select(User).where(User.email == "hr@eigene.example"))
    hr.organisations = []
    db.session.commit()
    assert call("GET", f"{API}/cohorts").status_code == 401
    assert db.session.scalar(select(func.count(Participant.id))) >= 3
