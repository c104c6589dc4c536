"""Refusals on the workbench: each answers 303 with its reason and code on
top of the page the form was on (or at its field, 400), and nothing is
saved; concurrent edits of a draft or of a previewed cohort are stale edits."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Cohort, CurriculumRecord, CurriculumVersion, Organisation, Role
from app.services import curricula as workbench
from app.services.errors import StaleEdit
from app.services.policy import Actor
from tests.web.helpers import csrf_token, log_in
from tests.web.test_workbench import (
    consultant_of_a_new_organisation,
    element_form,
    fork_for,
    version_field,
)


@pytest.fixture
def fork(client, make, db):
    """A consultant's fork of the compact format with its draft of version 1."""
    org_id = consultant_of_a_new_organisation(client, make)
    return {"org": org_id, "id": fork_for(client, db, org_id)}


def draft_source(db, fork_id: int) -> str | None:
    db.session.expire_all()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork_id))
    return draft.source if draft else None


def send(client, url: str, data: dict, *, page: str, **headers):
    """A form post from `page`, as a browser sends it (with its Referer)."""
    token = csrf_token(client, page)
    return client.post(
        url,
        data={"csrf_token": token, **data},
        headers={"Referer": f"http://localhost{page}", **headers},
    )


def refused(client, response, code: str) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"refused-{code}" in page
    assert "Es wurde nichts gespeichert" in page
    return page


def test_a_draft_changed_meanwhile_is_a_stale_edit(client, db, fork):
    page = f"/curricula/{fork['id']}"
    stale = version_field(client.get(page).get_data(as_text=True))
    data = {"version": stale, "key": "practice", "title_de": "Übung", "title_en": "Practice"}
    assert send(client, f"{page}/draft/elements", data, page=page).status_code == 303
    before = draft_source(db, fork["id"])
    for action in ("draft/publish", "draft/discard", "draft/elements/reflection/up"):
        response = send(client, f"{page}/{action}", {"version": stale}, page=page)
        text = refused(client, response, "stale")
        assert "jemand anderes hat diesen entwurf" in text.lower()
        assert response.headers["Location"] == page  # back where the form was
        assert draft_source(db, fork["id"]) == before
    # A script asking for JSON gets the code and the status.
    answer = send(
        client, f"{page}/draft/publish", {"version": stale}, page=page, Accept="application/json"
    )
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "stale"


def test_the_rules_of_editing_refuse_with_their_codes(client, db, fork):
    page = f"/curricula/{fork['id']}"

    def version():
        return version_field(client.get(page).get_data(as_text=True))

    before = draft_source(db, fork["id"])
    for action, code in (
        ("draft/elements/seminar-2/remove", "element_has_followers"),
        ("draft/elements/seminar-1/down", "first_on_start"),
        ("draft/elements/seminar-2/up", "first_on_start"),
    ):
        refused(client, send(client, f"{page}/{action}", {"version": version()}, page=page), code)
        assert draft_source(db, fork["id"]) == before
    # Both titles of a new element are judged at once, each at its field.
    data = {"version": version(), "title_de": "Ü" * 250, "title_en": "Twice\x07"}
    response = send(client, f"{page}/draft/elements", data, page=page)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    german = text.split('id="title_de-error"')[1].split("</")[0]
    english = text.split('id="title_en-error"')[1].split("</")[0]
    assert "länger als 200 Zeichen" in german
    assert "Steuerzeichen" in english
    assert "Es wurde nichts gespeichert" not in text.split("<main")[0]
    assert draft_source(db, fork["id"]) == before
    # An element that does not exist is not found.
    response = send(
        client, f"{page}/draft/elements/nowhere/remove", {"version": version()}, page=page
    )
    assert response.status_code == 404


def test_the_first_element_on_the_start_is_shown_at_its_field(client, db, fork):
    url = f"/curricula/{fork['id']}/draft/elements/seminar-1"
    values = element_form(client, url)
    before = draft_source(db, fork["id"])
    response = send(client, url, {**values, "after": "reflection"}, page=url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert re.search(r'id="after-error"', text)
    assert draft_source(db, fork["id"]) == before


def test_imports_are_refused_with_their_codes(client, db, fork):
    page = f"/curricula/{fork['id']}"
    before = draft_source(db, fork["id"])
    source = before.replace('key = "compact"', 'key = "other"')
    for content, code in (
        ("Größe".encode("latin-1"), "not_utf8"),
        (source.encode(), "other_curriculum"),
        (b"key = ", "invalid_curriculum"),
    ):
        data = {"file": (io.BytesIO(content), "format.toml")}
        refused(client, send(client, f"{page}/import", data, page=page), code)
        assert draft_source(db, fork["id"]) == before
    refused(client, send(client, f"{page}/import", {}, page=page), "file_missing")


def test_only_planners_change_a_curriculum(app, client, make, db, fork):
    make.user(Role.HR, [db.session.get(Organisation, fork["org"])], email="hr@example.org")
    client = app.test_client()  # a browser of its own
    log_in(client, "hr@example.org")
    page = f"/curricula/{fork['id']}"
    text = client.get(page).get_data(as_text=True)
    assert "Entwurf verwerfen" not in text
    before = draft_source(db, fork["id"])
    for action in ("draft/publish", "draft/discard", "draft/elements/reflection/remove"):
        assert send(client, f"{page}/{action}", {"version": "1"}, page=page).status_code == 403
    assert client.get(f"{page}/draft/certificate").status_code == 403
    assert draft_source(db, fork["id"]) == before


def test_a_cohort_changed_since_the_preview_is_not_moved(client, make, db, fork):
    page = f"/curricula/{fork['id']}"
    send(
        client,
        f"{page}/draft/publish",
        {"version": version_field(client.get(page).get_data(True)), "confirmed": "yes"},
        page=page,
    )
    v1 = db.session.scalar(
        select(CurriculumVersion).where(CurriculumVersion.curriculum_id == fork["id"])
    )
    cohort = make.cohort(
        db.session.get(Organisation, fork["org"]), version=v1, start=date(2027, 3, 1)
    )
    ids = {"cohort": cohort.id, "v1": v1.id}
    send(client, f"{page}/draft", {"version": "0"}, page=page)
    send(
        client,
        f"{page}/draft/publish",
        {"version": version_field(client.get(page).get_data(True)), "confirmed": "yes"},
        page=page,
    )
    move = f"{page}/cohorts/{ids['cohort']}"
    stale = version_field(client.get(move).get_data(as_text=True))
    db.session.expire_all()
    changed = db.session.get(Cohort, ids["cohort"])
    changed.name = "Gruppe 1 (umbenannt)"
    db.session.commit()
    text = refused(client, send(client, move, {"version": stale}, page=move), "stale")
    assert "seit der Vorschau geändert" in text
    db.session.expire_all()
    assert db.session.get(Cohort, ids["cohort"]).version_id == ids["v1"]
    # The same through the service.
    with pytest.raises(StaleEdit):
        workbench.move_cohort_to_version(
            Actor.system(),
            fork["id"],
            ids["cohort"],
            expected_version=stale,
            today=date(2026, 12, 1),
            language="de",
        )
