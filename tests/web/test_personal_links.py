"""Personal links sent by e-mail through a real SMTP server on this machine."""

from __future__ import annotations

import re

import icalendar
import pytest
from sqlalchemy import select

from app.models import Participant, Purpose, Role
from app.services import tokens
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in


@pytest.fixture
def inbox(app):
    with mail_server(app) as server:
        yield server.inbox


def setup(make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Gruppe Süd", region="DE-BY")
    people = [
        make.participant(org, cohort=cohort, first_name=name, email=f"{address}@x.example")
        for name, address in (("Jürgen", "juergen"), ("Ada", "ada"), ("Bea", "bea"))
    ]
    return cohort.id, [p.id for p in people], org.id


def test_send_a_participant_their_link_with_the_schedule_attached(client, make, inbox):
    _, (person_id, *_), _ = setup(make)
    log_in(client, "hr@example.org")
    page = f"/participants/{person_id}"
    response = client.post(
        f"{page}/link/send", data={"csrf_token": csrf_token(client, page)}, follow_redirects=True
    )
    assert "Der persönliche Link wurde an juergen@x.example geschickt." in response.get_data(
        as_text=True
    )
    [message] = inbox.messages
    assert message["To"].addresses[0].addr_spec == "juergen@x.example"
    assert message["To"].addresses[0].display_name.startswith("Jürgen ")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hallo Jürgen,")
    link = re.search(r"http://localhost(/p/[A-Za-z0-9_-]+)", body).group(1)
    assert client.get(link).status_code == 200
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "PUBLISH"
    assert len(list(calendar.walk("VEVENT"))) == 3


def test_send_everyone_in_a_cohort_their_link(client, make, inbox):
    cohort_id, _, _ = setup(make)
    log_in(client, "hr@example.org")
    page = f"/cohorts/{cohort_id}"
    response = client.post(
        f"{page}/links/send", data={"csrf_token": csrf_token(client, page)}, follow_redirects=True
    )
    assert "3 persönliche Links wurden verschickt." in response.get_data(as_text=True)
    assert (
        sorted(str(m["Subject"]) for m in inbox.messages)
        == ["Ihr Terminplan für die Qualifizierung zur Lernbegleitung"] * 3
    )


def test_without_a_mail_server_nothing_changes(client, make, db, app):
    _, (person_id, *_), org_id = setup(make)
    old = tokens.issue(Purpose.PERSONAL_PAGE, person_id, org_id, None)
    db.session.commit()
    log_in(client, "hr@example.org")
    page = f"/participants/{person_id}"
    assert app.config["MAIL_SERVER"] == ""
    response = client.post(
        f"{page}/link/send", data={"csrf_token": csrf_token(client, page)}, follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "Der E-Mail-Versand ist auf diesem Server nicht eingerichtet" in text
    assert client.get(f"/p/{old}").status_code == 200  # the old link still works


def test_show_a_new_link_once_the_old_one_keeps_working_until_access_ends(client, make, db):
    _, (person_id, *_), org_id = setup(make)
    old = tokens.issue(Purpose.PERSONAL_PAGE, person_id, org_id, None)
    db.session.commit()
    log_in(client, "hr@example.org")
    page = f"/participants/{person_id}"
    response = client.post(f"{page}/link", data={"csrf_token": csrf_token(client, page)})
    new = re.search(
        r'value="http://localhost/p/([A-Za-z0-9_-]+)"', response.get_data(as_text=True)
    ).group(1)
    kept = client.get(f"/p/{old}")
    assert kept.status_code == 200  # the person may not have the new one yet
    assert "Dieser Link funktioniert noch bis" in kept.get_data(as_text=True)
    fresh = client.get(f"/p/{new}")
    assert fresh.status_code == 200
    assert "Dieser Link funktioniert noch bis" not in fresh.get_data(as_text=True)
    client.post(f"{page}/access/end", data={"csrf_token": csrf_token(client, page)})
    for ended in (old, new):  # ending access ends both at once
        gone = client.get(f"/p/{ended}")
        assert gone.status_code == 404
        assert "Dieser Link gilt nicht mehr" in gone.get_data(as_text=True)


def test_a_mail_refused_midway_keeps_the_links_already_sent_and_sends_no_more(
    client, make, db, inbox
):
    cohort_id, people, org_id = setup(make)
    old = {pid: tokens.issue(Purpose.PERSONAL_PAGE, pid, org_id, None) for pid in people}
    db.session.commit()
    ordered = db.session.execute(
        select(Participant.id, Participant.email)
        .where(Participant.id.in_(people))
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    inbox.refused = {ordered[1].email}
    log_in(client, "hr@example.org")
    page = f"/cohorts/{cohort_id}"
    response = client.post(
        f"{page}/links/send?lang=en",
        data={"csrf_token": csrf_token(client, page)},
        follow_redirects=True,
    )
    assert "1 of 3 links were sent; then: " in response.get_data(as_text=True)
    [message] = inbox.messages
    assert message["To"].addresses[0].addr_spec == ordered[0].email
    body = message.get_body(preferencelist=("plain",)).get_content()
    sent = re.search(r"http://localhost(/p/[A-Za-z0-9_-]+)", body).group(1)
    assert client.get(sent).status_code == 200  # kept: the person has it
    replaced = client.get(f"/p/{old[ordered[0].id]}")  # works beside the new one for a while
    assert "This link keeps working until" in replaced.get_data(as_text=True)
    for person_id, _ in ordered[1:]:  # the refused one and those after keep their links
        assert client.get(f"/p/{old[person_id]}").status_code == 200
