"""The forms of the personal page as a phone uses them: each answers with a
redirect back to the page (Post/Redirect/Get), so a reload or a tab the
phone reopens shows the page and sends nothing again; a new calendar
address is shown once on the page it leads to. A form's address opened as
a page leads back to the page. The digital credential is one plain action
with the file types in words behind it, for the person and for HR."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from app.models import AccessToken, Participant, Purpose, Role
from app.services import tokens
from tests.web.helpers import csrf_token, log_in

ADDRESS = re.compile(r'id="feed-url" type="text" readonly value="http://localhost(/feeds/[^"]+)"')


def person_with_link(make, db, first_name="Änne"):
    org = make.organisation(f"Organisation von {first_name}")
    cohort = make.cohort(org, name="Gruppe Süd")
    person = make.participant(org, cohort=cohort, first_name=first_name)
    token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    db.session.commit()
    return person.id, token


def feed_tokens(db, person_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(AccessToken)
        .where(
            AccessToken.purpose == Purpose.PARTICIPANT_FEED,
            AccessToken.subject_id == person_id,
        )
    )


def test_subscribing_redirects_and_shows_the_new_address_once(client, make, db):
    person_id, token = person_with_link(make, db)
    page = f"/p/{token}"
    done = client.post(f"{page}/feed", data={"csrf_token": csrf_token(client, page)})
    assert done.status_code == 303
    assert done.headers["Location"] == f"{page}#calendar-title"
    shown = client.get(page)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "Ihre Abo-Adresse ist bereit." in text
    feed = ADDRESS.search(text).group(1)
    assert client.get(feed).status_code == 200
    # A reload: the page, without the address and without a new one.
    again = client.get(page).get_data(as_text=True)
    assert ADDRESS.search(again) is None
    assert "Ihre Abo-Adresse ist bereit." not in again
    assert "Sie haben am" in again  # "… eine Abo-Adresse angelegt"
    assert feed_tokens(db, person_id) == 1
    assert client.get(feed).status_code == 200  # the address just added keeps working


def test_a_form_address_opened_as_a_page_leads_back_and_changes_nothing(client, make, db):
    person_id, token = person_with_link(make, db)
    page = f"/p/{token}"
    for address in ("feed", "feed/revoke", "choices", "sessions/1/self-study"):
        answer = client.get(f"{page}/{address}")
        assert answer.status_code == 303, address
        assert answer.headers["Location"] == page
    assert feed_tokens(db, person_id) == 0
    assert client.get(f"{page}/feed", follow_redirects=True).status_code == 200


def test_the_other_forms_of_the_page_redirect_too(client, make, db):
    person_id, token = person_with_link(make, db)
    page = f"/p/{token}"
    client.post(f"{page}/feed", data={"csrf_token": csrf_token(client, page)})
    client.get(page)
    for address, data in (
        ("choices", {"calendar": "both", "language": "de"}),
        ("feed/revoke", {}),
    ):
        answer = client.post(
            f"{page}/{address}", data={"csrf_token": csrf_token(client, page), **data}
        )
        assert answer.status_code in (302, 303), address
        assert answer.headers["Location"].startswith(page)
        assert client.get(answer.headers["Location"]).status_code == 200
    db.session.expire_all()
    assert db.session.get(Participant, person_id).calendar_choice == "both"
    assert tokens.current(Purpose.PARTICIPANT_FEED, person_id) is None


def test_the_new_address_is_shown_on_its_own_persons_page_only(client, make, db):
    """One browser, two personal links (a shared family tablet): the address
    made on one page does not show on the other."""
    _, first = person_with_link(make, db, "Anna")
    _, second = person_with_link(make, db, "Bert")
    client.post(f"/p/{first}/feed", data={"csrf_token": csrf_token(client, f"/p/{first}")})
    other = client.get(f"/p/{second}").get_data(as_text=True)
    assert ADDRESS.search(other) is None


def certificate_world(make, db):
    org = make.organisation("Bildungswerk Süd")
    hr = make.user(Role.HR, [org], email="hr@sued.example")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW", name="Kompakt Süd")
    person = make.participant(org, cohort=cohort, first_name="Jörg", last_name="Yılmaz")
    certificate = make.certificate(cohort, person, actor=hr)
    token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    db.session.commit()
    return certificate.id, token


def credential_links(text: str) -> dict[str, str]:
    """The action's summary and, by the words shown, each file's address."""
    [block] = re.findall(r'<details class="credential-downloads".*?</details>', text, re.S)
    summary = re.search(r"<summary>(.*?)</summary>", block).group(1)
    files = dict(
        (words, href)
        for href, words in re.findall(r'<a href="([^"]+)" download>([^<]+)</a>', block)
    )
    return {"summary": summary, **files}


def test_the_personal_page_offers_one_action_for_the_digital_credential(client, make, db):
    certificate_id, token = certificate_world(make, db)
    text = client.get(f"/p/{token}").get_data(as_text=True)
    found = credential_links(text)
    assert found.pop("summary") == "Digitalen Nachweis speichern"
    assert list(found) == [
        "Badge-Bild (PNG)",
        "Nachweisdatei (JSON)",
        "Signierte Nachweisdatei (JWT)",
    ]
    assert "für Profile wie LinkedIn" in text
    assert "für Prüfstellen und Arbeitgeber" in text
    assert ">.jwt<" not in text
    assert ">.json<" not in text
    for href in found.values():
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href
    english = credential_links(client.get(f"/p/{token}?lang=en").get_data(as_text=True))
    assert english["summary"] == "Save the digital credential"


def test_the_certificate_page_for_hr_offers_the_same_action(client, make, db):
    certificate_id, _ = certificate_world(make, db)
    log_in(client, "hr@sued.example")
    text = client.get(f"/certificates/{certificate_id}").get_data(as_text=True)
    found = credential_links(text)
    assert found.pop("summary") == "Digitalen Nachweis speichern"
    assert list(found) == [
        "Badge-Bild (PNG)",
        "Nachweisdatei (JSON)",
        "Signierte Nachweisdatei (JWT)",
    ]
    for href in found.values():
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


EXPIRED = "Das Formular war abgelaufen, daher wurde nichts gespeichert."


def test_a_form_sent_with_an_expired_token_leads_back_and_changes_nothing(client, make, db, app):
    """A phone left open overnight: the form's CSRF token has expired (or the
    browser lost it). Each form of the page leads back to the same page,
    which says so in the person's language and carries a fresh token."""
    from app.models import AttendanceRecord

    person_id, token = person_with_link(make, db)
    page = f"/p/{token}"
    client.get(page)
    for address, data in (
        ("choices", {"calendar": "feed", "reminders": "0", "language": "en"}),
        ("feed", {}),
        ("feed/revoke", {}),
        ("sessions/1/self-study", {"done": "1"}),
    ):
        for sent in ({}, {"csrf_token": "expired-long-ago"}):
            answer = client.post(f"{page}/{address}", data={**sent, **data})
            assert answer.status_code == 303, address
            assert answer.headers["Location"] == page, address
            shown = client.get(page)
            assert shown.status_code == 200
            text = shown.get_data(as_text=True)
            assert EXPIRED in text, address
            assert "Bitte versuchen Sie es noch einmal." in text
            assert 'name="csrf_token"' in text
            assert "400" not in text.split("<title>")[1].split("</title>")[0]
    db.session.expire_all()
    person = db.session.get(Participant, person_id)
    assert (person.calendar_choice, person.reminders, person.language) == (
        "invitations",
        True,
        "de",
    )
    assert feed_tokens(db, person_id) == 0
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0
    # Once is enough: the page reloaded shows it no more, and the form works again.
    assert EXPIRED not in client.get(page).get_data(as_text=True)
    saved = client.post(
        f"{page}/choices",
        data={"csrf_token": csrf_token(client, page), "calendar": "feed", "language": "de"},
    )
    assert saved.status_code in (302, 303)

    # In English for someone who reads the page in English.
    phone = app.test_client()
    phone.get(f"{page}?lang=en")
    phone.post(f"{page}/feed")
    english = phone.get(page).get_data(as_text=True)
    assert "The form had expired, so nothing was saved. Please try again." in english


def test_an_expired_token_on_an_ended_link_shows_that_the_link_has_ended(client, make, db):
    person_id, token = person_with_link(make, db)
    tokens.revoke(Purpose.PERSONAL_PAGE, person_id)
    db.session.commit()
    answer = client.post(f"/p/{token}/choices", data={"calendar": "feed"})
    assert answer.status_code == 404
    text = answer.get_data(as_text=True)
    assert "Dieser Link gilt nicht mehr" in text
    assert "Formular" not in text


def test_staff_pages_keep_their_own_page_for_an_expired_form(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    answer = client.post("/me/feed")
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "Das Formular ist abgelaufen" in text
    assert "Bitte versuchen Sie es noch einmal." not in text
