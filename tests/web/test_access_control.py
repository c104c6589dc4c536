"""Every route, from the URL map: anonymous users are sent to log in, and a
user of another organisation gets 404 for any record, also by guessing ids.
A new route or a new kind of record id fails here until it is covered."""

import base64
from datetime import date

import pytest

from app import credentials
from app.models import ClosureDay, Role
from app.services import api_tokens, notifications
from app.views.access import PUBLIC_ENDPOINTS as PUBLIC
from tests.web.helpers import csrf_token, log_in

# Pages anyone may see who knows the code: a certificate's verification page.
OPEN_TO_ANYONE = {
    "certificates.verify",
    # An issuer's profile and public keys: for anyone verifying its credentials.
    "issuers.profile",
    "issuers.jwks",
    "issuers.key",
    "issuers.status_list",
}
# The smallest valid PNG (one white pixel), as an organisation's logo.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)


def routes(app):
    """Every route of the pages; the API's are checked with tokens in
    tests/api/test_api_access.py."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.rule.startswith("/api/")
    ]


@pytest.fixture
def two_organisations(make, db):
    ours = make.organisation("Eigene GmbH")
    theirs = make.organisation("Fremde AG")
    insider = make.user(Role.ADMIN, [ours], email="insider@example.org")
    outsider = make.user(Role.ADMIN, [theirs], email="outsider@example.org")
    # The accounts the insider manages: a colleague (one's own account is
    # not deactivated, so its question is not a page).
    colleague = make.user(Role.TRAINER, [ours], email="colleague@example.org")
    # Each organisation's own copy of the compact format: a published version
    # its cohort follows, and a draft of the next one.
    our_copy, their_copy = (forked(make, db, org) for org in (ours, theirs))
    cohort = make.cohort(ours, start=date(2027, 3, 1), region="DE-BY", version=our_copy[1])
    foreign = make.cohort(theirs, start=date(2027, 3, 1), region="DE-BY", version=their_copy[1])
    person = make.participant(ours, cohort=cohort)
    stranger = make.participant(theirs, cohort=foreign)
    ours_paired = make.tandem(cohort, [person, make.participant(ours, cohort=cohort)])
    theirs_paired = make.tandem(foreign, [stranger, make.participant(theirs, cohort=foreign)])
    our_certificate = make.certificate(cohort, person)
    their_certificate = make.certificate(foreign, stranger)
    ours.logo_png = theirs.logo_png = TINY_PNG
    our_closure, their_closure = (
        ClosureDay(organisation=org, day=date(2027, 12, 24), reason="Betriebsferien")
        for org in (ours, theirs)
    )
    db.session.add_all([our_closure, their_closure])
    our_key, their_key = (
        api_tokens.issue(user, org.id) and api_tokens.of_user(user)[-1]
        for user, org in ((insider, ours), (outsider, theirs))
    )
    our_message, their_message = (
        notifications.record(
            kind="text",
            key=f"access:{someone.id}",
            address=someone.email,
            organisation_id=someone.organisation_id,
            cohort_id=group.id,
            participant_id=someone.id,
            payload={"subject": "Hallo", "body": "Hallo"},
        )
        for someone, group in ((person, cohort), (stranger, foreign))
    )
    our_job, their_job = (
        finished_job(user, org) for user, org in ((insider, ours), (outsider, theirs))
    )
    db.session.commit()
    return {
        "insider": insider,
        "outsider": outsider,
        "ids": {
            # A secret link's token: a guessed one must find nothing (see test_tokens.py).
            "token": "a-guessed-token-that-was-never-issued",
            "cohort_id": cohort.id,
            "session_id": cohort.sessions[0].id,
            "participant_id": person.id,
            "enrolment_id": person.enrolments[0].id,
            "tandem_id": ours_paired.id,
            "entry_id": make.not_together(*ours_paired.people).id,
            "organisation_id": ours.id,
            "year": 2027,
            "curriculum_id": our_copy[0].id,
            "version_id": our_copy[2].id,
            "key": "seminar-1",
            "certificate_id": our_certificate.id,
            "code": our_certificate.code,
            "token_id": our_key.id,
            "user_id": colleague.id,
            "closure_id": our_closure.id,
            "notification_id": our_message.id,
            "public_id": our_job.public_id,
            "kid": credentials.keys.current(ours.id).kid,
        },
        "foreign": {
            "token": "another-guessed-token",
            "cohort_id": foreign.id,
            "session_id": foreign.sessions[0].id,
            "participant_id": stranger.id,
            "enrolment_id": stranger.enrolments[0].id,
            "tandem_id": theirs_paired.id,
            "entry_id": make.not_together(*theirs_paired.people).id,
            "organisation_id": theirs.id,
            "year": 2027,
            "curriculum_id": their_copy[0].id,
            "version_id": their_copy[2].id,
            "key": "seminar-1",
            "certificate_id": their_certificate.id,
            "code": their_certificate.code,
            "token_id": their_key.id,
            "user_id": outsider.id,
            "closure_id": their_closure.id,
            "notification_id": their_message.id,
            "public_id": their_job.public_id,
            "kid": credentials.keys.current(theirs.id).kid,
        },
    }


def finished_job(user, organisation):
    """A job of the user's that printed a PDF (its page, state and file)."""
    from app.services import jobs
    from app.services.policy import Actor

    job = jobs.start(
        jobs.CERTIFICATES,
        Actor.of_user(user),
        organisation_id=organisation.id,
        language="de",
        params={"lang": "de"},
    )
    jobs.finish(
        job,
        {"certificates": 0},
        file=b"%PDF-1.4\n",
        file_name="Zertifikate.pdf",
        file_type="application/pdf",
    )
    return job


