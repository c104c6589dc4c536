"""Tandems as a trainer forms them: propose, lock, swap, confirm, and what
participants then see on their page and in their calendar."""

from __future__ import annotations

import re
from types import SimpleNamespace

import icalendar
import pytest
from sqlalchemy import select

from app.models import Change, Purpose, Role, Tandem, TandemState
from app.services import tokens
from tests.web.helpers import csrf_token, log_in

PEOPLE = (
    # first name, department, site
    ("Anna", "Einkauf", "Stuttgart"),
    ("Ben", "Einkauf", "Stuttgart"),
    ("Cem", "Vertrieb", "Stuttgart"),
    ("Dora", "Vertrieb", "Stuttgart"),
    ("Emil", "Technik", "Ulm"),
)


@pytest.fixture
def cohort(make):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Gruppe Nord", region="DE-BW")
    for first, department, site in PEOPLE:
        make.participant(
            org,
            cohort=cohort,
            first_name=first,
            last_name="Muster",
            email=f"{first.lower()}@example.org",
            department=department,
            site=site,
        )
    return ref(cohort)


def ref(record):
    """Just the id: the test's own objects go stale while requests run."""
    return SimpleNamespace(id=record.id)


def page_of(client, cohort) -> str:
    return client.get(f"/cohorts/{cohort.id}/tandems").get_data(as_text=True)


def act(client, cohort, action: str, **data):
    """Press a button of the tandem page, with the page's own version field."""
    page = page_of(client, cohort)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    url = f"/cohorts/{cohort.id}/tandems/{action}"
    token = csrf_token(client, f"/cohorts/{cohort.id}/tandems")
    data = {"csrf_token": token, "version": version, **data}
    return client.post(url, data=data, follow_redirects=True)


def stored(db, cohort, state: TandemState) -> list[list[str]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id, Tandem.state == state)
    ).all()
    return sorted(sorted(p.first_name for p in t.people) for t in rows)


def test_form_and_confirm_tandems(client, cohort, db):
    log_in(client, "trainerin@example.org")
    text = act(client, cohort, "propose").get_data(as_text=True)
    assert "Ein Vorschlag mit 2 Tandems ist fertig" in text
    proposal = stored(db, cohort, TandemState.PROPOSED)
    assert sorted(name for tandem in proposal for name in tandem) == sorted(p[0] for p in PEOPLE)
    assert sorted(len(t) for t in proposal) == [2, 3]
    # Different departments are preferred: no tandem is all one department.
    departments = {first: department for first, department, _ in PEOPLE}
    assert all(len({departments[n] for n in tandem}) > 1 for tandem in proposal)
    assert stored(db, cohort, TandemState.CONFIRMED) == []

    text = act(client, cohort, "confirm").get_data(as_text=True)
    assert "2 Tandems bestätigt" in text
    assert stored(db, cohort, TandemState.CONFIRMED) == proposal
    assert stored(db, cohort, TandemState.PROPOSED) == []
    change = db.session.scalars(select(Change).where(Change.action == "tandems")).one()
    assert sorted(sorted(n.split()[0] for n in t) for t in change.after["tandems"]) == proposal


def test_participants_see_their_partners_only_once_confirmed(client, cohort, db, make):
    anna = next(
        e.participant for e in cohort_enrolments(db, cohort) if e.participant.first_name == "Anna"
    )
    page = tokens.issue(Purpose.PERSONAL_PAGE, anna.id, anna.organisation_id, None)
    feed = tokens.issue(Purpose.PARTICIPANT_FEED, anna.id, anna.organisation_id, None)
    db.session.commit()
    before = client.get(f"/feeds/{feed}.ics")
    log_in(client, "trainerin@example.org")
    act(client, cohort, "propose")
    proposed = client.get(f"/p/{page}").get_data(as_text=True)
    assert "<dt>Ihr Tandem</dt><dd>noch nicht gebildet</dd>" in proposed

    act(client, cohort, "confirm")
    [partners] = [t for t in stored(db, cohort, TandemState.CONFIRMED) if "Anna" in t]
    others = [f"{n} Muster" for n in partners if n != "Anna"]
    personal = client.get(f"/p/{page}").get_data(as_text=True)
    assert f"<dt>Ihr Tandem</dt><dd>{', '.join(others)}</dd>" in personal

    after = client.get(f"/feeds/{feed}.ics")
    assert after.headers["ETag"] != before.headers["ETag"]  # clients fetch it again
    calendar = icalendar.Calendar.from_ical(after.data)
    for event in calendar.walk("VEVENT"):
        description = str(event["DESCRIPTION"])
        assert f"Ihr Tandem: {', '.join(others)}" in description
        assert "@example.org" not in description  # names only, nothing else about them


