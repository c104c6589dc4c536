import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.models import Change, Cohort, CohortState, Organisation, Role, Session, SessionStatus
from cohorts.calendar import WorkingCalendar
from tests.web.helpers import log_in, post_form


def planner(make, role=Role.TRAINER):
    """An organisation's id and the e-mail of a user of `role` in it."""
    org = make.organisation("Muster AG")
    user = make.user(role, [org], email=f"{role.value}@example.org", name="Petra Plan")
    return org.id, user.email


def cohort_form(org_id, version_id, **changes):
    data = {
        "organisation": str(org_id),
        "version": str(version_id),
        "name": "Frühjahr 2027",
        "start": "2027-05-26",
        "region": "DE-BW",
        "timezone": "Europe/Berlin",
        "delivery": "in_person",
        "venue": "Schulungszentrum, Raum 1",
        "online_link": "",
        "capacity": "20",
        "closures": "",
    }
    data.update(changes)
    return data


def test_plan_a_cohort_in_the_browser(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    response = post_form(client, "/cohorts/new", cohort_form(org, version), follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Die Gruppe wurde geplant." in page
    # Fronleichnam 2027 in DE-BW lies between the two seminar days: the note says so.
    assert "Do. 27.05.2027 ist ein Feiertag (Fronleichnam)" in page
    assert "Mi. 26.05.2027" in page
    assert "Fr. 28.05.2027" in page
    assert "hat die Gruppe geplant" in page
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Frühjahr 2027"))
    assert [s.first_day for s in cohort.sessions][:2] == [date(2027, 5, 26), date(2027, 5, 28)]


def test_the_holiday_of_a_note_is_named_in_english_on_the_english_page(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    client.get("/?lang=en")
    response = post_form(client, "/cohorts/new", cohort_form(org, version), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Thu 27 May 2027 is a public holiday (Corpus Christi)" in page
    assert "Fronleichnam" not in page


def test_bad_input_is_named_and_nothing_is_saved(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    for changes, expected in (
        ({"region": "DE-XX"}, "Bitte eine Region aus der Liste wählen."),
        ({"timezone": "Berlin"}, "Bitte eine Zeitzone aus der Liste wählen."),
        ({"closures": "32.12.2027"}, "„32.12.2027“ ist kein Datum wie 24.12.2027"),
        ({"name": ""}, "Dieses Feld wird benötigt."),
        ({"start": "31.02.2027"}, "Bitte ein Datum wie 06.01.2027 eingeben."),
    ):
        response = post_form(client, "/cohorts/new", cohort_form(org, version, **changes))
        assert response.status_code == 400, changes
        page = response.get_data(as_text=True)
        assert "Es wurde nichts gespeichert." in page
        assert expected in page, (changes, expected)
    assert db.session.scalar(select(func.count(Cohort.id))) == 0
    assert db.session.scalar(select(func.count(Session.id))) == 0


def test_every_problem_of_the_form_shows_at_its_field_at_once(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    wrong = {"name": "", "start": "26.13.2027", "timezone": "Berlin", "closures": "32.12.2027"}
    response = post_form(client, "/cohorts/new", cohort_form(org, version, **wrong))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field, expected in (
        ("name", "Dieses Feld wird benötigt."),
        ("start", "Bitte ein Datum wie 06.01.2027 eingeben."),
        ("timezone", "Bitte eine Zeitzone aus der Liste wählen."),
        ("closures", "„32.12.2027“ ist kein Datum wie 24.12.2027"),
    ):
        # Each message stands at its field, named by the field's id.
        assert re.search(
            rf'<span class="error" id="{field}-error">[^<]*{re.escape(expected)}', page
        ), field
    # What was typed stays in the form.
    assert 'value="26.13.2027"' in page
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_a_date_typed_the_german_way_and_the_organisations_region(client, make, db):
    org_id, email = planner(make)
    db.session.get(Organisation, org_id).default_region = "DE-BY"
    db.session.commit()
    version = make.version("compact").id
    log_in(client, email)
    form = client.get("/cohorts/new").get_data(as_text=True)
    # The region is chosen by name, the organisation's preselected.
    assert re.search(r'<option selected value="DE-BY">Bayern</option>', form) or re.search(
        r'<option value="DE-BY" selected>Bayern</option>', form
    )
    assert "Baden-Württemberg" in form
    # A fork shows its client's name where the curriculum is chosen.
    assert "Lernbegleitung kompakt" in form
    response = post_form(
        client,
        "/cohorts/new",
        cohort_form(org_id, version, start="2.6.2027", region="DE-BY"),
        follow_redirects=True,
    )
    assert "Die Gruppe wurde geplant." in response.get_data(as_text=True)
    cohort = db.session.scalar(select(Cohort))
    assert (cohort.start_date, cohort.region) == (date(2027, 6, 2), "DE-BY")


def test_a_service_refusal_about_the_dates_stands_at_the_start_date(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    # A cohort closed for a whole year around its start cannot be planned.
    closed = "01.05.2027–31.12.2027 Umbau\n01.01.2028–30.06.2028 Umbau"
    response = post_form(
        client, "/cohorts/new", cohort_form(org, version, start="26.05.2027", closures=closed)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'<span class="error" id="start-error">', page)
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_hr_cannot_plan_cohorts(client, make):
    _, email = planner(make, Role.HR)
    log_in(client, email)
    assert client.get("/cohorts/new").status_code == 403


def test_a_curriculum_of_another_organisation_is_refused(client, make, db):
    from app.models import CurriculumRecord
    from app.services.standards import add_version
    from curricula.shipped import shipped, shipped_sources

    org, email = planner(make)
    stranger = make.organisation("Fremde GmbH")
    record = CurriculumRecord(key="private", organisation=stranger, title_de="P", title_en="P")
    db.session.add(record)
    version = add_version(record, shipped()["compact"], shipped_sources()["compact"])
    db.session.commit()
    version_id = version.id
    log_in(client, email)
    response = post_form(client, "/cohorts/new", cohort_form(org, version_id))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_the_cohort_page_shows_schedule_and_marks_conflicts(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    other = make.organisation("Andere AG")
    trainer = make.user(Role.TRAINER, [org, other], name="Maria Berg")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY", trainers=[trainer])
    # A double booking made behind Qualiplan's back (an import, say) is shown.
    second = make.cohort(other, start=date(2027, 3, 8), region="DE-BY", trainers=[trainer])
    second.sessions[0].starts_at = cohort.sessions[0].starts_at
    second.sessions[0].ends_at = cohort.sessions[0].ends_at
    db.session.commit()
    cohort_id = cohort.id
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Mo. 01.03.2027" in page
    assert "09:00–17:00" in page
    assert 'class=" conflict"' in page
    assert "Maria Berg wäre an zwei Orten zugleich" in page


def a_monday(weeks_from_now: int) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_from_now)


def post_state(client, cohort_id, state, **kwargs):
    page = f"/cohorts/{cohort_id}"
    return post_form(
        client,
        f"{page}/state",
        {"state": state},
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
        **kwargs,
    )


def confirm_cancellation(client, cohort_id):
    page = f"/cohorts/{cohort_id}/cancel"
    return post_form(
        client,
        f"/cohorts/{cohort_id}/state",
        {"state": "cancelled", "confirmed": "yes"},
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )


def test_cohort_states_move_forward_only(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort_id = make.cohort(org, start=a_monday(-1), region="DE-BE").id
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Gruppe starten" in page
    assert "Gruppe abschließen" not in page
    response = post_state(client, cohort_id, "running", follow_redirects=True)
    assert "Die Gruppe ist jetzt laufend." in response.get_data(as_text=True)
    response = post_state(client, cohort_id, "planned")
    assert response.status_code == 303
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "refused-invalid_state_change" in page
    assert "Es wurde nichts gespeichert." in page
    assert db.session.get(Cohort, cohort_id).state.value == "running"
    assert "hat den Status von geplant auf laufend geändert" in page


def test_a_cohort_starts_before_its_first_session_only_when_confirmed(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(12), region="DE-BE")
    cohort_id, first_day = cohort.id, cohort.sessions[0].first_day
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}?lang=en").get_data(as_text=True)
    assert f"from {first_day:%a} {first_day.day} {first_day:%b %Y}, the day of its first" in page
    # The button is a link to the page that says what will happen.
    assert f'href="/cohorts/{cohort_id}/start"' in page
    # A form sent without that step leads there, and nothing changes.
    response = post_state(client, cohort_id, "running")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cohorts/{cohort_id}/start")
    assert db.session.get(Cohort, cohort_id).state is CohortState.PLANNED
    page = client.get(f"/cohorts/{cohort_id}/start?lang=de").get_data(as_text=True)
    assert "vor dem ersten Termin starten?" in page
    assert f"{first_day:%d.%m.%Y}" in page
    assert db.session.scalar(select(func.count(Change.id)).where(Change.action == "state")) == 0
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/state",
        {"state": "running", "confirmed": "yes"},
        form_url=f"/cohorts/{cohort_id}/start",
        follow_redirects=True,
    )
    assert "Die Gruppe ist jetzt laufend." in response.get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).state is CohortState.RUNNING


def test_without_confirmation_the_service_refuses_an_early_start(app, make, db):
    """Other doors (the API, scripts) keep the rule: no start before the first session."""
    from datetime import UTC, datetime

    from app.services import cohorts
    from app.services.errors import DomainError
    from app.services.policy import Actor

    org_id, _ = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort_id = make.cohort(org, start=a_monday(12), region="DE-BE").id
    with pytest.raises(DomainError) as refused:
        cohorts.change_cohort_state(
            Actor.system(), cohort_id, CohortState.RUNNING, now=datetime.now(UTC)
        )
    assert refused.value.code == "starts_later"


def test_a_cohort_is_not_completed_before_its_last_session_has_ended(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(-1), region="DE-BE")
    cohort.state = CohortState.RUNNING
    db.session.commit()
    cohort_id = cohort.id
    log_in(client, email)
    response = post_state(client, cohort_id, "completed")
    assert response.status_code == 303
    assert "refused-not_over_yet" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).state is CohortState.RUNNING


def test_cancelling_a_cohort_cancels_its_sessions_still_to_come(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    trainer = make.user(Role.TRAINER, [org], name="Maria Berg")
    start = a_monday(2)
    first = make.cohort(org, start=start, region="DE-BY", trainers=[trainer], name="Erste")
    second = make.cohort(org, start=start + timedelta(weeks=1), region="DE-BY", name="Zweite")
    # A double booking that reached the database another way (an old import, say).
    second.sessions[0].starts_at = first.sessions[0].starts_at
    second.sessions[0].ends_at = first.sessions[0].ends_at
    second.sessions[0].trainers = [trainer]
    db.session.commit()
    first_id, second_id = first.id, second.id
    log_in(client, email)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Maria Berg ist am" in dashboard
    response = post_state(client, second_id, "cancelled", follow_redirects=True)
    # First the page that says what will happen; nothing is cancelled yet.
    page = response.get_data(as_text=True)
    assert "„Zweite“ absagen?" in page
    assert "3 bevorstehende Termine werden abgesagt:" in page
    assert db.session.get(Cohort, second_id).state is CohortState.PLANNED
    response = confirm_cancellation(client, second_id)
    assert "Die Gruppe ist jetzt abgesagt." in response.get_data(as_text=True)
    cancelled = db.session.get(Cohort, second_id)
    assert cancelled.state is CohortState.CANCELLED
    assert {s.status for s in cancelled.sessions} == {SessionStatus.CANCELLED}
    assert {s.revision for s in cancelled.sessions} == {1}  # calendars see it
    # No longer a double booking, neither on the overview nor on the cohort page.
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Maria Berg ist am" not in dashboard
    assert "Maria Berg wäre an zwei Orten zugleich" not in client.get(
        f"/cohorts/{first_id}"
    ).get_data(as_text=True)
    # The overview shows no session coming for it.
    row = re.search(rf"<tr>\s*<td[^>]*><a href=\"/cohorts/{second_id}\">.*?</tr>", dashboard, re.S)
    assert row is not None
    assert "als Nächstes" not in row.group(0)


def test_the_overview_shows_no_next_session_for_a_cancelled_cohort(client, make, db):
    """Also for a cohort cancelled before its sessions were cancelled with it."""
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(2), region="DE-BY", name="Abgesagt")
    cohort.state = CohortState.CANCELLED
    db.session.commit()
    log_in(client, email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Abgesagt" in page
    assert "als Nächstes" not in page


def test_the_overview_shows_the_first_scheduled_session_as_the_start(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    start = a_monday(2)
    cohort = make.cohort(org, start=start, region="DE-BY", name="Ohne Tag 1")
    cohort.sessions[0].status = SessionStatus.CANCELLED
    db.session.commit()
    second_day = cohort.sessions[1].first_day
    log_in(client, email)
    page = client.get("/dashboard").get_data(as_text=True)
    # In the list of cohorts: name, organisation, start.
    shown = re.search(
        r"Ohne Tag 1</a></td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]*)</td>", page
    ).group(1)
    assert f"{second_day:%d.%m.%Y}" in shown
    assert f"{start:%d.%m.%Y}" not in shown


def test_hr_cannot_change_a_cohort_state(client, make, db):
    org_id, _ = planner(make)
    org = db.session.get(Organisation, org_id)
    make.user(Role.HR, [org], email="hr@example.org")
    cohort_id = make.cohort(org, start=a_monday(-1), region="DE-BE").id
    log_in(client, "hr@example.org")
    assert "Gruppe starten" not in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    response = post_form(
        client, f"/cohorts/{cohort_id}/state", {"state": "running"}, form_url="/dashboard"
    )
    assert response.status_code == 403
    assert db.session.get(Cohort, cohort_id).state is CohortState.PLANNED


def completed_cohort(make, db, org):
    cohort = make.cohort(org, start=a_monday(-8), region="DE-BE")
    cohort.state = CohortState.COMPLETED
    db.session.commit()
    return cohort.id


def post_reopen(client, cohort_id, reason):
    page = f"/cohorts/{cohort_id}"
    return post_form(
        client,
        f"{page}/reopen",
        {"reopen-reason": reason},
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
    )


def test_an_admin_reopens_a_completed_cohort_with_a_reason(client, make, db):
    org_id, email = planner(make, Role.ADMIN)
    cohort_id = completed_cohort(make, db, db.session.get(Organisation, org_id))
    log_in(client, email)
    assert "reopen-reason" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    # Without a reason: refused, nothing changes.
    response = post_reopen(client, cohort_id, "   ")
    assert response.status_code == 303
    assert "refused-reason_missing" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).state is CohortState.COMPLETED
    response = post_reopen(client, cohort_id, "Anwesenheit von Tag 2 nachtragen")
    assert response.status_code == 302
    assert db.session.get(Cohort, cohort_id).state is CohortState.RUNNING
    change = db.session.scalar(
        select(Change).where(Change.cohort_id == cohort_id, Change.action == "state")
    )
    assert change.before == {"state": "completed"}
    assert change.after == {"state": "running", "reason": "Anwesenheit von Tag 2 nachtragen"}
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Anwesenheit von Tag 2 nachtragen" in page
    # A running cohort is not reopened.
    response = post_reopen(client, cohort_id, "noch einmal")
    assert "refused-not_completed" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)


def test_only_an_admin_may_reopen_a_cohort(client, make, db):
    org_id, email = planner(make, Role.TRAINER)
    cohort_id = completed_cohort(make, db, db.session.get(Organisation, org_id))
    log_in(client, email)
    assert "reopen-reason" not in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/reopen",
        {"reopen-reason": "bitte"},
        form_url=f"/cohorts/{cohort_id}",
    )
    assert response.status_code == 403
    assert db.session.get(Cohort, cohort_id).state is CohortState.COMPLETED


def test_a_planned_cohort_can_be_planned_again_from_a_new_start(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(4), region="DE-BE")
    cohort.sessions[2].pinned = True
    db.session.commit()
    cohort_id, version = cohort.id, cohort.lock_version
    calendar = WorkingCalendar("DE-BE")
    new_start = calendar.working_day_on_or_after(a_monday(10))
    log_in(client, email)
    page = f"/cohorts/{cohort_id}"
    wanted = {"replan-version": str(version), "replan-start": new_start.isoformat()}
    # First what would change; nothing is saved.
    response = post_form(
        client,
        f"{page}/replan",
        wanted,
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
    )
    assert response.status_code == 200
    preview = response.get_data(as_text=True)
    assert "neu planen?" in preview
    assert "1 festgehaltener Termin wird nicht mehr festgehalten." in preview
    assert f"{new_start:%d.%m.%Y}" in preview
    assert db.session.get(Cohort, cohort_id).sessions[2].pinned
    response = post_form(
        client,
        f"{page}/replan",
        {**wanted, "replan-confirmed": "yes"},
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort_id)
    days = [s.first_day for s in cohort.sessions]
    assert days[0] == new_start
    assert days[1] == calendar.working_day_on_or_after(new_start + timedelta(days=1))
    assert cohort.start_date == new_start
    assert not any(s.pinned for s in cohort.sessions)
    # A day that is over is no new start.
    response = post_form(
        client,
        f"{page}/replan",
        {
            "replan-version": str(cohort.lock_version),
            "replan-start": a_monday(-2).isoformat(),
            "replan-confirmed": "yes",
        },
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
    )
    assert response.status_code == 303
    assert "refused-start_over" in client.get(page).get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).sessions[0].first_day == new_start


def test_a_cohort_stuck_in_the_past_gets_out_by_planning_again(client, make, db):
    """Sessions that an earlier version let move into the past: a move back
    of day 1 alone is refused (day 2 is over and stays), the preview points
    to planning again, and that puts the whole cohort on the new start."""
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(-6), region="DE-BE")
    cohort_id, first_id = cohort.id, cohort.sessions[0].id
    first_version = cohort.sessions[0].lock_version
    log_in(client, email)
    session_page = f"/cohorts/{cohort_id}/sessions/{first_id}"
    wanted = {"move-version": str(first_version), "move-day": a_monday(3).isoformat()}
    preview = post_form(client, f"{session_page}/move/preview", wanted, form_url=session_page)
    text = preview.get_data(as_text=True)
    assert "refused-planning_error" in text
    assert "Die ganze Gruppe ab einem neuen Start neu planen" in text
    response = post_form(
        client,
        f"{session_page}/move",
        wanted,
        form_url=session_page,
        headers={"Referer": f"http://localhost{session_page}"},
    )
    assert response.status_code == 303
    assert db.session.get(Cohort, cohort_id).sessions[0].first_day == a_monday(-6)
    page = f"/cohorts/{cohort_id}"
    response = post_form(
        client,
        f"{page}/replan",
        {
            "replan-version": str(db.session.get(Cohort, cohort_id).lock_version),
            "replan-start": a_monday(3).isoformat(),
            "replan-confirmed": "yes",
        },
        form_url=page,
    )
    assert response.status_code == 302
    days = [s.first_day for s in db.session.get(Cohort, cohort_id).sessions]
    assert days[0] == WorkingCalendar("DE-BE").working_day_on_or_after(a_monday(3))
    assert all(day >= a_monday(3) for day in days)


def test_the_cohort_page_opens_with_what_people_come_for(client, make, db):
    """On a tablet the page is long: attendance, certificates and tandems
    are reached from its top, before the schedule."""
    org, email = planner(make)
    cohort_id = make.cohort(db.session.get(Organisation, org), start=a_monday(-1)).id
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    bar = page[page.index('aria-label="Mit dieser Gruppe arbeiten"') :]
    bar = bar[: bar.index("</nav>")]
    assert f'href="/cohorts/{cohort_id}/attendance">Anwesenheit erfassen</a>' in bar
    assert f'href="/cohorts/{cohort_id}/certificates"' in bar
    assert f'href="/cohorts/{cohort_id}/tandems"' in bar
    assert page.index("Mit dieser Gruppe arbeiten") < page.index('id="schedule"')