def forked(make, db, organisation):
    """The organisation's fork of the compact format: record, published
    version 1 and the draft of version 2."""
    from app.services import curricula as workbench

    record = workbench.fork(make.version("compact"), organisation, None)
    workbench.publish(workbench.draft_of(record), None, expected_version=1)
    draft = workbench.start_draft(record)
    db.session.commit()
    return record, workbench.latest_published(record), draft


def url_for_rule(rule, ids):
    values = {}
    for argument in rule.arguments:
        assert argument in ids, (
            f"{rule.rule}: no record of type '{argument}' in this test; add one so the "
            "route's per-record check is tested"
        )
        values[argument] = ids[argument]
    return rule.build(values)[1]


def test_anonymous_users_are_sent_to_log_in(app, client, two_organisations):
    for rule in routes(app):
        url = url_for_rule(rule, two_organisations["ids"])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            if rule.endpoint in PUBLIC and "token" in rule.arguments:
                assert response.status_code in (404, 400), (method, url)
            elif rule.endpoint in PUBLIC:
                assert response.status_code in (200, 302, 400), (method, url)
            elif method == "GET":
                assert response.status_code == 302, (method, url)
                assert response.headers["Location"].startswith("/login"), (method, url)
            else:
                # Without a CSRF token nothing is even looked at.
                assert response.status_code in (302, 400), (method, url)


def request(client, rule, url):
    """The route's own method; a POST carries a valid CSRF token, so that the
    per-record check itself is what answers."""
    if "GET" in rule.methods:
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(client, "/dashboard")})


def test_records_of_other_organisations_are_not_found(app, client, two_organisations):
    log_in(client, "outsider@example.org")
    checked = 0
    for rule in routes(app):
        if not rule.arguments or rule.endpoint in OPEN_TO_ANYONE:
            continue
        url = url_for_rule(rule, two_organisations["ids"])
        assert request(client, rule, url).status_code == 404, url
        checked += 1
    assert checked >= 5


def test_guessed_ids_are_not_found_either(app, client, two_organisations):
    log_in(client, "outsider@example.org")
    for rule in routes(app):
        if not rule.arguments:
            continue
        guessed = {name: 999_999 for name in rule.arguments}
        url = rule.build(guessed)[1]
        assert request(client, rule, url).status_code == 404, url


def test_the_owner_sees_them(app, client, two_organisations):
    log_in(client, "insider@example.org")
    for rule in routes(app):
        if rule.arguments and "GET" in rule.methods and "token" not in rule.arguments:
            url = url_for_rule(rule, two_organisations["ids"])
            assert client.get(url).status_code == 200, url


def test_a_record_under_someone_elses_parent_is_not_found(app, client, two_organisations):
    """Own cohort id with another organisation's session id, and the other way round."""
    log_in(client, "insider@example.org")
    ours, theirs = two_organisations["ids"], two_organisations["foreign"]
    checked = 0
    for rule in routes(app):
        children = set(rule.arguments) - {"cohort_id", "token"}
        if "cohort_id" not in rule.arguments or not children:
            continue
        for child in children:
            mixed = {name: ours[name] for name in rule.arguments} | {child: theirs[child]}
            assert request(client, rule, rule.build(mixed)[1]).status_code == 404, rule.rule
            mixed = {name: theirs[name] for name in rule.arguments} | {child: ours[child]}
            assert request(client, rule, rule.build(mixed)[1]).status_code == 404, rule.rule
        checked += 1
    assert checked >= 2
