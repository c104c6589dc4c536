"""Ending a person's access ends every secret link they hold: the personal
page and the calendar feed subscribed from it."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AccessToken, Change, Purpose, Role
from app.services import tokens
from tests.web.helpers import csrf_token, log_in


def setup(make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Gruppe Nord")
    person = make.participant(org, cohort=cohort, first_name="Jörg", last_name="Yılmaz")
    page = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    feed = tokens.issue(Purpose.PARTICIPANT_FEED, person.id, org.id, None)
    db.session.commit()
    return person.id, page, feed


def test_staff_ending_access_ends_the_personal_page_and_the_feed(client, make, db):
    person_id, page, feed = setup(make, db)
    assert client.get(f"/p/{page}").status_code == 200
    assert client.get(f"/feeds/{feed}.ics").status_code == 200
    log_in(client, "hr@example.org")
    staff_page = f"/participants/{person_id}"
    ended = client.post(
        f"{staff_page}/access/end", data={"csrf_token": csrf_token(client, staff_page)}
    )
    assert ended.status_code == 302
    assert client.get(f"/p/{page}").status_code == 404
    assert client.get(f"/feeds/{feed}.ics").status_code == 404
    # Ended, not deleted: the person's data export still lists both links.
    db.session.expire_all()
    held = db.session.scalars(select(AccessToken).where(AccessToken.subject_id == person_id)).all()
    assert {t.purpose for t in held} == {Purpose.PERSONAL_PAGE, Purpose.PARTICIPANT_FEED}
    assert all(t.revoked_at is not None for t in held)
    [change] = db.session.scalars(select(Change).where(Change.action == "access_ended")).all()
    assert change.after == {"ended": ["personal_page", "participant_feed"]}


def test_the_staff_page_says_what_ending_access_ends(client, make, db):
    person_id, _, _ = setup(make, db)
    log_in(client, "hr@example.org")
    text = client.get(f"/participants/{person_id}?lang=en").get_data(as_text=True)
    assert "Personal link: works, since" in text
    assert "Calendar subscription: works, since" in text
    assert "End all access</button>" in text
    assert "switches off both the personal link and the calendar subscription" in text
    staff_page = f"/participants/{person_id}"
    done = client.post(
        f"{staff_page}/access/end",
        data={"csrf_token": csrf_token(client, staff_page)},
        follow_redirects=True,
    )
    text = done.get_data(as_text=True)
    assert "The personal link and the calendar subscription no longer work." in text
    assert "Personal link: none working." in text
    assert "Calendar subscription: none working." in text
    assert "End all access</button>" not in text  # nothing is left to end


def test_a_new_link_keeps_the_subscription_but_ending_access_does_not(client, make, db):
    """Showing a new link replaces only the old page link (which keeps
    working for a while); ending access ends it and the feed at once."""
    person_id, old_page, feed = setup(make, db)
    log_in(client, "hr@example.org")
    staff_page = f"/participants/{person_id}"
    client.post(f"{staff_page}/link", data={"csrf_token": csrf_token(client, staff_page)})
    assert client.get(f"/p/{old_page}").status_code == 200  # replaced, working for a while
    assert client.get(f"/feeds/{feed}.ics").status_code == 200
    client.post(f"{staff_page}/access/end", data={"csrf_token": csrf_token(client, staff_page)})
    assert client.get(f"/p/{old_page}").status_code == 404
    assert client.get(f"/feeds/{feed}.ics").status_code == 404


def test_access_of_another_organisation_cannot_be_ended(client, make, db):
    person_id, page, feed = setup(make, db)
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [other], email="admin@andere.example")
    log_in(client, "admin@andere.example")
    refused = client.post(
        f"/participants/{person_id}/access/end",
        data={"csrf_token": csrf_token(client, "/participants")},
    )
    assert refused.status_code == 404
    assert client.get(f"/p/{page}").status_code == 200
    assert client.get(f"/feeds/{feed}.ics").status_code == 200


def test_revoke_all_ends_only_the_subjects_own_links(db, make):
    org = make.organisation()
    anna = make.participant(org)
    ben = make.participant(org)
    tokens.issue(Purpose.PERSONAL_PAGE, anna.id, org.id, None)
    tokens.issue(Purpose.PARTICIPANT_FEED, anna.id, org.id, None)
    bens = tokens.issue(Purpose.PARTICIPANT_FEED, ben.id, org.id, None)
    # A trainer or cohort with the same number keeps theirs.
    trainer_feed = tokens.issue(Purpose.TRAINER_FEED, anna.id, org.id, None)
    db.session.flush()
    ended = tokens.revoke_all("participant", anna.id)
    assert ended == [Purpose.PERSONAL_PAGE, Purpose.PARTICIPANT_FEED]
    assert tokens.resolve(bens, frozenset({Purpose.PARTICIPANT_FEED})) is not None
    assert tokens.resolve(trainer_feed, frozenset({Purpose.TRAINER_FEED})) is not None
    assert tokens.revoke_all("participant", anna.id) == []
