"""Schemathesis reads /api/v1/openapi.json and calls every operation with
generated requests, in-process: no server error, and every answer matches
what the document promises (status codes, content types, bodies)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from app.services.attendance import MAX_MINUTES_MISSED


def test_the_document_is_served_without_a_token(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert (
        "/api/v1/cohorts/{cohort_id}/attendance/{session_id}/{participant_id}"
        in (document["paths"])
    )
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete")
    }
    assert {
        ("GET", "/api/v1/cohorts/{cohort_id}/registrations"),
        ("POST", "/api/v1/registrations/{registration_id}/accept"),
        ("POST", "/api/v1/registrations/{registration_id}/decline"),
        ("POST", "/api/v1/cohorts/{cohort_id}/invitations"),
        ("GET", "/api/v1/cohorts/{cohort_id}/at-risk"),
        ("GET", "/api/v1/participants/{participant_id}/at-risk"),
        ("POST", "/api/v1/participants/{participant_id}/make-ups"),
        ("DELETE", "/api/v1/participants/{participant_id}/make-ups/{session_id}"),
    } <= operations
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # The minutes of a mark as the attendance service's rule has them: no
    # default of 0 for partly, which is refused.
    minutes = document["components"]["schemas"]["MarkIn"]["properties"]["minutes_missed"]
    assert (minutes["minimum"], minutes["maximum"]) == (0, MAX_MINUTES_MISSED)
    assert "default" not in minutes
    assert f"1 to {MAX_MINUTES_MISSED} (left out: 30 for partly)" in minutes["description"]
    assert "422 invalid_minutes" in minutes["description"]


def test_every_operation_keeps_its_promises(app, world, records):
    """Three rounds per operation: valid requests on records that exist,
    valid requests on whatever ids come up, and invalid requests."""
    headers = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        strategies = [
            operation.as_strategy(headers=headers, path_parameters={n: records[n] for n in names}),
            operation.as_strategy(headers=headers),
        ]
        if names or operation.body or operation.query:
            # Without parameters there is nothing to get wrong but the token
            # (tests/api/test_api.py sends none, bad and revoked ones).
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, headers=headers))
        for strategy in strategies:

            @given(case=strategy)
            @settings(
                max_examples=20,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def keeps_promises(case):
                case.call_and_validate()

            keeps_promises()
