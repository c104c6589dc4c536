import io
import re
from datetime import date

from sqlalchemy import func, select

from app.models import (
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
)
from tests.web.helpers import csrf_token, log_in, post_form

FILE = (
    "Vorname;Nachname;E-Mail;Abteilung;Standort;Gruppe\n"
    "Anna;Müller;anna@firma.example;Produktion;Ulm;Gruppe 1\n"
    "Ben;Becker;ben@firma.example;Logistik;Ulm;Gruppe 1\n"
)


def setup(make, role=Role.HR):
    org = make.organisation()
    make.user(role, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Gruppe 1", capacity=20)
    return org.id, cohort.id


def upload(client, org_id, text, name="hr.csv"):
    token = csrf_token(client, "/participants/import")
    return client.post(
        "/participants/import",
        data={
            "csrf_token": token,
            "organisation": str(org_id),
            "file": (io.BytesIO(text.encode("utf-8")), name),
        },
        content_type="multipart/form-data",
    )


def confirm(client, page_html, **extra):
    fields = dict(
        re.findall(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"', page_html)
    )
    selects = re.findall(r'<select id="(map-\w+)" name="\1">(.*?)</select>', page_html, re.S)
    mapping = {}
    for name, options in selects:
        chosen = re.search(r'<option value="(\d*)" selected>', options)
        mapping[name] = chosen.group(1) if chosen else ""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html).group(1)
    return client.post(
        "/participants/import/check", data={"csrf_token": token, **fields, **mapping, **extra}
    )


def test_import_with_mapping_preview(client, make, db):
    org_id, cohort_id = setup(make)
    log_in(client, "hr@example.org")
    preview = upload(client, org_id, FILE)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Welche Spalte ist was?" in html
    assert "anna@firma.example" in html  # the first rows are shown
    assert db.session.scalar(select(func.count(Participant.id))) == 0  # nothing saved yet
    done = confirm(client, html)
    assert done.status_code == 302
    page = client.get("/participants").get_data(as_text=True)
    assert (
        "Import abgeschlossen: 2 hinzugefügt, 0 geändert, 0 unverändert, 2 Einschreibungen."
        in page
    )
    assert db.session.scalar(select(func.count(Enrolment.id))) == 2


def test_a_broken_file_lists_its_problems_and_imports_nothing(client, make, db):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    broken = FILE + "Clara;;clara@;Vertrieb;Ulm;Gruppe 7\n"
    html = upload(client, org_id, broken).get_data(as_text=True)
    response = confirm(client, html)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Die Datei wurde nicht importiert: 3 Probleme." in text
    assert re.search(r"<td>4</td><td>Nachname</td><td>ist leer</td>", text)
    assert re.search(r"<td>4</td><td>E-Mail</td><td>„clara@“ ist keine E-Mail-Adresse</td>", text)
    assert re.search(r"<td>4</td><td>Gruppe</td><td>es gibt keine Gruppe „Gruppe 7“", text)
    assert db.session.scalar(select(func.count(Participant.id))) == 0


def test_required_fields_without_a_column_are_marked_at_their_choice(client, make, db):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    html = upload(client, org_id, "Wer;Wo\nAnna Müller;Ulm\n").get_data(as_text=True)
    response = confirm(client, html)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    marked = re.findall(r'<select id="map-(\w+)" name="map-\1" aria-invalid="true"', text)
    assert sorted(marked) == ["email", "first_name", "last_name"]
    assert text.count("Bitte wählen Sie die Spalte, die dieses Feld enthält.") == 3
    assert db.session.scalar(select(func.count(Participant.id))) == 0


def test_an_unreadable_upload_is_named(client, make):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    response = upload(client, org_id, "%PDF", name="liste.pdf")
    assert response.status_code == 400
    assert "„liste.pdf“ ist weder eine CSV- noch eine XLSX-Datei" in response.get_data(
        as_text=True
    )


def test_export_reads_back_in_the_same_columns(client, make, db):
    org_id, _ = setup(make)
    log_in(client, "hr@example.org")
    confirm(client, upload(client, org_id, FILE).get_data(as_text=True))
    response = client.get("/participants/export")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "Vorname;Nachname;E-Mail;Abteilung;Standort;Führungskraft;E-Mail Führungskraft;"
        "Personalnummer;Gruppe"
    )
    assert "Anna;Müller;anna@firma.example;Produktion;Ulm;;;;Gruppe 1" in text
    # Importing the export again changes nothing.
    done = confirm(client, upload(client, org_id, text, name="export.csv").get_data(as_text=True))
    assert done.status_code == 302
    assert "0 hinzugefügt, 0 geändert, 2 unverändert" in client.get("/participants").get_data(
        as_text=True
    )


