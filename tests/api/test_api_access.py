"""Every API route, from the URL map: without a token 401; with another
organisation's token, or a guessed id, 404. A new route fails here until its
ids are covered."""

from __future__ import annotations

API_RULES_WITHOUT_TOKEN = {"api-docs.openapi_json"}


def api_routes(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.endpoint not in API_RULES_WITHOUT_TOKEN
    ]


def test_without_a_token_every_route_answers_401(app, client, world):
    checked = 0
    for rule in api_routes(app):
        url = rule.build({name: 1 for name in rule.arguments})[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code == 401, (method, url)
            assert response.json["error"]["code"] == "unauthorized"
            checked += 1
    assert checked >= 17


def test_records_of_another_organisation_are_not_found(app, call, records):
    ours = records
    checked = 0
    for rule in api_routes(app):
        if not rule.arguments:
            continue
        url = rule.build({name: ours[name] for name in rule.arguments})[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if "curriculum_id" in rule.arguments:
                continue  # the shipped standards are everyone's; forks are checked below
            response = call(method, url, "stranger", json=_valid_body(rule.endpoint, ours))
            assert response.status_code == 404, (method, url, response.json)
            checked += 1
        guessed = rule.build({name: 2**31 - 2 for name in rule.arguments})[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            body = _valid_body(rule.endpoint, ours)
            assert call(method, guessed, "admin", json=body).status_code == 404, guessed
    assert checked >= 12


def test_an_organisations_own_curriculum_is_not_found_by_others(call, world, make, db):
    from app.models import Organisation
    from app.services import curricula as workbench

    ours = db.session.get(Organisation, world["organisation"])
    record = workbench.fork(make.version("compact"), ours, None)
    workbench.publish(workbench.draft_of(record), None, expected_version=1)
    version = workbench.latest_published(record)
    db.session.commit()
    url = f"/api/v1/curricula/{record.id}/versions/{version.id}"
    assert call("GET", url, "hr").status_code == 200
    assert call("GET", url, "stranger").status_code == 404
    listed = call("GET", "/api/v1/curricula?per_page=200", "stranger").json["items"]
    assert record.id not in [c["id"] for c in listed]


def _valid_body(endpoint: str, ids: dict[str, int]) -> dict[str, object] | None:
    """A body that passes validation, so that the record check is what answers."""
    return {
        "api_participants.create_enrolment": {"participant_id": ids["participant_id"]},
        "api_attendance.set_mark": {"mark": "present"},
        "api_certificates.issue_certificate": {"participant_id": ids["participant_id"]},
        "api_certificates.revoke_certificate": {"reason": "test"},
        "api_registrations.decline": {"reason": "test"},
        "api_registrations.invite": {"participant_id": ids["participant_id"]},
        "api_make_ups.book": {"cohort_id": ids["cohort_id"], "session_id": ids["session_id"]},
    }.get(endpoint)
