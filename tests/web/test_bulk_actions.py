"""Acting on many participants at once from the list: enrol, withdraw, send
links; chosen by ticking, by all matches of the list, or by a pasted list.
Every action shows what it will do first, and nothing changes until then."""

from __future__ import annotations

import html
import re
from datetime import date

from sqlalchemy import func, select

from app import queue
from app.models import AccessToken, Change, Enrolment, EnrolmentStatus, Participant, Purpose, Role
from app.services import bulk
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in

_HIDDEN = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')


def setup(make, capacity=None):
    org = make.organisation("Eigene AG")
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Frühjahr", capacity=capacity)
    people = [
        make.participant(
            org,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@eigene.example",
            employee_number=f"P-{n}",
            department="Pflege",
        )
        for n, (first, last) in enumerate(
            [("Anna", "Müller"), ("Ben", "Köhler"), ("Carla", "Krüger"), ("Dora", "Kühn")]
        )
    ]
    return org, Ids(cohort.id), [Ids(p.id) for p in people]


class Ids:
    """A record's id, kept apart from the record (requests end its session)."""

    def __init__(self, id_: int) -> None:
        self.id = id_


def preview(client, **data):
    token = csrf_token(client, "/participants")
    return client.post("/participants/bulk", data={"csrf_token": token, **data})


def confirm(client, page, **extra):
    """Sends the confirmation form of a preview page as shown."""
    text = page.get_data(as_text=True)
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(text)}
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)
    return client.post("/participants/bulk/confirm", data={"csrf_token": token, **fields, **extra})


