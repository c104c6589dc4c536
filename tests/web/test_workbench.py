"""The consultant's workbench: fork, edit a draft through forms checked by
the file loader, publish, take upstream changes, move a planned cohort."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.models import Cohort, CurriculumRecord, CurriculumVersion, Organisation, Role
from app.services import curricula as workbench
from app.services.standards import add_version
from curricula.loader import load_text
from curricula.model import Offset
from tests.web.helpers import csrf_token, log_in


def standard(db, key="compact") -> int:
    return db.session.scalar(
        select(CurriculumRecord.id).where(
            CurriculumRecord.key == key, CurriculumRecord.organisation_id.is_(None)
        )
    )


def fork_id(db, organisation_id) -> int:
    return db.session.scalar(
        select(CurriculumRecord.id).where(CurriculumRecord.organisation_id == organisation_id)
    )


def consultant_of_a_new_organisation(client, make) -> int:
    """Logged in as the consultant of a new organisation; its id."""
    org = make.organisation()
    make.user(Role.CONSULTANT, [org], email="beratung@example.org")
    org_id = org.id  # the objects of this test go stale once requests run
    log_in(client, "beratung@example.org")
    return org_id


def version_field(page: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def post(client, url, data, page):
    token = csrf_token(client, page)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def fork_for(client, db, org_id):
    page = f"/curricula/{standard(db)}"
    response = post(client, f"{page}/fork", {"organisation": org_id}, page)
    assert "ist bereit zum Anpassen" in response.get_data(as_text=True)
    return fork_id(db, org_id)


def publish(client, page: str):
    """Publishes the draft the page shows, confirming what the page asks."""
    data = {"version": version_field(client.get(page).get_data(as_text=True)), "confirmed": "yes"}
    return post(client, f"{page}/draft/publish", data, page)


def element_form(client, url) -> dict:
    page = client.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_-]+)"[^>]*value="([^"]*)"', page))
    for name, value in re.findall(
        r'<select[^>]*name="([a-z_-]+)"[^>]*>.*?<option selected value="([^"]*)"', page, flags=re.S
    ):
        fields[name] = value
    for name in ("topics_de", "topics_en"):
        fields[name] = re.search(
            rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', page, flags=re.S
        ).group(1)
    fields.pop("csrf_token", None)
    return fields


def test_fork_edit_a_gap_publish_and_move_a_planned_cohort(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    page = f"/curricula/{fork}"
    text = client.get(page).get_data(as_text=True)
    assert "Entwurf von Version 1" in text
    assert "<svg" in text  # the shape of the format on a relative axis
    # Publishing asks first, saying what will happen; nothing changes before.
    asked = post(client, f"{page}/draft/publish", {"version": version_field(text)}, page)
    question = asked.get_data(as_text=True)
    assert "Version 1 von „Lernbegleitung kompakt" in question or "Version 1 von" in question
    assert "kann nicht rückgängig gemacht werden" in question
    assert "nicht mehr bearbeitet werden" in question
    db.session.expire_all()
    assert workbench.draft_of(db.session.get(CurriculumRecord, fork)) is not None
    response = publish(client, page)
    assert "Version 1 ist veröffentlicht" in response.get_data(as_text=True)

    v1 = db.session.scalar(
        select(CurriculumVersion).where(CurriculumVersion.curriculum_id == fork)
    )
    cohort = make.cohort(
        db.session.get(Organisation, org_id), version=v1, start=date(2027, 3, 1), region="DE-BW"
    )
    cohort_id, before = cohort.id, {s.element.key: s.first_day for s in cohort.sessions}

    text = post(client, f"{page}/draft", {"version": "0"}, page).get_data(as_text=True)
    assert "Entwurf von Version 2 begonnen" in text
    url = f"{page}/draft/elements/reflection"
    values = element_form(client, url)
    assert (values["gap_preferred-amount"], values["gap_preferred-unit"]) == ("8", "w")
    bad = post(client, url, {**values, "gap_preferred-amount": "zwölf"}, url)
    assert bad.status_code == 400
    assert "ganze Zahl" in bad.get_data(as_text=True)
    longer = {"gap_preferred-amount": "12", "gap_max-amount": "6", "gap_max-unit": "m"}
    good = post(client, url, {**values, **longer}, url)
    assert "Gespeichert" in good.get_data(as_text=True)
    assert "geändert: Lage und Abstand" in good.get_data(as_text=True)
    publish(client, page)

    db.session.expire_all()
    record = db.session.get(CurriculumRecord, fork)
    v2 = workbench.latest_published(record)
    v1_id, v2_id = v1.id, v2.id  # requests end the objects' session
    assert v2.number == 2
    assert v2.model.element("reflection").placement.gap.preferred == Offset.parse("12w")
    assert v1.model.element("reflection").placement.gap.preferred == Offset.parse("8w")

    move = f"{page}/cohorts/{cohort_id}"
    preview = client.get(move).get_data(as_text=True)
    assert "Noch ist nichts gespeichert" in preview
    db.session.expire_all()
    assert db.session.get(Cohort, cohort_id).version_id == v1_id
    response = post(client, move, {"version": version_field(preview)}, move)
    assert "folgt jetzt Version 2" in response.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(Cohort, cohort_id)
    assert moved.version_id == v2_id
    after = {s.element.key: s.first_day for s in moved.sessions}
    assert after["seminar-1"] == before["seminar-1"]
    assert after["reflection"] - before["reflection"] >= timedelta(weeks=3)
    assert all(s.element.version_id == v2_id for s in moved.sessions)


def test_an_element_shows_its_duration_and_topics_in_the_reader_s_language(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    url = f"/curricula/{fork_for(client, db, org_id)}/draft/elements/seminar-1"
    german = element_form(client, url)
    assert german["duration"] == "8 Std."
    assert german["topics_de"].splitlines()[0] == "Rollenverständnis: Hilfe zur Selbsthilfe"
    assert german["topics_en"].splitlines()[0] == "Understanding the role: help towards self-help"
    english = element_form(client, url + "?lang=en")
    assert english["duration"] == "8 h"
    page = client.get(url).get_data(as_text=True)
    assert "8h" not in page
    assert "|" not in german["topics_de"] + german["topics_en"]

    changed = {
        **english,
        "duration": "7 Std. 30 Min.",
        "topics_de": "Rolle\nNetzwerk",
        "topics_en": "Role\n",
    }
    response = post(client, url, changed, url)
    assert "Saved" in response.get_data(as_text=True)
    db.session.expire_all()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork_id(db, org_id)))
    element = draft.model.element("seminar-1")
    assert element.length.duration == timedelta(hours=7, minutes=30)
    assert [(t.de, t.en) for t in element.topics] == [
        ("Rolle", "Role"),
        ("Netzwerk", "Netzwerk"),  # no English given: as in German
    ]
    assert element_form(client, url + "?lang=en")["duration"] == "7 h 30 min"
    assert element_form(client, url + "?lang=de")["duration"] == "7 Std. 30 Min."


def test_a_duration_that_cannot_be_read_says_how_to_write_one(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    url = f"/curricula/{fork}/draft/elements/reflection"
    before = db.session.get(CurriculumRecord, fork).versions[-1].source
    values = element_form(client, url)
    response = post(client, url, {**values, "duration": "vier Stunden"}, url)
    assert response.status_code == 400
    error = response.get_data(as_text=True).split('id="duration-error">')[1].split("</")[0]
    assert error == "Bitte eine Dauer wie 8 Std., 90 Min. oder 7 Std. 30 Min. eingeben."
    assert 'value="vier Stunden"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CurriculumRecord, fork).versions[-1].source == before


def test_topics_that_no_longer_pair_up_are_refused_at_the_english_list(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    url = f"/curricula/{fork}/draft/elements/seminar-1"
    before = db.session.get(CurriculumRecord, fork).versions[-1].source
    values = element_form(client, url)
    german = values["topics_de"].splitlines()
    english = len(values["topics_en"].splitlines())
    assert len(german) == english >= 3
    # A German line deleted, the English list left as it was; the units
    # too are wrong, and both are said at once.
    deleted = "\n".join(german[:1] + german[2:])
    response = post(client, url, {**values, "topics_de": deleted, "teaching_units": "acht"}, url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page.split('id="topics_en-error">')[1].split("</")[0]
    assert error == (
        f"Die englische Liste hat {english} Zeilen, die deutsche {english - 1}. Bitte für "
        "jedes deutsche Thema eine englische Zeile schreiben; eine leere Zeile übernimmt das "
        "deutsche Thema."
    )
    assert 'id="teaching_units-error"' in page
    db.session.expire_all()
    assert db.session.get(CurriculumRecord, fork).versions[-1].source == before

    english_page = element_form(client, url + "?lang=en")
    english_page["topics_de"] = deleted
    refused = post(client, url, english_page, url).get_data(as_text=True)
    assert refused.split('id="topics_en-error">')[1].split("</")[0] == (
        f"The English list has {english} lines and the German list {english - 1}. Write one "
        "English line for each German topic; an empty line takes the German topic."
    )
    db.session.expire_all()
    assert db.session.get(CurriculumRecord, fork).versions[-1].source == before


def test_every_page_names_a_version_the_same_way(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    page = f"/curricula/{fork}"
    publish(client, page)
    v1 = workbench.latest_published(db.session.get(CurriculumRecord, fork))
    cohort_id = make.cohort(
        db.session.get(Organisation, org_id), version=v1, start=date(2027, 3, 1), name="Frühjahr"
    ).id
    post(client, f"{page}/draft", {"version": "0"}, page)
    fork_name = "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag – für Muster AG"
    standard_name = "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag"

    listed = client.get("/curricula").get_data(as_text=True)
    assert "Version 1, Version 2 (Entwurf)" in listed
    shown = client.get(page).get_data(as_text=True)
    assert f"abgeglichen mit {standard_name}, Version 2" in shown
    assert f"Keine Unterschiede zu {standard_name}, Version 2." in shown
    asked = post(client, f"{page}/draft/publish", {"version": version_field(shown)}, page)
    assert f"Frühjahr · {fork_name}, Version 1" in asked.get_data(as_text=True)
    publish(client, page)
    assert "Frühjahr</a> (Version 1)" in client.get(page).get_data(as_text=True)
    cohort_page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert f"{fork_name}, Version 1 ·" in cohort_page
    for text in (listed, shown, cohort_page):
        assert not re.search(r"\bv\d", text.split("<main")[1])


def test_a_standard_cannot_be_edited_and_a_published_version_never_changes(client, make, db):
    consultant_of_a_new_organisation(client, make)
    page = f"/curricula/{standard(db)}"
    refused = client.post(
        f"{page}/draft", data={"csrf_token": csrf_token(client, page), "version": "0"}
    )
    assert refused.status_code == 403
    newest = workbench.latest_published(db.session.get(CurriculumRecord, standard(db)))
    export = client.get(f"{page}/versions/{newest.id}.toml")
    assert export.headers["Content-Type"].startswith("application/toml")
    assert load_text(export.get_data(as_text=True)).key == "compact"


def test_upstream_changes_are_taken_one_by_one(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    page = f"/curricula/{fork}"
    publish(client, page)
    # The standard publishes version 3 with a longer gap before the reflection day.
    upstream = db.session.get(CurriculumRecord, standard(db))
    source = (
        upstream.versions[-1]
        .source.replace('preferred = "8w"', 'preferred = "10w"')
        .replace("version = 2", "version = 3", 1)
    )
    add_version(upstream, load_text(source), source)
    db.session.commit()

    text = client.get(page).get_data(as_text=True)
    assert "hat Version 3" in text
    # The change names the element by its title, not its key.
    assert "Netzwerk stärken“: geändert" in text
    assert "reflection:" not in text
    change = re.search(r'name="change" value="([^"]+)"', text).group(1)
    response = post(
        client, f"{page}/upstream/take", {"version": "0", "change": change, "overwrite": ""}, page
    )
    assert "Die Änderung ist jetzt im Entwurf" in response.get_data(as_text=True)
    db.session.expire_all()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork))
    assert draft.model.element("reflection").placement.gap.preferred == Offset.parse("10w")
    assert draft.based_on.number == 3  # in step now
    assert "hat Version 3" not in client.get(page).get_data(as_text=True)


def test_import_a_file_as_the_draft_and_refuse_a_broken_one(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    page = f"/curricula/{fork}"
    import io

    source = db.session.get(CurriculumRecord, fork).versions[-1].source
    broken = source.replace('duration = "4h"', 'duration = "vier Stunden"')
    response = post(
        client, f"{page}/import", {"file": (io.BytesIO(broken.encode()), "x.toml")}, page
    )
    text = response.get_data(as_text=True)
    assert "reflection" in text
    assert "Es wurde nichts gespeichert" in text
    db.session.expire_all()
    assert db.session.get(CurriculumRecord, fork).versions[-1].source == source


def test_add_reorder_and_remove_elements_of_a_draft(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    page = f"/curricula/{fork}"

    def keys():
        db.session.expire_all()
        draft = workbench.draft_of(db.session.get(CurriculumRecord, fork))
        return [e.key for e in draft.model.elements]

    def version():
        return version_field(client.get(page).get_data(as_text=True))

    # The key is made from the German title; the page names the element by its title.
    data = {"version": version(), "title_de": "Übung im Betrieb", "title_en": "Practice"}
    text = post(client, f"{page}/draft/elements", data, page).get_data(as_text=True)
    assert "Das Element Übung im Betrieb wurde hinzugefügt." in text
    assert keys() == ["seminar-1", "seminar-2", "reflection", "uebung-im-betrieb"]
    assert 'name="key"' not in text
    assert "(uebung-im-betrieb)" not in text
    post(client, f"{page}/draft/elements/uebung-im-betrieb/up", {"version": version()}, page)
    assert keys() == ["seminar-1", "seminar-2", "uebung-im-betrieb", "reflection"]
    # The same title again gets a key of its own.
    stale = version()
    data = {"version": stale, "title_de": "Übung im Betrieb", "title_en": "Practice 2"}
    post(client, f"{page}/draft/elements", data, page)
    assert keys()[-1] == "uebung-im-betrieb-2"
    post(client, f"{page}/draft/elements/uebung-im-betrieb-2/remove", {"version": version()}, page)
    # Removing an element another one is placed after is refused as well.
    text = post(client, f"{page}/draft/elements/seminar-2/remove", {"version": stale}, page)
    assert "Es wurde nichts gespeichert" in text.get_data(as_text=True)
    assert "seminar-2" in keys()
    post(client, f"{page}/draft/elements/uebung-im-betrieb/remove", {"version": version()}, page)
    assert keys() == ["seminar-1", "seminar-2", "reflection"]
    # A page loaded before a change saves nothing.
    text = post(client, f"{page}/draft/elements/reflection/up", {"version": stale}, page)
    assert "jemand anderes hat diesen entwurf" in text.get_data(as_text=True).lower()
    assert keys() == ["seminar-1", "seminar-2", "reflection"]


def test_change_the_certificate_rule_of_a_draft(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    url = f"/curricula/{fork}/draft/certificate"
    page = client.get(url).get_data(as_text=True)
    version = version_field(page)
    # Elements are chosen by their titles; no key is to be typed.
    assert "Reflexionstag: Erfahrungen teilen" in page
    assert "checkpoint-1" not in page
    token = csrf_token(client, url)

    def send(required, count="", of=(), percent=""):
        data = {
            "csrf_token": token,
            "version": version,
            "required": required,
            "at_least-0-count": count,
            "at_least-0-of": list(of),
            "min_hours_percent": percent,
        }
        return client.post(url, data=data, follow_redirects=True)

    # Every error of the form at once, each at its field.
    wrong = send(["seminar-1"], count="eins", percent="120")
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert 'id="at_least-0-count-error"' in text
    assert 'id="min_hours_percent-error"' in text
    half = send(["seminar-1"], count="1").get_data(as_text=True)
    assert "Wählen Sie die Elemente dieser Regel." in half
    # A rule the loader refuses is told at the field it concerns.
    twice = send(["seminar-1", "reflection"], count="1", of=["reflection"])
    assert twice.status_code == 400
    error = twice.get_data(as_text=True).split('id="at_least-0-of-error"')[1].split("</")[0]
    assert "Reflexionstag: Erfahrungen teilen" in error
    assert "bereits vorausgesetzt" in error
    too_many = send(["seminar-1"], count="3", of=["reflection", "seminar-2"])
    assert 'id="at_least-0-count-error"' in too_many.get_data(as_text=True)
    saved = send(["seminar-1", "seminar-2"], count="1", of=["reflection"], percent="80")
    assert "Gespeichert" in saved.get_data(as_text=True)
    db.session.expire_all()
    rule = workbench.draft_of(db.session.get(CurriculumRecord, fork)).model.certificate
    assert rule.required == ("seminar-1", "seminar-2")
    assert [(r.count, r.of) for r in rule.at_least] == [(1, ("reflection",))]
    assert rule.min_hours_share == 0.8
    again = client.get(url).get_data(as_text=True)
    assert re.search(r'name="at_least-0-count"[^>]*value="1"', again)
    assert 'name="at_least-1-count"' in again  # room for one more rule


def test_version_moves_keep_cancelled_sessions_and_their_calendars_intact(client, make, db):
    """A session staff cancelled stays one cancelled event with its UID; a
    session whose element a newer version drops is cancelled and still shown
    as its own version described it."""
    import icalendar

    from app.models import Purpose, Session, SessionStatus
    from app.services import tokens
    from app.services.sessions import cancel_session

    org = make.organisation()
    fork = workbench.fork(
        workbench.latest_published(db.session.get(CurriculumRecord, standard(db))), org, None
    )
    draft = workbench.draft_of(fork)
    workbench.publish(draft, None, expected_version=draft.lock_version)
    v1 = workbench.latest_published(fork)
    first = make.cohort(org, version=v1, start=date(2027, 3, 1), name="Abgesagt")
    second = make.cohort(org, version=v1, start=date(2027, 3, 8), name="Gestrichen")
    reflection = next(s for s in first.sessions if s.element.key == "reflection")
    cancel_session(reflection, actor=None, expected_version=reflection.lock_version)
    cancelled_uid = reflection.uid
    db.session.flush()
    untouched = (reflection.lock_version, reflection.updated_at, reflection.element_id)
    dropped_uid = next(s.uid for s in second.sessions if s.element.key == "reflection")
    ids = {"fork": fork.id, "first": first.id, "second": second.id}
    org_id = org.id
    feeds = {
        name: tokens.issue(Purpose.COHORT_FEED, ids[name], org.id, None)
        for name in ("first", "second")
    }
    db.session.commit()

    def events(name):  # type: ignore[no-untyped-def]
        response = client.get(f"/feeds/{feeds[name]}.ics")
        assert response.status_code == 200
        calendar = icalendar.Calendar.from_ical(response.data)
        return {str(e["UID"]): e for e in calendar.walk("VEVENT")}

    def publish_and_move(name, change):  # type: ignore[no-untyped-def]
        record = db.session.get(CurriculumRecord, ids["fork"])
        draft = workbench.start_draft(record)
        workbench.edit(draft, change, expected_version=draft.lock_version)
        workbench.publish(draft, None, expected_version=draft.lock_version)
        workbench.move_to_version(
            db.session.get(Cohort, ids[name]),
            workbench.latest_published(record),
            None,
            today=date(2026, 12, 1),
            save_changes=True,
            language="de",
        )
        db.session.commit()

    def later_reflection(data):  # type: ignore[no-untyped-def]
        element = next(e for e in data["elements"] if e["key"] == "reflection")
        element["gap"] = {"preferred": "10w", "min": "6w", "max": "16w"}

    before = events("first")
    publish_and_move("first", later_reflection)
    sessions = db.session.scalars(select(Session).where(Session.cohort_id == ids["first"])).all()
    assert len(sessions) == 3  # no second reflection day
    kept = [s for s in sessions if s.element.key == "reflection"]
    assert [(s.uid, s.status) for s in kept] == [(cancelled_uid, SessionStatus.CANCELLED)]
    # Not even touched: a long-cancelled session must not come back into feeds.
    assert (kept[0].lock_version, kept[0].updated_at, kept[0].element_id) == untouched
    after = events("first")
    assert after.keys() == before.keys()
    assert str(after[cancelled_uid]["STATUS"]) == "CANCELLED"

    def without_reflection(data):  # type: ignore[no-untyped-def]
        data["elements"] = [e for e in data["elements"] if e["key"] != "reflection"]
        rule = data["certificate"]
        rule["required"] = [k for k in rule["required"] if k != "reflection"]
        for group in rule.get("at_least", []):
            group["of"] = [k for k in group["of"] if k != "reflection"]

    publish_and_move("second", without_reflection)
    shown = events("second")[dropped_uid]
    assert str(shown["STATUS"]) == "CANCELLED"
    assert shown["SEQUENCE"] == 1
    assert str(shown["SUMMARY"]).startswith("Reflexionstag")  # as version 1 describes it
    make.user(Role.TRAINER, [db.session.get(Organisation, org_id)], email="t@example.org")
    log_in(client, "t@example.org")
    for page in (f"/cohorts/{ids['second']}", f"/cohorts/{ids['second']}/calendar.ics"):
        assert client.get(page).status_code == 200, page