def test_add_edit_enrol_and_withdraw_a_person(client, make, db):
    org_id, cohort_id = setup(make, Role.TRAINER)
    log_in(client, "hr@example.org")
    response = post_form(
        client,
        "/participants/new",
        {
            "organisation": str(org_id),
            "first_name": "Dora",
            "last_name": "Dorn",
            "email": "Dora@Firma.example",
            "department": "IT",
            "site": "Ulm",
            "manager_name": "",
            "manager_email": "",
        },
    )
    assert response.status_code == 302
    person = db.session.scalar(select(Participant))
    person_id, version = person.id, person.lock_version
    assert person.email == "dora@firma.example"
    page = f"/participants/{person_id}"
    token = csrf_token(client, page)
    client.post(f"{page}/enrol", data={"csrf_token": token, "cohort": str(cohort_id)})
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.status is EnrolmentStatus.ENROLLED
    enrolment_id = enrolment.id
    response = post_form(
        client,
        page,
        {
            "organisation": str(org_id),
            "first_name": "Dora",
            "last_name": "Dorn-Berg",
            "email": "dora@firma.example",
            "department": "IT",
            "site": "Ulm",
            "manager_name": "",
            "manager_email": "",
            "version": str(version),
        },
    )
    assert response.status_code == 302
    token = csrf_token(client, page)
    client.post(
        f"/cohorts/{cohort_id}/enrolments/{enrolment_id}/withdraw",
        data={"csrf_token": token, "confirmed": "yes"},
    )
    assert db.session.get(Enrolment, enrolment_id).status is EnrolmentStatus.WITHDRAWN
    assert db.session.get(Participant, person_id).last_name == "Dorn-Berg"
    history = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "ausgetragen" in history


def test_a_stale_edit_is_refused(client, make, db):
    org = make.organisation("Eigene GmbH")
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    person = make.participant(org)
    org_id, person_id, version, email = org.id, person.id, person.lock_version, person.email
    log_in(client, "trainer@example.org")
    data = {
        "organisation": str(org_id),
        "first_name": "X",
        "last_name": "Y",
        "email": email,
        "department": "",
        "site": "",
        "manager_name": "",
        "manager_email": "",
        "version": str(version),
    }
    assert post_form(client, f"/participants/{person_id}", data).status_code == 302
    page = f"http://localhost/participants/{person_id}"
    stale = post_form(
        client,
        f"/participants/{person_id}",
        {**data, "first_name": "Z"},
        headers={"Referer": page},
    )
    assert stale.status_code == 303
    assert stale.headers["Location"] == f"/participants/{person_id}"
    shown = client.get(stale.headers["Location"]).get_data(as_text=True)
    assert "refused-stale" in shown
    db.session.expire_all()
    assert db.session.get(Participant, person_id).first_name == "X"


