"""The certificate page says that a missed element's make-up is booked."""

from __future__ import annotations

from app.services import make_ups
from tests.integration.test_make_ups import NOW, session_of, world  # noqa: F401 -- fixture
from tests.web.helpers import log_in


def test_the_certificate_page_names_the_booked_make_up(client, db, world):  # noqa: F811
    page = f"/cohorts/{world['a']}/certificates?lang=en"
    log_in(client, "hr@nachhol.example")
    before = client.get(page).get_data(as_text=True)
    assert "make-up booked" not in before
    target = session_of(world["b"], "seminar-2")
    make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    text = client.get(page).get_data(as_text=True)
    assert (
        "Seminar day 2: the companion process (make-up booked: Tue 4 May 2027, Gruppe B)" in text
    )
    german = client.get(page.replace("lang=en", "lang=de")).get_data(as_text=True)
    assert "Nachholtermin gebucht" in german
