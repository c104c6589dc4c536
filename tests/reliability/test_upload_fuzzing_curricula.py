"""Fuzzing the curriculum upload of the workbench with structured hostile
files (tests/hostile_curricula.py). Through the real route, every file is
refused with its problems or becomes the draft, which then shows and
publishes: never a server error, and a refused file changes nothing."""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, event, given, settings
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import CurriculumRecord
from app.services import curricula as workbench
from tests.hostile_curricula import curriculum_files
from tests.web.helpers import csrf_token
from tests.web.test_workbench import consultant_of_a_new_organisation, fork_for


def upload(client, fork_id: int, content: bytes):
    page = f"/curricula/{fork_id}"
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, page),
            "file": FileStorage(io.BytesIO(content), "curriculum.toml"),
        }
    )
    return client.post(
        f"{page}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Referer": f"http://localhost{page}"},
    )


def draft_source(db, fork_id: int) -> str | None:
    db.session.expire_all()
    draft = workbench.draft_of(db.session.get(CurriculumRecord, fork_id))
    return draft.source if draft else None


def test_hostile_curriculum_files_never_fail_the_workbench(client, make, db):
    org_id = consultant_of_a_new_organisation(client, make)
    fork = fork_for(client, db, org_id)
    page = f"/curricula/{fork}"

    @given(content=curriculum_files())
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def survives(content):
        before = draft_source(db, fork)
        response = upload(client, fork, content)
        assert response.status_code == 303, response.status_code
        shown = client.get(response.headers["Location"])
        assert shown.status_code == 200
        text = shown.get_data(as_text=True)
        if "refused-" in text:
            event(re.search(r"refused-([a-z_]+)", text).group(1))
            assert "Es wurde nichts gespeichert" in text
            assert draft_source(db, fork) == before
            return
        # Taken: the draft shows and publishes.
        event("taken")
        assert draft_source(db, fork) is not None
        version = re.search(r'name="version"[^>]*value="(\d+)"', text).group(1)
        token = csrf_token(client, page)
        published = client.post(
            f"{page}/draft/publish", data={"csrf_token": token, "version": version}
        )
        assert published.status_code == 303, published.status_code
        assert client.get(page).status_code == 200

    survives()