def test_a_cohorts_participants_as_csv(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Gruppe 1")
    make.participant(org, cohort=cohort, first_name="Ida", last_name="Iser", email="ida@x.example")
    make.participant(org, first_name="Not", last_name="Enrolled", email="not@x.example")
    cohort_id = cohort.id
    log_in(client, "hr@example.org")
    text = client.get(f"/cohorts/{cohort_id}/participants.csv").get_data().decode("utf-8-sig")
    assert text.splitlines()[1:] == ["Ida;Iser;ida@x.example;;;;;;Gruppe 1"]


def test_an_import_names_people_enrolled_in_another_cohort_of_the_curriculum(client, make, db):
    """The file import holds the same warning as the person's page: listed
    as a problem, imported only with "enrol all the same" ticked."""
    org_id, first_id = setup(make)
    org = db.session.get(Organisation, org_id)
    make.cohort(org, name="Gruppe 2", start=date(2027, 9, 6))
    make.participant(
        org,
        cohort=db.session.get(Cohort, first_id),
        first_name="Anna",
        last_name="Müller",
        email="anna@firma.example",
    )
    log_in(client, "hr@example.org")
    text = FILE.replace("Gruppe 1", "Gruppe 2")
    preview = upload(client, org_id, text).get_data(as_text=True)
    refused = confirm(client, preview)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Gruppe 1" in page
    assert 'name="acknowledge"' in page
    assert db.session.scalar(select(func.count(Participant.id))) == 1  # nothing imported

    done = confirm(client, page, acknowledge="y")
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Enrolment.id))) == 3


def test_the_list_finds_people_by_any_part_of_their_name_in_any_case(client, make, db):
    org_id, _ = setup(make)
    org = db.session.get(Organisation, org_id)
    make.participant(org, first_name="Anna", last_name="Zander", email="az@firma.example")
    make.participant(org, first_name="Anna", last_name="Müller", email="am@firma.example")
    make.participant(org, first_name="Ben", last_name="Anders", email="b@firma.example")
    other = make.organisation("Andere GmbH")
    make.participant(other, first_name="Anna", last_name="Fremd")
    log_in(client, "hr@example.org")
    page = client.get("/participants?q=ANNA").get_data(as_text=True)
    found = re.findall(r">(\w+), (\w+)</a>", page)
    assert found == [("Müller", "Anna"), ("Zander", "Anna")]
    page = client.get("/participants?q=anna+m%C3%BC").get_data(as_text=True)
    assert re.findall(r">(\w+), (\w+)</a>", page) == [("Müller", "Anna")]


def test_a_name_written_last_name_first_with_a_comma_is_found(client, make, db):
    org_id, _ = setup(make)
    org = db.session.get(Organisation, org_id)
    make.participant(org, first_name="Jörg", last_name="Yılmaz", email="jy@firma.example")
    make.participant(org, first_name="Jörg", last_name="Zander", email="jz@firma.example")
    log_in(client, "hr@example.org")
    for query in ("Yılmaz, Jörg", "yilmaz,joerg", "Yılmaz; Jörg"):
        page = client.get("/participants", query_string={"q": query}).get_data(as_text=True)
        assert re.findall(r">(\w+), (\w+)</a>", page) == [("Yılmaz", "Jörg")], query


