"""Hostile input: every form on the staff pages gets random Unicode, huge
values, numbers where text belongs and text where numbers belong. No answer
is a server error. Markup typed into a name comes back escaped in pages and
as the same characters in PDFs and calendar files."""

from __future__ import annotations

import html
import io
from datetime import date
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from app.models import Cohort, Delivery, Organisation, Participant, Purpose, Role
from app.services import notifications, tandems, tokens
from app.services.enrolments import enrol
from tests.web.helpers import log_in, post_form

NASTY = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\x00",
        "\u202etxt.exe",
        "💥" * 300,
        "-1",
        "0",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "2027-02-30",
        "../../etc/passwd",
        " ",
        "",
    ]
)
VALUES = st.one_of(
    NASTY,
    st.text(max_size=60),
    st.text(min_size=3000, max_size=6000, alphabet=st.characters(codec="utf-8")),
    st.integers().map(str),
)


class Forms(HTMLParser):
    """The POST forms of a page: action, field names, whether a file goes along."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self.forms.append({"action": values.get("action"), "fields": {}, "file": False})
        elif tag in ("input", "select", "textarea") and self.forms and values.get("name"):
            if values.get("type") == "file":
                self.forms[-1]["file"] = True
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""


def forms_on(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = Forms()
    parser.feed(response.get_data(as_text=True))
    for form in parser.forms:
        form["action"] = form["action"] or url
    return [f for f in parser.forms if f["action"] not in ("/logout",)]


def world(make, db):
    org = make.organisation("Eingabe AG")
    admin = make.user(Role.ADMIN, [org], email="admin@eingabe.example")
    colleague = make.user(Role.TRAINER, [org], email="trainer@eingabe.example")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW")
    people = [make.participant(org, cohort=cohort) for _ in range(3)]
    certificate = make.certificate(cohort, people[0])
    failed = notifications.record(
        kind="text",
        key="bad-input:failed",
        address=people[1].email,
        organisation_id=org.id,
        cohort_id=cohort.id,
        participant_id=people[1].id,
        payload={"subject": "Hallo", "body": "Hallo"},
    )
    failed.state, failed.answer = Delivery.FAILED, "550 no such user"
    db.session.commit()
    return {
        "admin": admin.id,
        "colleague": colleague.id,
        "enrolment": people[2].enrolments[0].id,
        "org": org.id,
        "curriculum": cohort.version.curriculum_id,
        "cohort": cohort.id,
        "session": cohort.sessions[0].id,
        "person": people[1].id,
        "certificate": certificate.id,
    }


def test_no_form_answers_random_input_with_a_server_error(client, make, db):
    ids = world(make, db)
    log_in(client, "admin@eingabe.example")
    pages = [
        "/cohorts/new",
        f"/cohorts/{ids['cohort']}",
        f"/cohorts/{ids['cohort']}/sessions/{ids['session']}",
        "/participants/new",
        f"/participants/{ids['person']}",
        f"/cohorts/{ids['cohort']}/tandems",
        f"/cohorts/{ids['cohort']}/attendance",
        f"/organisations/{ids['org']}/certificates",
        f"/organisations/{ids['org']}/privacy",
        f"/curricula/{ids['curriculum']}",
        "/me",
        "/me/api-tokens",
        "/me/notifications",
        # The delivery log, with a failed message to send again.
        f"/cohorts/{ids['cohort']}/notifications",
        f"/participants/{ids['person']}/notifications",
        # The questions before what cannot be undone, and the settings area.
        f"/cohorts/{ids['cohort']}/cancel",
        f"/cohorts/{ids['cohort']}/enrolments/{ids['enrolment']}/withdraw",
        f"/certificates/{ids['certificate']}/revoke",
        "/settings/users/new",
        f"/settings/users/{ids['colleague']}",
        "/settings/organisations/new",
        f"/settings/organisations/{ids['org']}",
        f"/settings/organisations/{ids['org']}/closures/2027",
        # The public check of a pasted or uploaded credential.
        "/verify",
    ]
    found = {page: forms_on(client, page) for page in pages}
    assert [page for page, on_it in found.items() if not on_it] == []
    forms = [form for on_it in found.values() for form in on_it]

    @given(data=st.data())
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def survives(data):
        form = data.draw(st.sampled_from(forms))
        fields = {
            name: value if name == "csrf_token" else data.draw(VALUES)
            for name, value in form["fields"].items()
        }
        if form["file"]:
            fields["file"] = (io.BytesIO(data.draw(st.binary(max_size=2000))), "x.csv")
            fields["logo"] = (io.BytesIO(data.draw(st.binary(max_size=2000))), "x.png")
        response = client.post(form["action"], data=fields, content_type=None)
        assert response.status_code < 500, (form["action"], fields)

    survives()


def test_markup_in_a_name_is_escaped_in_pages_and_literal_in_files(client, make, db):
    org = make.organisation("Markup <b>GmbH</b>")
    make.user(Role.ADMIN, [org], email="admin@markup.example")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW")
    person = make.participant(
        org, cohort=cohort, first_name='<script>alert("x")</script>', last_name="O'Brien & Co"
    )
    certificate = make.certificate(cohort, person)
    token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    db.session.commit()
    ids = {"person": person.id, "cohort": cohort.id, "certificate": certificate.id, "org": org.id}
    name = '<script>alert("x")</script> O\'Brien & Co'

    log_in(client, "admin@markup.example")
    for url in (f"/participants/{ids['person']}", f"/cohorts/{ids['cohort']}/certificates"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;alert(" in page, url
    assert "Markup &lt;b&gt;GmbH&lt;/b&gt;" in client.get("/dashboard").get_data(as_text=True)

    pdf = client.get(f"/certificates/{ids['certificate']}.pdf").data
    assert name in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    other = make.participant(db.session.get(Organisation, org.id), first_name="Ben", last_name="B")

    enrol(db.session.get(Cohort, ids["cohort"]), other, None)
    live = db.session.get(Cohort, ids["cohort"])
    tandems.propose(live, None, expected_version=live.lock_version)
    tandems.confirm(live, None, expected_version=live.lock_version)
    db.session.commit()
    # The partner sees the name, as typed, in their calendar file.
    partner_token = tokens.issue(Purpose.PERSONAL_PAGE, other.id, ids["org"], None)
    db.session.commit()
    calendar = client.get(f"/p/{partner_token}/calendar.ics").get_data(as_text=True)
    unfolded = calendar.replace("\r\n ", "")
    assert '<script>alert("x")</script> O\'Brien & Co' in unfolded.replace("\\,", ",")
    assert client.get(f"/p/{token}").status_code == 200


def test_a_nul_character_is_refused_before_it_reaches_the_database(client, make, db):
    make.user(Role.ADMIN, [make.organisation("Null GmbH")], email="admin@null.example")
    log_in(client, "admin@null.example")
    page = client.get("/participants?q=%00")
    assert page.status_code == 400
    text = html.unescape(page.get_data(as_text=True))
    assert "Ein unsichtbares Zeichen in der Eingabe" in text
    assert "„Name, E-Mail-Adresse, Abteilung, Standort oder Personalnummer“" in text
    api = client.get("/api/v1/participants?q=%00", headers={"Authorization": "Bearer x"})
    assert api.status_code == 400
    assert api.json["error"]["code"] == "bad_request"
    assert "NUL" in api.json["error"]["message"]


def test_the_public_forms_survive_random_input_too(app, make, db):
    """The login form and a participant's personal page, as anyone can reach them."""
    ids = world(make, db)
    token = tokens.issue(Purpose.PERSONAL_PAGE, ids["person"], ids["org"], None)
    db.session.commit()
    client = app.test_client()
    forms = forms_on(client, "/login") + forms_on(client, f"/p/{token}")
    assert len(forms) >= 2

    @given(data=st.data())
    @settings(max_examples=40, deadline=None, database=None)
    def survives(data):
        form = data.draw(st.sampled_from(forms))
        fields = {
            name: value if name == "csrf_token" else data.draw(VALUES)
            for name, value in form["fields"].items()
        }
        response = client.post(form["action"], data=fields)
        assert response.status_code < 500, (form["action"], fields)

    survives()


def test_a_nul_character_in_a_form_names_its_field_and_saves_nothing(client, make, db):
    org = make.organisation("Null Zwei GmbH")
    make.user(Role.ADMIN, [org], email="admin@nullzwei.example")
    log_in(client, "admin@nullzwei.example")
    before = db.session.scalar(select(func.count()).select_from(Participant))
    answer = post_form(
        client,
        "/participants/new",
        {"first_name": "Jö\x00rg", "last_name": "Yılmaz", "email": "joerg@nullzwei.example"},
    )
    assert answer.status_code == 400
    text = html.unescape(answer.get_data(as_text=True))
    assert "Das Feld „Vorname“ enthält ein Steuerzeichen (NUL)" in text
    assert "Es wurde nichts gespeichert" in text
    assert db.session.scalar(select(func.count()).select_from(Participant)) == before
