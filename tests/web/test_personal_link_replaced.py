"""A new personal link does not cut the person off: the link they have keeps
working beside the new one for two weeks (the e-mail may still be in the
queue, or they are away), and its page says until when. Ending access on
purpose ends both at once. A link that no longer works answers 404 with a
page for participants, without the staff's login or navigation."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import queue
from app.models import AccessToken, Participant, Purpose, Role, User
from app.services import personal_links, tokens
from tests.web.helpers import csrf_token, log_in

_HIDDEN = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')
GONE = "Dieser Link gilt nicht mehr"
KEPT = "Dieser Link funktioniert noch bis"


def setup(make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Gruppe Süd")
    person = make.participant(org, cohort=cohort, first_name="Jana", email="jana@x.example")
    old = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    db.session.commit()
    return person.id, old


def stored(db, token: str) -> AccessToken:
    db.session.expire_all()
    return db.session.scalar(select(AccessToken).where(AccessToken.token_hash == _hash(token)))


def _hash(token: str) -> str:
    from app.models.tokens import token_hash

    return token_hash(token)


def time_passes(db, token: str, days: int) -> None:
    """The clock moves on: the replaced link's end comes `days` closer."""
    record = stored(db, token)
    record.revoked_at = record.revoked_at - timedelta(days=days)
    db.session.commit()


def assert_gone(response) -> None:
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert GONE in text
    assert "Ihre Personalabteilung kann Ihnen einen neuen schicken." in text
    # A participant has no account: no login link, no staff navigation.
    assert "/login" not in text
    assert 'class="main"' not in text
    assert "Seite nicht gefunden" not in text


def test_links_sent_from_the_list_leave_the_old_link_working_for_two_weeks(client, make, db, app):
    person_id, old = setup(make, db)
    phone = app.test_client()  # the participant's own browser, not logged in
    log_in(client, "hr@example.org")
    queue.huey.flush()
    token = csrf_token(client, "/participants")
    page = client.post(
        "/participants/bulk", data={"csrf_token": token, "action": "links", "person": person_id}
    )
    text = page.get_data(as_text=True)
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(text)}
    form_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)
    done = client.post("/participants/bulk/confirm", data={"csrf_token": form_token, **fields})
    assert done.status_code == 303
    # The message waits in the queue (no worker ran): the person keeps their page.
    kept = phone.get(f"/p/{old}")
    assert kept.status_code == 200
    shown = kept.get_data(as_text=True)
    assert KEPT in shown
    until = stored(db, old).revoked_at
    expected = datetime.now(UTC) + timedelta(days=14)
    assert abs(until - expected) < timedelta(minutes=5)
    assert f"{until.astimezone(ZoneInfo('Europe/Berlin')):%d.%m.%Y}" in re.search(
        r'id="link-replaced">([^<]*)', shown
    ).group(1), shown[:3000]
    # Thirteen days on it still works; after the fourteenth it is gone.
    time_passes(db, old, 13)
    assert phone.get(f"/p/{old}").status_code == 200
    time_passes(db, old, 1)
    assert_gone(phone.get(f"/p/{old}"))
    queue.huey.flush()


def test_a_second_new_link_does_not_lengthen_the_first_ones_time(client, make, db):
    person_id, first = setup(make, db)
    person = db.session.get(Participant, person_id)
    second = tokens.issue(Purpose.PERSONAL_PAGE, person.id, person.organisation_id, None)
    db.session.commit()
    time_passes(db, first, 10)
    first_end = stored(db, first).revoked_at
    third = tokens.issue(Purpose.PERSONAL_PAGE, person_id, person.organisation_id, None)
    db.session.commit()
    assert stored(db, first).revoked_at == first_end
    assert stored(db, second).revoked_at > first_end
    for working in (first, second, third):
        assert client.get(f"/p/{working}").status_code == 200
    assert personal_links.access_of(
        db.session.get(Participant, person_id)
    ).replaced.token_hash == (_hash(second))


def test_ending_access_or_revoking_ends_a_replaced_link_at_once(client, make, db, app):
    person_id, old = setup(make, db)
    phone = app.test_client()
    log_in(client, "hr@example.org")
    staff = f"/participants/{person_id}"
    client.post(f"{staff}/link", data={"csrf_token": csrf_token(client, staff)})
    assert client.get(f"/p/{old}").status_code == 200
    client.post(f"{staff}/access/end", data={"csrf_token": csrf_token(client, staff)})
    assert_gone(phone.get(f"/p/{old}"))
    # The same through the service call others use (revoke of one kind).
    person = db.session.get(Participant, person_id)
    again = tokens.issue(Purpose.PERSONAL_PAGE, person_id, person.organisation_id, None)
    newest = tokens.issue(Purpose.PERSONAL_PAGE, person_id, person.organisation_id, None)
    db.session.commit()
    assert client.get(f"/p/{again}").status_code == 200
    assert tokens.revoke(Purpose.PERSONAL_PAGE, person_id)
    db.session.commit()
    assert_gone(phone.get(f"/p/{again}"))
    assert_gone(phone.get(f"/p/{newest}"))


