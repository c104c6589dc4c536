"""Every message of registering, rendered as the worker renders it, in
German (the default) and English: a subject and a text for each step, the
links where the step has one, and the reasons given."""

from __future__ import annotations

import pytest

from app import notices
from app.notices.registrations import LEADS

PAYLOAD = {
    "cohort": "Frühjahr",
    "start": "2027-03-01",
    "organisation": "Muster AG",
    "timezone": "Europe/Berlin",
    "to_name": "Erika Muster",
    "employee": "Erika Muster",
    "position": 2,
    "until": "2027-01-15T10:00:00+00:00",
    "reason": "Projekt läuft",
}
LINKS = {
    "confirm": "https://q.example/registration/confirm/abc",
    "status": "https://q.example/registration/xyz",
}


@pytest.mark.parametrize("what", sorted(LEADS))
@pytest.mark.parametrize("language", ["de", "en"])
def test_each_step_has_its_message(what, language):
    link = "https://q.example/registration/manager/m" if what == "manager" else LINKS
    message = notices.render("registration", {**PAYLOAD, "what": what, "link": link}, language)
    subject, body = str(message["Subject"]), message.get_content()
    assert "Frühjahr" in subject or "Erika Muster" in subject
    assert body.startswith("Hallo Erika Muster," if language == "de" else "Hello Erika Muster,")
    if what == "manager":
        assert "https://q.example/registration/manager/m" in body
        assert "15.01.2027 11:00" in body or "Jan" in body
    else:
        assert LINKS["status"] in body
    if what in ("confirm", "invitation"):
        assert LINKS["confirm"] in body


def test_the_german_texts_are_the_glossary_s():
    confirm = notices.render("registration", {**PAYLOAD, "what": "confirm", "link": LINKS}, "de")
    assert str(confirm["Subject"]) == "Bitte bestätigen Sie Ihre Bewerbung: Frühjahr"
    waiting = notices.render("registration", {**PAYLOAD, "what": "waiting"}, "de").get_content()
    assert "Sie stehen auf ihrer Warteliste, Position 2" in waiting
    declined = notices.render("registration", {**PAYLOAD, "what": "declined"}, "de")
    assert "Der genannte Grund: Projekt läuft" in declined.get_content()
    # Sent: the outbox empties the links; the message still renders.
    sent = notices.render("registration", {**PAYLOAD, "what": "accepted", "link": ""}, "de")
    assert str(sent["Subject"]) == "Angenommen: Frühjahr"
