"""The organisation's letterhead on certificates: signatory and logo."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Organisation, Role
from tests.exports.test_certificate_pdf import assert_inside_the_margins, text_runs
from tests.web.helpers import csrf_token, log_in, post_form


def picture(fmt: str, size=(400, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 90, 160)).save(out, format=fmt)
    return out.getvalue()


def setup(make):
    org = make.organisation("Metallwerke Neckartal GmbH")
    make.user(Role.HR, [org], email="hr@example.org")
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    return org.id


def save(client, org_id, **fields):
    url = f"/organisations/{org_id}/certificates"
    page = client.get(url).get_data(as_text=True)
    version = page.split('name="version"')[1].split('value="')[1].split('"')[0]
    data = {"signatory_name": "", "signatory_role": "", "version": version, **fields}
    return post_form(client, url, data, content_type="multipart/form-data", follow_redirects=True)


def test_hr_sets_signatory_and_logo_and_sees_them_in_a_preview(client, make, db):
    org_id = setup(make)
    log_in(client, "hr@example.org")
    page = save(
        client,
        org_id,
        signatory_name="Dr. Ulrike Hägele",
        signatory_role="Leitung Personalentwicklung",
        logo=(io.BytesIO(picture("JPEG", (3000, 1200))), "logo.jpg"),
    ).get_data(as_text=True)
    assert "Gespeichert." in page
    db.session.expire_all()
    org = db.session.get(Organisation, org_id)
    stored = Image.open(io.BytesIO(org.logo_png))
    assert stored.format == "PNG"
    assert stored.size == (1400, 560)  # scaled down, proportions kept

    preview = client.get(f"/organisations/{org_id}/certificates/preview.pdf?lang=de")
    assert preview.status_code == 200
    (page,) = PdfReader(io.BytesIO(preview.data)).pages
    text = page.extract_text()
    assert "Dr. Ulrike Hägele" in text
    assert "Metallwerke Neckartal GmbH" in text
    assert "Beispiel – kein Zertifikat" in text
    # The sample states teaching units, as certificates issued now do.
    assert "24 Unterrichtseinheiten" in text
    assert len(page.images) == 1


def test_a_file_that_is_no_picture_is_refused_and_nothing_changes(client, make, db):
    org_id = setup(make)
    log_in(client, "hr@example.org")
    save(client, org_id, signatory_name="Alt", logo=(io.BytesIO(picture("PNG")), "logo.png"))
    response = save(
        client, org_id, signatory_name="Neu", logo=(io.BytesIO(b"<svg onload=alert(1)>"), "x.png")
    )
    assert response.status_code == 400  # shown at the logo field, rolled back
    page = response.get_data(as_text=True)
    assert "Das Logo muss ein PNG-, JPEG-, GIF- oder WebP-Bild sein." in page
    db.session.expire_all()
    org = db.session.get(Organisation, org_id)
    assert org.signatory_name == "Alt"
    assert Image.open(io.BytesIO(org.logo_png)).size == (400, 160)


def test_the_logo_can_be_removed(client, make, db):
    org_id = setup(make)
    log_in(client, "hr@example.org")
    save(client, org_id, logo=(io.BytesIO(picture("GIF")), "logo.gif"))
    save(client, org_id, remove_logo="y")
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).logo_png is None
    assert client.get(f"/organisations/{org_id}/certificates/logo.png").status_code == 404


def test_a_change_made_meanwhile_is_not_overwritten(client, make, db):
    org_id = setup(make)
    log_in(client, "hr@example.org")
    url = f"/organisations/{org_id}/certificates"
    stale = {"signatory_name": "Mein Name", "signatory_role": "", "version": "1"}
    save(client, org_id, signatory_name="Erste Änderung")
    refused = post_form(client, url, stale, headers={"Referer": f"http://localhost{url}"})
    assert refused.status_code == 303
    assert refused.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert 'class="flash error refused-stale"' in page
    assert 'value="Erste Änderung"' in page  # the page shows the current state
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).signatory_name == "Erste Änderung"


def test_an_upload_over_the_limit_is_refused_with_413(client, make, db):
    org_id = setup(make)
    log_in(client, "hr@example.org")
    url = f"/organisations/{org_id}/certificates"
    token = csrf_token(client, url)
    huge = FileStorage(io.BytesIO(b"\0" * (6 * 1024 * 1024)), "huge.png")
    # Encoded in memory: the test client would spool it to a file it never closes.
    boundary, body = encode_multipart({"csrf_token": token, "version": "1", "logo": huge})
    response = client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413
    assert "Die Datei ist zu groß" in response.get_data(as_text=True)


def test_trainers_do_not_change_the_letterhead(client, make, db):
    org_id = setup(make)
    log_in(client, "trainer@example.org")
    assert client.get(f"/organisations/{org_id}/certificates").status_code == 403


def test_the_longest_organisation_name_and_signatory_print_inside_the_page(client, make, db):
    org = make.organisation("W" * 200)
    make.user(Role.HR, [org], email="hr@example.org")
    org_id = org.id
    log_in(client, "hr@example.org")
    page = save(client, org_id, signatory_name="W" * 200, signatory_role="M" * 200)
    assert "Gespeichert." in page.get_data(as_text=True)
    for language in ("de", "en"):
        preview = client.get(f"/organisations/{org_id}/certificates/preview.pdf?lang={language}")
        (pdf_page,) = PdfReader(io.BytesIO(preview.data)).pages
        assert_inside_the_margins(text_runs(pdf_page))