def cohort_enrolments(db, cohort):
    from app.models import Enrolment

    return db.session.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort.id)).all()


def test_a_locked_tandem_survives_forming_the_rest_again(client, cohort, db):
    log_in(client, "trainerin@example.org")
    act(client, cohort, "propose")
    first = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id).order_by(Tandem.id)
    ).first()
    kept = sorted(p.first_name for p in first.people)
    act(client, cohort, f"{first.id}/lock")
    act(client, cohort, "shuffle")
    db.session.expire_all()
    locked = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id, Tandem.locked.is_(True))
    ).all()
    assert [sorted(p.first_name for p in t.people) for t in locked] == [kept]
    assert sorted(n for t in stored(db, cohort, TandemState.PROPOSED) for n in t) == sorted(
        p[0] for p in PEOPLE
    )


def test_swap_two_people_and_refuse_to_touch_a_locked_tandem(client, cohort, db):
    log_in(client, "trainerin@example.org")
    act(client, cohort, "propose")
    proposal = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id).order_by(Tandem.id)
    ).all()
    a, b = proposal[0].people[0], proposal[1].people[0]
    text = act(client, cohort, "swap", first=a.id, second=b.id).get_data(as_text=True)
    assert "Die beiden haben die Plätze getauscht." in text
    after = stored(db, cohort, TandemState.PROPOSED)
    assert any(b.first_name in t and a.first_name not in t for t in after)
    assert sorted(n for t in after for n in t) == sorted(p[0] for p in PEOPLE)

    db.session.expire_all()
    locked_one = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id).order_by(Tandem.id)
    ).first()
    act(client, cohort, f"{locked_one.id}/lock")
    unchanged = stored(db, cohort, TandemState.PROPOSED)
    other = db.session.scalars(
        select(Tandem).where(Tandem.cohort_id == cohort.id, Tandem.id != locked_one.id)
    ).first()
    text = act(
        client, cohort, "swap", first=locked_one.people[0].id, second=other.people[0].id
    ).get_data(as_text=True)
    assert "Ein gesperrtes Tandem kann sich nicht ändern" in text
    assert stored(db, cohort, TandemState.PROPOSED) == unchanged


def test_a_page_changed_by_someone_else_meanwhile_saves_nothing(client, cohort, db):
    log_in(client, "trainerin@example.org")
    page = page_of(client, cohort)
    stale = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    act(client, cohort, "propose")  # another trainer, in between
    proposal = stored(db, cohort, TandemState.PROPOSED)
    token = csrf_token(client, f"/cohorts/{cohort.id}/tandems")
    response = client.post(
        f"/cohorts/{cohort.id}/tandems/confirm",
        data={"csrf_token": token, "version": stale},
        follow_redirects=True,
    )
    assert "Es wurde nichts gespeichert." in response.get_data(as_text=True)
    assert stored(db, cohort, TandemState.CONFIRMED) == []
    assert stored(db, cohort, TandemState.PROPOSED) == proposal