def test_the_list_shows_each_persons_cohort_and_certificate(client, make, db):
    from app.services import certificates, tandems
    from app.services.policy import Actor

    org_id, cohort_id = setup(make)
    org = db.session.get(Organisation, org_id)
    current = db.session.get(Cohort, cohort_id)
    past = make.cohort(org, name="Frühjahr", start=date(2027, 5, 3))
    cancelled = make.cohort(org, name="Abgesagt 2025", start=date(2025, 3, 3))
    make.participant(org, current, first_name="Anna", last_name="Albers")
    ben = make.participant(org, past, first_name="Ben", last_name="Bauer")
    carla = make.participant(org, past, first_name="Carla", last_name="Clausen")
    emil = make.participant(org, past, first_name="Emil", last_name="Ebert")
    make.participant(org, cancelled, first_name="Dora", last_name="Dietz")
    later_cancelled = make.cohort(org, name="Abgesagt 2028", start=date(2028, 3, 6))
    db.session.add(Enrolment(cohort=later_cancelled, participant=ben))
    tandems.propose(past, None, expected_version=past.lock_version)
    tandems.confirm(past, None, expected_version=past.lock_version)
    certified = make.certificate(past, ben).issued_on
    revoked = make.certificate(past, carla)
    certificates.revoke_certificate(Actor.system(), revoked.id, "Falsch ausgestellt")
    again = make.certificate(past, emil)
    certificates.revoke_certificate(Actor.system(), again.id, "Falsch ausgestellt")
    reissued = make.certificate(past, emil).issued_on
    past.state = CohortState.COMPLETED
    cancelled.state = CohortState.CANCELLED
    later_cancelled.state = CohortState.CANCELLED
    db.session.commit()
    later_id = later_cancelled.id
    log_in(client, "hr@example.org")

    page = client.get("/participants").get_data(as_text=True)
    rows = {
        re.search(r">(\w+), \w+</a>", row).group(1): row
        for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
        if 'name="person"' in row
    }

    def cell(name, label):
        found = re.search(rf'<td data-label="{label}">(.*?)</td>', rows[name], re.S)
        return re.sub(r"<[^>]+>", "", found.group(1)).strip()

    assert cell("Albers", "Gruppe") == "Gruppe 1"
    assert f'href="/cohorts/{cohort_id}"' in rows["Albers"]
    assert cell("Albers", "Zertifikat") == ""
    # The cohort completed, not the one cancelled after it.
    assert cell("Bauer", "Gruppe") == "Frühjahr (abgeschlossen)"
    assert cell("Bauer", "Zertifikat") == f"ausgestellt am {certified:%d.%m.%Y}"
    assert cell("Clausen", "Zertifikat") == "widerrufen"
    assert cell("Ebert", "Zertifikat") == (
        f"ausgestellt am {reissued:%d.%m.%Y}; ein anderes wurde widerrufen"
    )
    # The cohort filter finds people by a cancelled cohort: the column names it.
    assert cell("Dietz", "Gruppe") == "Abgesagt 2025 (abgesagt)"
    # Filtered by a cohort, each row names it beside the cohort it shows.
    by_cohort = client.get(f"/participants?cohort={later_id}").get_data(as_text=True)
    assert "Frühjahr (abgeschlossen), Abgesagt 2028 (abgesagt)" in re.sub(
        r"<[^>]+>", "", by_cohort
    )
    revoked_filter = client.get("/participants?certificate=revoked").get_data(as_text=True)
    assert re.findall(r">(\w+), (\w+)</a>", revoked_filter) == [
        ("Clausen", "Carla"),
        ("Ebert", "Emil"),
    ]


def test_an_address_taken_in_the_organisation_is_refused_at_the_field(client, make, db):
    org_id, _ = setup(make)
    org = db.session.get(Organisation, org_id)
    make.participant(org, first_name="Anna", last_name="Alt", email="anna@firma.example")
    ben = make.participant(org, first_name="Ben", last_name="Berg", email="ben@firma.example")
    ben_id, version = ben.id, ben.lock_version
    log_in(client, "hr@example.org")
    values = {
        "first_name": "Anna",
        "last_name": "Neu",
        "email": "ANNA@firma.example",
        "department": "",
        "site": "",
        "manager_name": "",
        "manager_email": "",
    }
    added = post_form(client, "/participants/new", {**values, "organisation": str(org_id)})
    assert added.status_code == 400
    assert "Diese E-Mail-Adresse ist bereits vergeben." in added.get_data(as_text=True)
    changed = post_form(client, f"/participants/{ben_id}", {**values, "version": str(version)})
    assert changed.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Participant.id))) == 2
    assert db.session.get(Participant, ben_id).email == "ben@firma.example"


def test_every_problem_of_the_person_form_is_shown_at_once_at_its_field(client, make, db):
    org_id, _ = setup(make)
    org = db.session.get(Organisation, org_id)
    make.participant(org, first_name="Anna", last_name="Alt", email="anna@firma.example")
    ben = make.participant(
        org, first_name="Ben", last_name="Berg", email="ben@firma.example", employee_number="P-7"
    )
    ben_id, version = ben.id, ben.lock_version
    log_in(client, "hr@example.org")
    values = {
        "first_name": "",  # the form's own check
        "last_name": "Neu\x07",  # the service's: a control character
        "email": "anna@firma.example",  # taken
        "department": "",
        "site": "",
        "manager_name": "",
        "manager_email": "keine-adresse",  # the form's own check
        "employee_number": "P-7",  # taken
    }
    added = post_form(client, "/participants/new", {**values, "organisation": str(org_id)})
    assert added.status_code == 400
    page = added.get_data(as_text=True)
    invalid = re.findall(r'<p class="field invalid">\s*<label for="(\w+)"', page)
    assert sorted(invalid) == sorted(
        ["first_name", "last_name", "email", "manager_email", "employee_number"]
    )
    assert "Diese E-Mail-Adresse ist bereits vergeben." in page
    assert re.search(r"Diese Personalnummer ist \w+ vergeben\.", page)

    changed = post_form(
        client,
        f"/participants/{ben_id}",
        {**values, "employee_number": "P-7", "version": str(version)},
    )
    assert changed.status_code == 400
    page = changed.get_data(as_text=True)
    invalid = re.findall(r'<p class="field invalid">\s*<label for="(\w+)"', page)
    # Ben's own number is no problem on his page.
    assert sorted(invalid) == sorted(["first_name", "last_name", "email", "manager_email"])
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Participant.id))) == 2
    assert db.session.get(Participant, ben_id).last_name == "Berg"


