"""Files as HR systems and Qualiplan itself write them, through the upload
and mapping pages: the participants export in each format it offers reads
back as "nothing changed", a header row below title rows is chosen on the
mapping page, and the employee number is a field of the person's page and
the API."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import func, select

from app.models import Change, Organisation, Participant, Role
from app.services.demo import DEMO_PASSWORD, load_demo
from tests.conftest import PASSWORD
from tests.real_server import compact_cohort, enrolled, fetch, organisation_with, served
from tests.web.helpers import csrf_token, log_in, post_form


def upload(client, org_id, content: bytes, name: str):
    token = csrf_token(client, "/participants/import")
    return client.post(
        "/participants/import",
        data={
            "csrf_token": token,
            "organisation": str(org_id),
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def confirm(client, page_html, **extra):
    fields = dict(
        re.findall(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"', page_html)
    )
    mapping = {}
    for name, options in re.findall(
        r'<select id="(map-\w+|header_row)" name="\1">(.*?)</select>', page_html, re.S
    ):
        chosen = re.search(r'<option value="(\d*)" selected>', options)
        mapping[name] = chosen.group(1) if chosen else ""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html).group(1)
    return client.post(
        "/participants/import/check", data={"csrf_token": token, **fields, **mapping, **extra}
    )


def test_the_demo_export_in_each_format_imports_again_unchanged(client, db):
    logins = load_demo(date(2026, 11, 20))
    hr = next(login for login in logins if login.role is Role.HR)
    db.session.commit()
    log_in(client, hr.email, DEMO_PASSWORD)
    organisation = db.session.scalar(select(Organisation).order_by(Organisation.id))
    people = db.session.scalar(select(func.count(Participant.id)))
    changes = db.session.scalar(select(func.count(Change.id)))
    for fmt, name in (("csv", "teilnehmende.csv"), ("xlsx", "teilnehmende.xlsx")):
        exported = client.get(f"/participants/export?organisation={organisation.id}&format={fmt}")
        assert exported.status_code == 200
        mapping = upload(client, organisation.id, exported.get_data(), name)
        assert mapping.status_code == 200, mapping.get_data(as_text=True)
        done = confirm(client, mapping.get_data(as_text=True))
        assert done.status_code == 302, re.findall(r"<td>(.*?)</td>", done.get_data(as_text=True))
        page = client.get("/participants").get_data(as_text=True)
        assert re.search(
            r"Import abgeschlossen: 0 hinzugefügt, 0 geändert, \d+ unverändert, 0 ", page
        )
    assert db.session.scalar(select(func.count(Participant.id))) == people
    assert db.session.scalar(select(func.count(Change.id))) == changes


def test_the_xlsx_export_is_a_workbook(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    make.participant(org, first_name="=Anna", last_name="Albers", email="a@x.example")
    log_in(client, "hr@example.org")
    response = client.get("/participants/export?format=xlsx")
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "teilnehmende.xlsx" in response.headers["Content-Disposition"]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][7] == "Personalnummer"
    assert rows[1][:3] == ("'=Anna", "Albers", "a@x.example")


def test_the_csv_export_names_one_charset(tmp_path):
    with served(tmp_path, "export_charset") as (app, base):
        from app.extensions import db

        with app.app_context():
            organisation = organisation_with(Role.HR, "hr@example.org", "Hanna Roth")
            cohort = compact_cohort(organisation, "Gruppe 1", date(2027, 3, 1))
            enrolled(cohort, "Anna", "Albers", "anna@firma.example")
            db.session.commit()
            cohort_id = cohort.id
        body = urlencode({"email": "hr@example.org", "password": PASSWORD}).encode()
        answer = fetch(
            f"{base}/login", "POST", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert answer.status == 302, answer.body
        cookie = next(
            value.split(";", 1)[0]
            for name, value in answer.getheaders()
            if name == "Set-Cookie" and value.startswith("session=")
        )
        for path in ("/participants/export", f"/cohorts/{cohort_id}/participants.csv"):
            response = fetch(f"{base}{path}", headers={"Cookie": cookie})
            assert response.status == 200, response.getheader("Location")
            assert response.getheader("Content-Type") == "text/csv; charset=utf-8"


def test_the_header_row_below_title_rows_is_chosen_on_the_mapping_page(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    org_id = org.id
    log_in(client, "hr@example.org")
    # Nothing in the title rows tells the header apart: the first row is proposed.
    text = "Export vom 1.2.2027;;\nName;Rufname;Adresse\nAlbers;Anna;anna@firma.example\n"
    page = upload(client, org_id, text.encode(), "hr.csv").get_data(as_text=True)
    assert "Kopfzeile in Zeile 1" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fields = dict(re.findall(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"', page))
    again = client.post(
        "/participants/import/check",
        data={"csrf_token": token, **fields, "header_row": "2", "reread": "1"},
    )
    assert again.status_code == 200
    shown = again.get_data(as_text=True)
    assert "Kopfzeile in Zeile 2" in shown
    assert db.session.scalar(select(func.count(Participant.id))) == 0
    done = confirm(client, shown, **{"map-first_name": "1", "map-email": "2"})
    assert done.status_code == 302
    person = db.session.scalar(select(Participant))
    assert (person.first_name, person.last_name) == ("Anna", "Albers")


def test_the_employee_number_is_shown_and_kept_unique_on_the_persons_page(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    make.participant(
        org, first_name="Ben", last_name="Bauer", email="b@x.example", employee_number="4711"
    )
    org_id = org.id
    log_in(client, "hr@example.org")
    values = {"organisation": str(org_id), "first_name": "Anna", "last_name": "Albers"}
    taken = post_form(
        client,
        "/participants/new",
        values | {"email": "a@x.example", "employee_number": "4711"},
    )
    assert taken.status_code == 400
    assert "Diese Personalnummer ist schon vergeben." in taken.get_data(as_text=True)
    added = post_form(
        client, "/participants/new", values | {"email": "a@x.example", "employee_number": "0815"}
    )
    assert added.status_code == 302
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert re.search(r'name="employee_number"[^>]*value="0815"', page)
    # Several people without a number are fine.
    also = post_form(client, "/participants/new", values | {"email": "c@x.example"})
    assert also.status_code == 302
    assert (
        db.session.scalar(
            select(func.count(Participant.id)).where(Participant.employee_number.is_(None))
        )
        == 1
    )