def test_rules_that_cannot_hold_are_named_and_nothing_is_stored(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    cohort = make.cohort(org, name="Zu zweit")
    make.participant(org, cohort=cohort, first_name="Chefin", email="chefin@example.org")
    make.participant(
        org, cohort=cohort, first_name="Mitarbeiter", manager_email="Chefin@example.org"
    )
    cohort = ref(cohort)
    log_in(client, "trainerin@example.org")
    text = act(client, cohort, "propose").get_data(as_text=True)
    assert "Chefin" in text
    assert "Es wurde nichts gespeichert." in text
    assert stored(db, cohort, TandemState.PROPOSED) == []


def test_never_together_and_earlier_tandems_are_respected(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    earlier = make.cohort(org, name="Frühjahr")
    later = make.cohort(org, name="Herbst")
    people = {
        name: make.participant(org, cohort=later, first_name=name, department=department)
        for name, department in (("Anna", "A"), ("Ben", "B"), ("Cem", "A"), ("Dora", "B"))
    }
    make.tandem(earlier, [people["Anna"], people["Ben"]])  # once a tandem, never again
    cem, dora, later = people["Cem"].id, people["Dora"].id, ref(later)
    log_in(client, "trainerin@example.org")
    token = csrf_token(client, f"/cohorts/{later.id}/tandems")
    response = client.post(
        f"/cohorts/{later.id}/not-together",
        data={"csrf_token": token, "first": cem, "second": dora},
        follow_redirects=True,
    )
    assert "werden nie als Tandem vorgeschlagen" in response.get_data(as_text=True)
    act(client, later, "propose")
    # Anna–Ben was a tandem and Cem–Dora must not be: one arrangement is left.
    assert stored(db, later, TandemState.PROPOSED) == [["Anna", "Dora"], ["Ben", "Cem"]]


def test_never_together_needs_two_different_people(client, cohort, db):
    from app.models import NotTogether

    log_in(client, "trainerin@example.org")
    anna = cohort_enrolments(db, cohort)[0].participant
    token = csrf_token(client, f"/cohorts/{cohort.id}/tandems")
    response = client.post(
        f"/cohorts/{cohort.id}/not-together",
        data={"csrf_token": token, "first": anna.id, "second": anna.id},
        follow_redirects=True,
    )
    assert "Wählen Sie zwei verschiedene Personen" in response.get_data(as_text=True)
    assert db.session.scalars(select(NotTogether)).all() == []


def test_the_partner_of_someone_who_withdraws_gets_a_new_place(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    cohort = make.cohort(org, name="Gruppe Süd")
    people = {
        name: make.participant(org, cohort=cohort, first_name=name)
        for name in ("Anna", "Ben", "Cem", "Dora")
    }
    enrolment = people["Anna"].enrolments[0].id
    cohort = ref(cohort)
    make.tandem(cohort, [people["Anna"], people["Ben"]])
    make.tandem(cohort, [people["Cem"], people["Dora"]], locked=True)
    log_in(client, "trainerin@example.org")
    token = csrf_token(client, f"/cohorts/{cohort.id}")
    client.post(
        f"/cohorts/{cohort.id}/enrolments/{enrolment}/withdraw",
        data={"csrf_token": token, "confirmed": "yes"},
    )
    page = page_of(client, cohort)
    assert "Nicht mehr eingeschrieben, aber in einem bestätigten Tandem: Anna" in page

    act(client, cohort, "replace")
    # Ben joins a tandem; the locked Cem–Dora stays as it is... unless it is
    # the only one: a locked tandem is never changed, so Ben cannot be placed.
    assert stored(db, cohort, TandemState.PROPOSED) == []
    assert stored(db, cohort, TandemState.CONFIRMED) == [["Anna", "Ben"], ["Cem", "Dora"]]

    other = db.session.scalars(select(Tandem).where(Tandem.locked.is_(True))).one()
    act(client, cohort, f"{other.id}/unlock")
    act(client, cohort, "replace")
    assert stored(db, cohort, TandemState.PROPOSED) == [["Ben", "Cem", "Dora"]]
    act(client, cohort, "confirm")
    assert stored(db, cohort, TandemState.CONFIRMED) == [["Ben", "Cem", "Dora"]]
    assert stored(db, cohort, TandemState.ENDED) == [["Anna", "Ben"], ["Cem", "Dora"]]


def test_hr_sees_and_exports_but_does_not_change(client, cohort, db, make):
    people = [e.participant for e in cohort_enrolments(db, cohort)]
    make.tandem(cohort, people[:2])
    make.tandem(cohort, people[2:])
    people[0].department = "=HYPERLINK()"
    db.session.commit()
    names = [f"{p.first_name} Muster" for p in people]
    log_in(client, "hr@example.org")
    page = page_of(client, cohort)
    assert "Bestätigte Tandems" in page
    assert "Tandems bilden" not in page
    token = csrf_token(client, f"/cohorts/{cohort.id}")
    refused = client.post(
        f"/cohorts/{cohort.id}/tandems/propose", data={"csrf_token": token, "version": "1"}
    )
    assert refused.status_code == 403

    export = client.get(f"/cohorts/{cohort.id}/tandems.csv")
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    lines = export.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Tandem;Vorname;Nachname;E-Mail;Abteilung;Standort"
    assert [line.split(";")[0] for line in lines[1:]] == ["1", "1", "2", "2", "2"]
    assert "'=HYPERLINK()" in lines[1]

    printable = client.get(f"/cohorts/{cohort.id}/tandems/print").get_data(as_text=True)
    assert all(name in printable for name in names)
    assert "Tandem 2" in printable


def test_the_dashboard_says_when_a_tandem_lost_someone(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    cohort = make.cohort(org, name="Gruppe West")
    anna, ben = (make.participant(org, cohort=cohort, first_name=n) for n in ("Anna", "Ben"))
    withdrawal = anna.enrolments[0].id
    make.tandem(cohort, [anna, ben])
    cohort = ref(cohort)
    log_in(client, "trainerin@example.org")
    assert "bestätigten Tandem" not in client.get("/dashboard").get_data(as_text=True)
    token = csrf_token(client, f"/cohorts/{cohort.id}")
    client.post(
        f"/cohorts/{cohort.id}/enrolments/{withdrawal}/withdraw",
        data={"csrf_token": token, "confirmed": "yes"},
    )
    dashboard = client.get("/dashboard").get_data(as_text=True)
    expected = "Gruppe West: nicht mehr eingeschrieben, aber in einem bestätigten Tandem: Anna"
    assert expected in dashboard
    assert f'href="/cohorts/{cohort.id}/tandems"' in dashboard


def test_a_partner_renamed_or_erased_leaves_the_calendars_at_once(client, cohort, db, make):
    """The name is all a partner's calendar shows of them: a copy a client
    holds (ETag) or a process rendered must not keep an old or erased name."""
    enrolments = cohort_enrolments(db, cohort)
    people = {
        e.participant.first_name: (e.participant.id, e.participant.email) for e in enrolments
    }
    organisation = enrolments[0].participant.organisation
    feed = tokens.issue(Purpose.PARTICIPANT_FEED, people["Anna"][0], organisation.id, None)
    make.user(Role.ADMIN, [organisation], email="admin@example.org")
    db.session.commit()
    log_in(client, "trainerin@example.org")
    act(client, cohort, "propose")
    act(client, cohort, "confirm")
    [partners] = [t for t in stored(db, cohort, TandemState.CONFIRMED) if "Anna" in t]
    name = next(n for n in partners if n != "Anna")
    partner_id, email = people[name]
    held = client.get(f"/feeds/{feed}.ics")
    assert f"{name} Muster" in _partner_lines(held)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})

    log_in(client, "admin@example.org")
    page = f"/participants/{partner_id}"
    form = client.get(page).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', form).group(1)
    values = {
        "first_name": name,
        "last_name": "Neumann",
        "email": email,
        "version": version,
    }
    saved = client.post(page, data={"csrf_token": csrf_token(client, page), **values})
    assert saved.status_code == 302
    renamed = client.get(f"/feeds/{feed}.ics", headers={"If-None-Match": held.headers["ETag"]})
    assert renamed.status_code == 200
    assert f"{name} Neumann" in _partner_lines(renamed)
    assert f"{name} Muster" not in _partner_lines(renamed)

    erased = client.post(
        f"{page}/erase",
        data={"csrf_token": csrf_token(client, page), "confirm": f"{name} Neumann"},
    )
    assert erased.status_code == 302
    after = client.get(f"/feeds/{feed}.ics", headers={"If-None-Match": renamed.headers["ETag"]})
    assert after.status_code == 200
    assert "Neumann" not in after.get_data(as_text=True)
    remaining = [f"{n} Muster" for n in partners if n not in ("Anna", name)]
    if remaining:  # a tandem of three keeps its third member
        assert f"Ihr Tandem: {', '.join(remaining)}" in _partner_lines(after)
    else:
        assert "Ihr Tandem" not in _partner_lines(after)


def _partner_lines(response) -> str:
    calendar = icalendar.Calendar.from_ical(response.data)
    return " ".join(str(event["DESCRIPTION"]) for event in calendar.walk("VEVENT"))
