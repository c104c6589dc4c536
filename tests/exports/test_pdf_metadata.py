"""What archives read from every Qualiplan PDF, read back with pypdf: the
title, the author (the organisation), the subject, the creator, the
document language (/Lang) and fonts that are all embedded — for the
certificate (alone, in a batch, with a letterhead logo) and for the lists
that share its page code: the sign-in sheet, the schedule and the
attendance report."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from app.exports.attendance_report import render_report_pdf
from app.exports.certificate_pdf import render_certificate, write_pdf
from app.exports.cohort_schedule_pdf import CohortSchedule, render_schedule
from app.exports.sign_in_sheet import render_sign_in_sheet
from app.i18n import Translator
from tests.exports.test_certificate_pdf import certificate
from tests.exports.test_printouts import report, scheduled, sheet

DE, EN = Translator("de"), Translator("en")
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def read(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (120, 40), (20, 90, 160, 255)).save(out, "PNG")
    return out.getvalue()


def fonts_of(resources: DictionaryObject | None, seen: set[int]) -> list[DictionaryObject]:
    """Every font a resource dictionary names, also inside its form XObjects."""
    if resources is None:
        return []
    resources = resources.get_object()
    found = [font.get_object() for font in (resources.get("/Font") or {}).values()]
    for xobject in (resources.get("/XObject") or {}).values():
        stream = xobject.get_object()
        if id(stream) in seen:
            continue
        seen.add(id(stream))
        if stream.get("/Subtype") == "/Form":
            found += fonts_of(stream.get("/Resources"), seen)
    return found


def assert_every_font_is_embedded(reader: PdfReader) -> None:
    seen: set[int] = set()
    fonts = [f for page in reader.pages for f in fonts_of(page.get("/Resources"), seen)]
    assert fonts
    for font in fonts:
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant.get("/FontDescriptor")
        assert descriptor is not None, font.get("/BaseFont")
        descriptor = descriptor.get_object()
        assert any(key in descriptor for key in FONT_FILES), font.get("/BaseFont")
        assert "Helvetica" not in str(font.get("/BaseFont"))


def assert_metadata(reader: PdfReader, *, title: str, author: str, subject: str, lang: str):
    info = reader.metadata
    assert info.title == title
    assert info.author == author
    assert info.subject == subject
    assert info.creator == "Qualiplan"
    assert reader.trailer["/Root"]["/Lang"] == lang


def test_a_certificate_names_itself_its_issuer_and_its_language():
    printed = certificate(42, name="Jörg Yılmaz", issuer="Bildungswerk Süd gGmbH")
    rendered = render_certificate(printed, DE, logo_png=logo(), filename="x.pdf")
    reader = read(rendered.content)
    assert_metadata(
        reader,
        title="Zertifikat Nr. 00042 – Jörg Yılmaz",
        author="Bildungswerk Süd gGmbH",
        subject="Lernbegleitung kompakt",
        lang="de-DE",
    )
    assert_every_font_is_embedded(reader)


def test_an_english_certificate_says_en():
    rendered = render_certificate(certificate(7), EN, logo_png=None, filename="x.pdf")
    reader = read(rendered.content)
    assert reader.metadata.title == "Certificate no. 00007 – Person 7"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert_every_font_is_embedded(reader)


def test_a_batch_takes_its_author_from_the_certificates_and_its_title_from_the_cohort():
    out = io.BytesIO()
    write_pdf([certificate(n) for n in range(1, 4)], out, DE, logo_png=logo(), title="Kohorte A")
    reader = read(out.getvalue())
    assert len(reader.pages) == 3
    assert_metadata(
        reader, title="Kohorte A", author="Muster AG", subject="Zertifikat", lang="de-DE"
    )
    assert_every_font_is_embedded(reader)


def test_an_empty_batch_references_only_embedded_fonts():
    out = io.BytesIO()
    write_pdf([], out, DE)
    assert_every_font_is_embedded(read(out.getvalue()))


@pytest.mark.parametrize(("tr", "lang"), [(DE, "de-DE"), (EN, "en")])
def test_the_sign_in_sheet_carries_metadata_and_embedded_fonts(tr, lang):
    printed = sheet(45, organisation="Muster AG", programme="Lernbegleitung kompakt")
    reader = read(render_sign_in_sheet(printed, tr, filename="x.pdf").content)
    assert len(reader.pages) > 1
    info = reader.metadata
    assert info.title.startswith(tr.gettext("Sign-in sheet"))
    assert (info.author, info.subject, info.creator) == (
        "Muster AG",
        "Lernbegleitung kompakt",
        "Qualiplan",
    )
    assert reader.trailer["/Root"]["/Lang"] == lang
    assert_every_font_is_embedded(reader)


def test_the_schedule_carries_metadata_and_embedded_fonts():
    plan = CohortSchedule(
        organisation="Muster AG",
        programme="Lernbegleitung blended",
        cohort="Blended Esslingen",
        trainers=("Tina Trainer",),
        as_of=date(2026, 12, 2),
        sessions=(scheduled("Auftakt", date(2027, 3, 1)),),
    )
    reader = read(render_schedule(plan, DE, filename="x.pdf").content)
    assert_metadata(
        reader,
        title="Terminplan Blended Esslingen",
        author="Muster AG",
        subject="Lernbegleitung blended",
        lang="de-DE",
    )
    assert_every_font_is_embedded(reader)


def test_the_attendance_report_carries_metadata_and_embedded_fonts():
    data = report(30)
    reader = read(render_report_pdf(data, DE, filename="x.pdf").content)
    info = reader.metadata
    assert info.author == data.organisation
    assert info.subject == data.programme
    assert info.creator == "Qualiplan"
    assert data.cohort in info.title
    assert reader.trailer["/Root"]["/Lang"] == "de-DE"
    assert_every_font_is_embedded(reader)


def test_the_downloaded_certificate_names_its_organisation_as_author(client, make):
    from app.models import Role
    from tests.web.helpers import log_in

    org = make.organisation("Bildungswerk Süd")
    make.user(Role.HR, [org], email="hr@sued.example")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW")
    person = make.participant(org, cohort=cohort, first_name="Jörg", last_name="Yılmaz")
    certificate_id = make.certificate(cohort, person).id
    log_in(client, "hr@sued.example")
    for lang, pdf_lang in (("de", "de-DE"), ("en", "en")):
        answer = client.get(f"/certificates/{certificate_id}.pdf?lang={lang}")
        assert answer.status_code == 200
        reader = read(answer.data)
        assert reader.metadata.author == "Bildungswerk Süd"
        assert reader.metadata.title.endswith("– Jörg Yılmaz")
        assert reader.trailer["/Root"]["/Lang"] == pdf_lang
        assert_every_font_is_embedded(reader)
