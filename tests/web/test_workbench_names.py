"""What people read on the workbench: a fork named with its client, renamed
by whoever may edit it; elements by their titles and teaching units;
publishing only after the page said what will happen."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.models import CurriculumRecord, CurriculumVersion, Organisation, Role
from app.services import curricula as workbench
from tests.web.helpers import log_in
from tests.web.test_workbench import element_form, publish, standard, version_field
from tests.web.test_workbench_refusals import draft_source, refused, send
from tests.web.test_workbench_refusals import fork as fork  # the fixture, shared


def organisation_name(db, fork) -> str:
    return db.session.get(Organisation, fork["org"]).name


def rename_form(client, page: str) -> dict:
    text = client.get(page).get_data(as_text=True)
    version = re.search(r'name="rename-version"[^>]*value="([^"]+)"', text).group(1)
    return {"rename-version": version}


def test_a_fork_is_listed_and_shown_with_its_clients_name(client, db, fork):
    name = organisation_name(db, fork)
    label = f"Lernbegleitung kompakt: zwei Seminartage und Reflexionstag – für {name}"
    assert label in client.get("/curricula").get_data(as_text=True)
    page = client.get(f"/curricula/{fork['id']}").get_data(as_text=True)
    assert f"<title>{label} · Qualiplan</title>" in page
    assert f"eigene Fassung für „{name}“" in page
    standard_page = client.get(f"/curricula/{standard(db)}").get_data(as_text=True)
    assert label in standard_page  # in the list of its forks


def test_the_label_leaves_out_a_name_the_title_says_already(db, fork):
    record = db.session.get(CurriculumRecord, fork["id"])
    name = record.organisation.name
    record.title_de = f"Kompakt für {name}"
    assert workbench.choice_label(record, "de") == f"Kompakt für {name}"
    assert workbench.choice_label(record, "en").endswith(f" – for {name}")
    assert workbench.choice_label(db.session.get(CurriculumRecord, standard(db)), "de") == (
        "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag"
    )


def test_a_fork_is_renamed_and_its_next_version_carries_the_name(client, db, fork):
    page = f"/curricula/{fork['id']}"
    data = {
        **rename_form(client, page),
        "rename-title_de": "Lernbegleitung im Werk",
        "rename-title_en": "Learning companions at the plant",
    }
    response = send(client, f"{page}/name", data, page=page)
    assert response.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "Das Curriculum wurde umbenannt." in shown
    assert "<h1>Lernbegleitung im Werk</h1>" in shown
    assert "Lernbegleitung im Werk – " in client.get("/curricula").get_data(as_text=True)
    assert "Lernbegleitung im Werk" in draft_source(db, fork["id"])
    publish(client, page)
    db.session.expire_all()
    record = db.session.get(CurriculumRecord, fork["id"])
    assert record.title_de == "Lernbegleitung im Werk"
    assert workbench.latest_published(record).model.title.en == "Learning companions at the plant"
    # A new draft starts from the name as it is now.
    send(client, f"{page}/draft", {"version": "0"}, page=page)
    assert "Lernbegleitung im Werk" in draft_source(db, fork["id"])


def test_bad_names_are_refused_at_their_fields_all_at_once(client, db, fork):
    page = f"/curricula/{fork['id']}"
    before = db.session.get(CurriculumRecord, fork["id"]).title_de
    data = {
        **rename_form(client, page),
        "rename-title_de": "Ü" * 201,
        "rename-title_en": "Two\r\nlines",
    }
    response = send(client, f"{page}/name", data, page=page)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    german = text.split('id="rename-title_de-error"')[1].split("</")[0]
    english = text.split('id="rename-title_en-error"')[1].split("</")[0]
    assert "länger als 200 Zeichen" in german
    assert "Zeilenumbrüche" in english
    assert 'aria-describedby="rename-title_de-error"' in text
    empty = {**rename_form(client, page), "rename-title_de": " ", "rename-title_en": ""}
    text = send(client, f"{page}/name", empty, page=page).get_data(as_text=True)
    assert 'id="rename-title_de-error"' in text
    assert 'id="rename-title_en-error"' in text
    db.session.expire_all()
    assert db.session.get(CurriculumRecord, fork["id"]).title_de == before


def test_a_rename_begun_before_another_is_a_stale_edit(client, db, fork):
    page = f"/curricula/{fork['id']}"
    stale = rename_form(client, page)
    first = {**stale, "rename-title_de": "Erster Name", "rename-title_en": "First name"}
    assert send(client, f"{page}/name", first, page=page).status_code == 303
    second = {**stale, "rename-title_de": "Zweiter Name", "rename-title_en": "Second name"}
    text = refused(client, send(client, f"{page}/name", second, page=page), "stale")
    assert "inzwischen umbenannt" in text
    db.session.expire_all()
    assert db.session.get(CurriculumRecord, fork["id"]).title_de == "Erster Name"


def test_only_who_may_edit_renames(app, client, make, db, fork):
    make.user(Role.HR, [db.session.get(Organisation, fork["org"])], email="hr@example.org")
    other = app.test_client()
    log_in(other, "hr@example.org")
    page = f"/curricula/{fork['id']}"
    text = other.get(page).get_data(as_text=True)
    assert "rename-title_de" not in text
    data = {"rename-version": "x", "rename-title_de": "Meins", "rename-title_en": "Mine"}
    assert send(other, f"{page}/name", data, page=page).status_code == 403
    standard_page = f"/curricula/{standard(db)}"
    assert send(client, f"{standard_page}/name", data, page=standard_page).status_code == 403


def test_elements_are_named_by_title_with_their_teaching_units(client, db, fork):
    page = client.get(f"/curricula/{fork['id']}").get_data(as_text=True)
    table = page.split("<tbody>")[-1].split("</tbody>")[0]
    assert "seminar-1" not in re.sub(r'(href|action|id)="[^"]*"', "", table)
    assert 'aria-label="Nach oben: Seminartag 1: Rolle, Lernformate und Lerntheorie"' in table
    assert re.search(r'data-label="Unterrichtseinheiten">8</td>', table)
    assert re.search(r'data-label="Unterrichtseinheiten">4</td>', table)
    assert "20 Unterrichtseinheiten à 45 Minuten zählen für das Zertifikat." in page
    rule = page.split("<strong>Zertifikat:</strong>")[1].split("</p>")[0]
    assert "Seminartag 2: Der Prozess der Lernbegleitung" in rule
    assert "seminar-2" not in rule.split('href="')[0]


def test_an_elements_teaching_time_is_entered_in_units(client, db, fork):
    url = f"/curricula/{fork['id']}/draft/elements/reflection"
    text = client.get(url).get_data(as_text=True)
    assert "Unterrichtseinheiten à 45 Minuten" in text
    assert "· reflection" not in text
    values = element_form(client, url)
    assert values["teaching_units"] == "4"
    response = send(client, url, {**values, "teaching_units": "5"}, page=url)
    assert response.status_code == 303
    db.session.expire_all()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork["id"]))
    assert draft.model.element("reflection").teaching_hours == 3.75
    values = element_form(client, url)
    assert values["teaching_units"] == "5"
    too_many = send(client, url, {**values, "teaching_units": "6"}, page=url)
    assert too_many.status_code == 400
    error = too_many.get_data(as_text=True).split('id="teaching_units-error"')[1]
    assert "6 Unterrichtseinheiten à 45 Minuten passen nicht" in error.split("</")[0]


def test_several_errors_of_an_element_show_at_once(client, db, fork):
    url = f"/curricula/{fork['id']}/draft/elements/reflection"
    values = element_form(client, url)
    before = draft_source(db, fork["id"])
    wrong = {**values, "title_en": "Two\nlines", "duration": "vier", "teaching_units": "-1"}
    response = send(client, url, wrong, page=url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for field in ("title_en", "duration", "teaching_units"):
        assert f'id="{field}-error"' in text, field
    assert draft_source(db, fork["id"]) == before


def test_publishing_says_which_cohorts_can_move_onto_the_version(client, make, db, fork):
    page = f"/curricula/{fork['id']}"
    publish(client, page)
    v1 = db.session.scalar(
        select(CurriculumVersion).where(CurriculumVersion.curriculum_id == fork["id"])
    )
    organisation = db.session.get(Organisation, fork["org"])
    make.cohort(organisation, version=v1, start=date(2027, 3, 1), name="Gruppe Frühjahr")
    send(client, f"{page}/draft", {"version": "0"}, page=page)
    before = draft_source(db, fork["id"])
    shown = version_field(client.get(page).get_data(as_text=True))
    asked = send(client, f"{page}/draft/publish", {"version": shown}, page=page)
    assert asked.status_code == 303
    question = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Version 2 von „" in question
    assert "1 geplante Gruppe kann dann auf sie umgestellt werden" in question
    assert "Gruppe Frühjahr" in question
    assert "Das Veröffentlichen kann nicht rückgängig gemacht werden." in question
    assert draft_source(db, fork["id"]) == before  # nothing happened yet
    confirmed = dict(re.findall(r'name="(version|confirmed)"[^>]*value="([^"]*)"', question))
    assert confirmed["confirmed"] == "yes"
    done = send(client, f"{page}/draft/publish", confirmed, page=asked.headers["Location"])
    assert done.status_code == 303
    assert draft_source(db, fork["id"]) is None