_OPTION = re.compile(r'<form [^>]*data-option="([\w-]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def option_fields(page, key: str) -> dict[str, str]:
    """The hidden fields of the confirmation page's option `key`."""
    forms = dict(_OPTION.findall(page.get_data(as_text=True)))
    return {name: html.unescape(value) for name, value in _INPUT.findall(forms[key])}


def choose(client, page, key: str):
    """Sends the confirmation page's option `key` as shown."""
    return client.post("/participants/bulk/confirm", data=option_fields(page, key))


def enrolled(db, cohort) -> set[str]:
    db.session.remove()
    return {
        e.participant.first_name
        for e in db.session.scalars(
            select(Enrolment).where(
                Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
    }


def changes(db) -> int:
    return db.session.scalar(select(func.count(Change.id))) or 0


def test_the_people_ticked_are_enrolled_after_the_confirmation(client, make, db):
    _, cohort, people = setup(make)
    log_in(client, "hr@example.org")
    before = changes(db)
    page = preview(
        client,
        action="enrol",
        cohort=str(cohort.id),
        person=[str(people[0].id), str(people[2].id)],
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "In „Frühjahr“ einschreiben" in text
    assert "2 Personen werden eingeschrieben" in text
    assert "Anna Müller" in text
    assert "Carla Krüger" in text
    assert "Ben Köhler" not in text
    # The preview tried the enrolments and took them back.
    assert enrolled(db, cohort) == set()
    assert changes(db) == before

    done = confirm(client, page)
    assert done.status_code == 303
    assert enrolled(db, cohort) == {"Anna", "Carla"}
    follow = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 Personen wurden eingeschrieben." in follow

    # Again, with one of them in already: nothing changes for her.
    page = preview(
        client,
        action="enrol",
        cohort=str(cohort.id),
        person=[str(people[0].id), str(people[1].id)],
    )
    assert "1 Person ist schon eingeschrieben" in page.get_data(as_text=True)
    confirm(client, page)
    assert enrolled(db, cohort) == {"Anna", "Ben", "Carla"}


def test_warnings_are_acknowledged_once_for_all_or_nobody_is_enrolled(client, make, db):
    org, cohort, people = setup(make)
    earlier = make.cohort(org, name="Vorjahr", start=date(2027, 5, 3))
    ben = db.session.get(Participant, people[1].id)
    db.session.add(Enrolment(cohort=earlier, participant=ben))
    db.session.commit()
    make.certificate(earlier, ben)
    log_in(client, "hr@example.org")

    ids = [str(p.id) for p in people]
    page = preview(client, action="enrol", cohort=str(cohort.id), person=ids)
    text = html.unescape(page.get_data(as_text=True))
    assert "Bei 1 Person lohnt ein zweiter Blick" in text
    assert "Ben Köhler hat bereits ein gültiges Zertifikat für dieses Curriculum" in text
    assert 'name="acknowledge"' in text
    assert "4 Personen werden eingeschrieben" in text

    assert "Nur die 3 Personen ohne Hinweis einschreiben" in text
    assert "Alle 4 Personen trotzdem einschreiben" in text

    # Everyone, the warning not passed (a form altered): nobody is enrolled.
    fields = option_fields(page, "all")
    del fields["acknowledge"]
    refused = client.post("/participants/bulk/confirm", data=fields)
    assert refused.status_code == 303
    assert enrolled(db, cohort) == set()
    shown = html.unescape(client.get("/participants").get_data(as_text=True))
    assert "Niemand wurde eingeschrieben: Ben Köhler hat bereits ein gültiges Zertifikat" in shown
    assert "Es wurde nichts gespeichert." in shown

    choose(client, page, "all")
    assert enrolled(db, cohort) == {"Anna", "Ben", "Carla", "Dora"}


def test_a_cohort_too_small_for_everyone_enrols_nobody(client, make, db):
    _, cohort, people = setup(make, capacity=2)
    log_in(client, "hr@example.org")
    ids = [str(p.id) for p in people]
    page = preview(client, action="enrol", cohort=str(cohort.id), person=ids)
    text = html.unescape(page.get_data(as_text=True))
    # Alphabetically Köhler and Krüger take the places; Kühn and Müller do not fit.
    assert "2 Personen können nicht eingeschrieben werden" in text
    assert "die Gruppe „Frühjahr“ ist voll (2 Plätze)" in text
    assert "2 Personen einschreiben" in text
    # The form sent as it was altered, with everyone: all or nothing.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)
    response = client.post(
        "/participants/bulk/confirm",
        data={
            "csrf_token": token,
            "action": "enrol",
            "cohort": cohort.id,
            "people": ",".join(ids),
        },
    )
    assert response.status_code == 303
    assert enrolled(db, cohort) == set()
    # As offered: without those who do not fit.
    choose(client, page, "unwarned")
    assert enrolled(db, cohort) == {"Ben", "Carla"}


def test_all_matches_of_the_list_across_its_pages(client, make, db):
    org, cohort, _ = setup(make, capacity=None)
    for n in range(60):
        make.participant(org, first_name=f"Erika{n}", last_name="Müller", department="IT")
    log_in(client, "hr@example.org")
    page = client.get("/participants?q=mueller&department=IT").get_data(as_text=True)
    assert "60 Personen" in page
    assert "Alle 60 Treffer der Liste" in page
    assert 'name="filter-q" value="mueller"' in page

    response = preview(
        client,
        action="enrol",
        cohort=str(cohort.id),
        all_matching="y",
        **{"filter-q": "mueller", "filter-department": "IT"},
    )
    assert "60 Personen werden eingeschrieben" in response.get_data(as_text=True)
    confirm(client, response)
    assert len(enrolled(db, cohort)) == 60
    assert "Anna" not in enrolled(db, cohort)  # Anna Müller works in Pflege


def test_a_pasted_list_names_people_by_address_or_number_and_lists_the_unknown(client, make, db):
    _, cohort, people = setup(make)
    log_in(client, "hr@example.org")
    pasted = (
        "ANNA@eigene.example\n"
        "P-1; unbekannt@eigene.example\n"
        "Krüger, Carla <carla@eigene.example>, P-9\n"
        "\n"
        "  P-1  \n"
    )
    page = preview(client, action="enrol", cohort=str(cohort.id), pasted=pasted)
    text = html.unescape(page.get_data(as_text=True))
    assert "Die Liste nennt 3 bekannte Personen." in text
    assert "1 Eintrag wurde nicht gefunden" in text
    assert "Zeile 2: unbekannt@eigene.example" in text
    # Beside Carla's address, the rest of her line is left aside.
    assert "P-9" not in text
    assert "3 Personen werden eingeschrieben" in text
    assert enrolled(db, cohort) == set()
    confirm(client, page)
    assert enrolled(db, cohort) == {"Anna", "Ben", "Carla"}


def test_withdrawing_many_names_those_not_in_the_cohort(client, make, db):
    _, cohort, people = setup(make)
    for person in people[:2]:
        db.session.add(Enrolment(cohort_id=cohort.id, participant_id=person.id))
    db.session.commit()
    log_in(client, "hr@example.org")
    page = preview(
        client, action="withdraw", cohort=str(cohort.id), person=[str(p.id) for p in people[1:]]
    )
    text = page.get_data(as_text=True)
    assert "1 Person wird ausgetragen" in text
    assert "2 Personen sind nicht in dieser Gruppe eingeschrieben" in text
    assert "1 Person austragen" in text
    # What happens, as when withdrawing one person from their page.
    assert "Bestätigte Tandems verlieren sie" in text
    assert "Ein Zertifikat aus dieser Gruppe kann ihnen danach nicht mehr ausgestellt" in text
    assert "Die bisher erfasste Anwesenheit bleibt erhalten." in text
    assert enrolled(db, cohort) == {"Anna", "Ben"}
    confirm(client, page)
    assert enrolled(db, cohort) == {"Anna"}


def test_links_are_queued_for_everyone_chosen_and_sent_by_the_worker(client, make, db, app):
    _, _, people = setup(make)
    log_in(client, "hr@example.org")
    queue.huey.flush()
    with mail_server(app) as server:
        page = preview(client, action="links", person=[str(p.id) for p in people[:3]])
        assert "3 Personen bekommen einen neuen persönlichen Link" in page.get_data(as_text=True)
        done = confirm(client, page)
        assert "3 persönliche Links stehen zum Versand bereit" in client.get(
            done.headers["Location"]
        ).get_data(as_text=True)
        # Issued with their messages in the request's transaction; sent by the worker.
        assert server.inbox.messages == []
        db.session.expire_all()
        issued = db.session.scalars(
            select(AccessToken.subject_id).where(
                AccessToken.purpose == Purpose.PERSONAL_PAGE, AccessToken.revoked_at.is_(None)
            )
        )
        assert sorted(issued) == sorted(p.id for p in people[:3])
        queue.run_pending()
        assert sorted(m["To"].addresses[0].addr_spec for m in server.inbox.messages) == [
            "anna@eigene.example",
            "ben@eigene.example",
            "carla@eigene.example",
        ]
        message = server.inbox.to("anna@eigene.example")[0]
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert body.startswith("Hallo Anna,")
        link = re.search(r"http://localhost(/p/[A-Za-z0-9_-]+)", body).group(1)
        assert client.get(link).status_code == 200
        [attached] = [
            p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"
        ]
        assert attached.get_param("method") == "PUBLISH"
        assert queue.run_pending() == 0
    queue.huey.flush()


def test_another_organisations_people_and_forged_forms_change_nothing(client, make, db):
    _, cohort, people = setup(make)
    stranger = Ids(make.participant(make.organisation("Andere GmbH"), first_name="Fremd").id)
    log_in(client, "hr@example.org")
    mixed = [str(people[0].id), str(stranger.id)]
    assert preview(client, action="enrol", cohort=str(cohort.id), person=mixed).status_code == 404
    token = csrf_token(client, "/participants")
    confirmed = client.post(
        "/participants/bulk/confirm",
        data={
            "csrf_token": token,
            "action": "enrol",
            "cohort": cohort.id,
            "people": ",".join(mixed),
        },
    )
    assert confirmed.status_code == 404
    # No CSRF token: refused before anything is read.
    forged = client.post(
        "/participants/bulk/confirm",
        data={"action": "enrol", "cohort": cohort.id, "people": str(people[0].id)},
    )
    assert forged.status_code == 400
    assert enrolled(db, cohort) == set()


def test_what_cannot_be_done_is_said_on_the_list(client, make, db, monkeypatch):
    _, cohort, people = setup(make)
    log_in(client, "hr@example.org")
    nobody = preview(client, action="enrol", cohort=str(cohort.id))
    assert nobody.status_code == 303
    assert "Bitte haken Sie mindestens eine Person an." in client.get("/participants").get_data(
        as_text=True
    )
    no_cohort = preview(client, action="enrol", person=[str(people[0].id)])
    assert "Bitte wählen Sie eine Gruppe." in client.get(no_cohort.headers["Location"]).get_data(
        as_text=True
    )
    monkeypatch.setattr(bulk, "MOST_AT_ONCE", 2)
    too_many = preview(client, action="links", person=[str(p.id) for p in people], cohort="")
    assert too_many.status_code == 303
    shown = client.get("/participants").get_data(as_text=True)
    assert "4 Personen sind ausgewählt; höchstens 2 lassen sich auf einmal ändern" in shown
