"""The waiting list's messages as the recipient reads them, in German and
English, from the payload alone."""

from __future__ import annotations

import pytest

from app.notices import render

OFFER = {
    "what": "offer",
    "cohort": "Frühjahr 2027",
    "start": "2027-03-01",
    "organisation": "Muster AG",
    "timezone": "Europe/Berlin",
    "until": "2027-02-04T08:30:00+00:00",
    "link": "https://qualiplan.example/offer/abc",
    "to_name": "Cora Berg",
}


def test_an_offer_says_until_when_and_links_to_the_answer(app):
    with app.app_context():
        german = render("offer", OFFER, "de")
        english = render("offer", OFFER, "en")
    assert german["Subject"] == "Ein Platz ist für Sie frei: Frühjahr 2027"
    body = german.get_content()
    assert "Hallo Cora Berg," in body
    assert "Bitte nehmen Sie den Platz bis" in body
    assert "09:30" in body  # the deadline in the cohort's time zone
    assert "https://qualiplan.example/offer/abc" in body
    assert english["Subject"] == "A place is free for you: Frühjahr 2027"
    assert "Please accept or decline the place by" in english.get_content()


@pytest.mark.parametrize(
    ("what", "subject"),
    [
        ("moved_up", "Sie haben einen Platz: Frühjahr 2027"),
        ("expired", "Ihr Angebot ist abgelaufen: Frühjahr 2027"),
        ("carried", "Auf der Warteliste der nächsten Gruppe: Frühjahr 2027"),
    ],
)
def test_the_other_messages_have_their_own_subject(app, what, subject):
    payload = {**OFFER, "what": what, "previous": "Winter 2026", "position": 2}
    with app.app_context():
        message = render("offer", payload, "de")
    assert message["Subject"] == subject
    assert "https://qualiplan.example/offer/abc" not in message.get_content()