def test_a_replaced_link_sends_forms_like_the_new_one(client, make, db):
    """The old page is the person's page while it works: choices saved there count."""
    person_id, old = setup(make, db)
    person = db.session.get(Participant, person_id)
    tokens.issue(Purpose.PERSONAL_PAGE, person_id, person.organisation_id, None)
    db.session.commit()
    page = f"/p/{old}"
    saved = client.post(
        f"{page}/choices",
        data={
            "csrf_token": csrf_token(client, page),
            "calendar": "invitations",
            "language": "en",
        },
    )
    assert saved.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Participant, person_id).language == "en"


def test_a_link_that_never_worked_gets_the_same_page(client, make, db):
    """The page does not tell which links existed."""
    setup(make, db)
    assert_gone(client.get("/p/never-issued-but-looks-like-a-link"))
    assert_gone(client.get(f"/p/{'x' * 300}"))


def test_the_page_of_an_ended_link_in_english_and_its_forms(client, make, db):
    person_id, old = setup(make, db)
    tokens.revoke(Purpose.PERSONAL_PAGE, person_id)
    db.session.commit()
    english = client.get(f"/p/{old}?lang=en")
    assert english.status_code == 404
    text = english.get_data(as_text=True)
    assert "This link is no longer valid" in text
    assert "Your HR department can send you a new one." in text
    assert "/login" not in text
    # A form sent from a page opened before the link ended: the same page.
    sent = client.post(f"/p/{old}/feed", data={"csrf_token": csrf_token(client, "/login")})
    assert sent.status_code == 404
    assert "This link is no longer valid" in sent.get_data(as_text=True)  # English kept
    assert client.get(f"/p/{old}/calendar.ics").status_code == 404
    db.session.expire_all()
    assert tokens.current(Purpose.PARTICIPANT_FEED, person_id) is None


def downloads_of_the_page(client, token: str) -> list[str]:
    """Every file the personal page offers: the calendar, the certificate's
    PDF and its digital credential."""
    text = client.get(f"/p/{token}").get_data(as_text=True)
    found = [
        html.unescape(href)
        for href in re.findall(r'href="(/p/[^"]+)"', text)
        if re.search(r"\.(ics|pdf|png|json|jwt)(\?|$)", html.unescape(href))
    ]
    return list(dict.fromkeys(found))


def test_every_download_of_an_ended_link_answers_like_its_page(client, make, db, app):
    """The calendar, the certificate and its credential of a link that has
    ended: the page that says so and what to do, never a bare error or a
    file. The same for a link never issued, and for an address under it
    that leads nowhere."""
    person_id, old = setup(make, db)
    person = db.session.get(Participant, person_id)
    cohort = person.enrolments[0].cohort
    hr = db.session.scalar(select(User).where(User.email == "hr@example.org"))
    make.certificate(cohort, person, actor=hr)
    db.session.commit()
    offered = downloads_of_the_page(client, old)
    kinds = {re.search(r"\.(\w+)(\?|$)", a).group(1) for a in offered}
    assert {"ics", "pdf", "png", "json", "jwt"} <= kinds, offered
    for address in offered:
        assert client.get(address).status_code == 200, address
    assert "Seite nicht gefunden" in client.get(f"/p/{old}/certificates/x.pdf").get_data(
        as_text=True
    )

    phone = app.test_client()
    # Replaced, and its two weeks are over.
    tokens.issue(Purpose.PERSONAL_PAGE, person_id, person.organisation_id, None)
    db.session.commit()
    time_passes(db, old, 15)
    for address in [*offered, f"/p/{old}/certificates/x.pdf", f"/p/{old}/nothing/here"]:
        answer = phone.get(address)
        assert_gone(answer)
        assert answer.mimetype == "text/html", address
        assert "Content-Disposition" not in answer.headers, address
    english = phone.get(offered[0].split("?")[0] + "?lang=en")
    assert english.status_code == 404
    assert "This link is no longer valid" in english.get_data(as_text=True)
    # Never issued: the same page for the same addresses.
    for address in offered:
        assert_gone(phone.get(address.replace(old, "x" * 43)))


def test_the_downloads_of_a_link_end_with_its_access(client, make, db, app):
    person_id, old = setup(make, db)
    person = db.session.get(Participant, person_id)
    hr = db.session.scalar(select(User).where(User.email == "hr@example.org"))
    certificate = make.certificate(person.enrolments[0].cohort, person, actor=hr)
    db.session.commit()
    pdf = f"/p/{old}/certificates/{certificate.id}.pdf"
    credential = f"/p/{old}/certificates/{certificate.id}/credential.jwt"
    phone = app.test_client()
    assert phone.get(pdf).status_code == 200
    assert phone.get(credential).status_code == 200
    log_in(client, "hr@example.org")
    staff = f"/participants/{person_id}"
    client.post(f"{staff}/access/end", data={"csrf_token": csrf_token(client, staff)})
    for address in (pdf, credential, f"/p/{old}/calendar.ics"):
        assert_gone(phone.get(address))
