"""Hostile input into every form of the workbench: a fork's page with its
draft, an element, the certificate rule and the publishing question. No
answer is a server error, and the draft stays valid whatever was sent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import CurriculumRecord
from app.services import curricula as workbench
from tests.reliability.test_bad_input import VALUES, forms_on
from tests.web.test_workbench_refusals import fork as fork  # the fixture, shared


def test_no_workbench_form_answers_random_input_with_a_server_error(client, db, fork):
    page = f"/curricula/{fork['id']}"
    pages = [
        page,
        f"{page}/draft/elements/reflection",
        f"{page}/draft/certificate",
        f"{page}/draft/publish",
    ]
    forms = [form for url in pages for form in forms_on(client, url)]
    actions = {form["action"] for form in forms}
    assert f"{page}/name" in actions
    assert f"{page}/draft/elements" in actions
    assert f"{page}/draft/certificate" in actions

    @given(data=st.data())
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def survives(data):
        form = data.draw(st.sampled_from(forms))
        # The lock versions as the page gave them, often: else every post
        # would stop at the stale-edit check before the fields are judged.
        kept = data.draw(st.booleans())
        fields = {
            name: value
            if name == "csrf_token" or (kept and name.endswith("version"))
            else data.draw(VALUES)
            for name, value in form["fields"].items()
        }
        response = client.post(form["action"], data=fields, content_type=None)
        assert response.status_code < 500, (form["action"], fields)

    survives()
    db.session.expire_all()
    record = db.session.get(CurriculumRecord, fork["id"])
    for version in record.versions:
        assert version.model.elements  # every stored version still loads
    assert workbench.choice_label(record, "de")
