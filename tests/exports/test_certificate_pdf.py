"""The certificate PDF: one A4 page per certificate, text that reads back,
a QR code that is the verification address, module for module."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import segno
from pypdf import PdfReader

from app.exports.certificate_pdf import (
    PrintedCertificate,
    PrintedElement,
    missing_glyphs,
    write_pdf,
)
from app.i18n import Translator
from app.services.certificates import CODE_LENGTH, grouped, new_code, normalise_code

A4_POINTS = (595, 842)


def certificate(number: int, **changes) -> PrintedCertificate:
    code = new_code()
    fields = dict(
        name=f"Person {number}",
        serial=f"{number:05d}",
        code=grouped(code),
        verify_url=f"https://qualiplan.example/verify/{code}",
        verify_text=f"qualiplan.example/verify/{code}",
        issued_on=date(2027, 6, 3),
        programme="Lernbegleitung kompakt",
        version_label="Curriculum: Kompakt, Version 1",
        period=(date(2027, 3, 1), date(2027, 6, 1)),
        elements=(PrintedElement("Seminartag 1", date(2027, 3, 1), date(2027, 3, 1), 7.5),),
        topics=("Hilfe zur Selbsthilfe",),
        teaching_hours=7.5,
        issuer="Muster AG",
        signatory="",
        signatory_role="",
    )
    return PrintedCertificate(**(fields | changes))


def render(certificates, language="de") -> PdfReader:
    out = io.BytesIO()
    write_pdf(certificates, out, Translator(language))
    return PdfReader(io.BytesIO(out.getvalue()))


def drawn_modules(page, size: int) -> list[list[bool]]:
    """The QR code read back from the page: its rectangles in module units."""
    content = page.get_contents().get_data().decode("latin-1")
    grid = [[False] * size for _ in range(size)]
    for x, y, width in re.findall(r"(?<![\d.])(\d+) (\d+) (\d+) 1 re\b", content):
        for column in range(int(x), int(x) + int(width)):
            grid[int(y)][column] = True
    return grid


def test_each_certificate_is_one_a4_page_with_its_own_qr_code():
    printed = [certificate(n) for n in range(1, 4)]
    reader = render(printed)
    assert len(reader.pages) == 3
    for page, cert in zip(reader.pages, printed, strict=True):
        assert [round(v) for v in page.mediabox.upper_right] == list(A4_POINTS)
        expected = segno.make_qr(cert.verify_url, error="m", mask=2, boost_error=False).matrix
        drawn = drawn_modules(page, len(expected))
        assert drawn == [[bool(m) for m in row] for row in expected]
        text = page.extract_text()
        assert cert.name in text
        assert cert.verify_text in text


def test_english_certificates_speak_english():
    (page,) = render([certificate(1)], "en").pages
    text = page.extract_text()
    assert "This is to certify that" in text
    assert "from 1 Mar 2027 to 1 Jun 2027, with 7.5 teaching hours." in text


def test_german_certificates_use_german_numbers_and_dates():
    (page,) = render([certificate(1)], "de").pages
    text = page.extract_text()
    assert "vom 01.03.2027 bis 01.06.2027 mit 7,5 Unterrichtsstunden" in text


def test_a_very_long_name_is_set_smaller_instead_of_running_off_the_page():
    long_name = "Maximiliane Wilhelmine Friederike von und zu Hohenzollern-Sigmaringen-Wittelsbach"
    (page,) = render([certificate(1, name=long_name)]).pages
    assert long_name in page.extract_text().replace("\n", " ")


def test_an_empty_batch_still_makes_a_readable_file():
    (page,) = render([]).pages
    assert "Keine Zertifikate zu drucken." in page.extract_text()


def test_the_font_reports_letters_it_cannot_print():
    assert missing_glyphs("Zoë Łukasiewicz Γιώργος Анна Nguyễn") == ""
    assert missing_glyphs("山田 太郎") == "太山田郎"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7kq2-m9xd-4tra-hc3p", "7KQ2M9XD4TRAHC3P"),
        ("7KQ2 M9XD 4TRA HC3P", "7KQ2M9XD4TRAHC3P"),
        ("7KQ2-M9XD-4TRA-HC3O", "7KQ2M9XD4TRAHC30"),  # O read as zero
        ("IL00-0000-0000-0000", "1100000000000000"),  # I and L read as one
        ("7KQ2-M9XD-4TRA-HC3U", None),  # U is never used
        ("7KQ2-M9XD-4TRA", None),
        ("", None),
    ],
)
def test_typed_codes_are_read_as_they_were_meant(typed, expected):
    assert normalise_code(typed) == expected


def test_codes_are_random_long_and_unambiguous():
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(c) == CODE_LENGTH for c in codes)
    assert set("".join(codes)) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert not set("".join(codes)) & set("ILOU")