def _names_on(page: str) -> list[str]:
    return re.findall(r'<a href="/participants/\d+">([^<]+)</a>', page)


def test_the_list_pages_sorts_in_german_and_ignores_what_it_cannot_read(client, make, db):
    org_id, _ = setup(make)
    org = db.session.get(Organisation, org_id)
    for last in ("Kühn", "Köhler", "Krüger"):
        make.participant(org, first_name="Eva", last_name=last, department="Vertrieb")
    for n in range(117):
        make.participant(org, first_name=f"Person{n:03}", last_name="Zimmermann", site="Ulm")
    log_in(client, "hr@example.org")

    first = client.get("/participants").get_data(as_text=True)
    assert _names_on(first)[:3] == ["Köhler, Eva", "Krüger, Eva", "Kühn, Eva"]
    assert len(_names_on(first)) == 50
    assert "120 Personen, 1 bis 50 auf Seite 1 von 3" in first
    assert 'href="/participants?page=2" rel="next"' in first
    last = client.get("/participants?page=3").get_data(as_text=True)
    assert len(_names_on(last)) == 20
    assert "101 bis 120 auf Seite 3 von 3" in last
    # A page past the end shows the last one; one that is no number the first.
    assert _names_on(client.get("/participants?page=99").get_data(as_text=True)) == _names_on(last)
    assert _names_on(client.get("/participants?page=x").get_data(as_text=True)) == _names_on(first)
    backwards = client.get("/participants?sort=-name").get_data(as_text=True)
    assert _names_on(backwards)[0] == "Zimmermann, Person116"

    narrowed = client.get("/participants?department=Vertrieb&q=k").get_data(as_text=True)
    assert _names_on(narrowed) == ["Köhler, Eva", "Krüger, Eva", "Kühn, Eva"]
    assert "3 Personen" in narrowed
    assert "Alle Filter zurücksetzen" in narrowed
    # Filter values that are not offered count as not given, never as an error.
    for odd in (
        "organisation=abc",
        "organisation=99999999999999999999",
        "cohort=424242",
        "cohort=-1",
        "department=%3Cscript%3E",
        "certificate=forged",
        "sort=password",
        "page=-3",
        "q=%25_%22*",
    ):
        response = client.get(f"/participants?{odd}")
        assert response.status_code == 200, odd
        assert "<script>" not in response.get_data(as_text=True)
    # A control character is refused before the list is read (the app's rule).
    assert client.get("/participants?q=a%00b").status_code == 400


def test_the_participant_page_lists_every_enrolment_of_the_person(client, make, db):
    org_id, cohort_id = setup(make)
    org = db.session.get(Organisation, org_id)
    second = make.cohort(org, name="Gruppe 2", start=date(2027, 9, 6))
    person = make.participant(org, db.session.get(Cohort, cohort_id), first_name="Ömer")
    db.session.add(Enrolment(cohort=second, participant=person, status=EnrolmentStatus.WITHDRAWN))
    db.session.commit()
    person_id = person.id
    log_in(client, "hr@example.org")
    page = client.get(f"/participants/{person_id}").get_data(as_text=True)
    assert re.search(r">Gruppe 1</a> –\s*eingeschrieben", page)
    assert re.search(r">Gruppe 2</a> –\s*ausgetragen", page)
