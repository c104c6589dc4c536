"""The certificate PDF: one A4 page per certificate, text that reads back,
a QR code that is the verification address, module for module."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
import segno
from pypdf import PdfReader

from app.exports.certificate_pdf import (
    MARGIN,
    PrintedCertificate,
    PrintedElement,
    missing_glyphs,
    write_pdf,
)
from app.i18n import Translator
from app.services.certificates import CODE_LENGTH, grouped, new_code, normalise_code
from tests.exports.pdf_text import Run, text_runs

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


def assert_inside_the_margins(runs: list[Run]) -> None:
    assert runs
    for run in runs:
        assert run.left >= MARGIN - 0.01, run
        assert run.right <= A4_POINTS[0] - MARGIN + 0.5, run
        assert run.baseline - 0.25 * run.size >= MARGIN - 0.5 * run.size, run
        assert run.baseline + run.size <= A4_POINTS[1] - MARGIN + 0.5, run
    for number, run in enumerate(runs):
        for other in runs[number + 1 :]:
            # Pieces of one line in two font subsets touch, they do not overlap.
            if abs(run.baseline - other.baseline) < 0.01 and abs(run.right - other.left) < 0.01:
                continue
            assert not run.overlaps(other), (run, other)


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


def test_a_certificate_states_teaching_units_and_their_length():
    day = PrintedElement("Seminartag 1", date(2027, 3, 1), date(2027, 3, 1), 6.0, units=8.0)
    partly = PrintedElement("Seminartag 2", date(2027, 3, 2), date(2027, 3, 2), 5.5, units=7.33)
    cert = certificate(1, elements=(day, partly), teaching_hours=11.5, teaching_units=15.33)
    german = " ".join(render([cert], "de").pages[0].extract_text().split())
    assert "mit 15,33 Unterrichtseinheiten à 45 Minuten erfolgreich abgeschlossen hat" in german
    assert "8 UE" in german
    assert "7,33 UE" in german
    assert "Unterrichtsstunden" not in german
    assert not re.search(r"\d h\b", german)
    hourly = replace(cert, teaching_units=24, unit_minutes=60)
    english = " ".join(render([hourly], "en").pages[0].extract_text().split())
    assert "with 24 teaching units of 60 minutes." in english
    assert "8 units" in english


def test_a_very_long_name_is_set_smaller_or_on_two_lines_instead_of_running_off_the_page():
    long_name = "Maximiliane Wilhelmine Friederike von und zu Hohenzollern-Sigmaringen-Wittelsbach"
    (page,) = render([certificate(1, name=long_name)]).pages
    assert long_name in " ".join(page.extract_text().split())
    assert_inside_the_margins(text_runs(page))


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


# The longest names, titles and signatories anyone can enter, and the widest
# letters: each printed in full, inside the margins, nothing over anything.

WIDE_FIRST = "W" * 100  # the longest first and last names (100 characters each)
WIDE_LAST = "Ŵ" * 99 + "W"
COMBINING = "Nguye\u0302\u0303n Thi\u0323 " * 6 + "Ἀθηνᾶ Щукина"  # 100 characters
LONG_TITLE = "W" * 200  # the longest curriculum and element title, one word


@pytest.mark.parametrize(
    "name",
    [
        f"{WIDE_FIRST} {WIDE_LAST}",
        f"{'WWWWW ' * 16}WWWW {'MMMMMMMMM ' * 10}",
        f"{COMBINING} {COMBINING}",
        "Łukasiewicz-Øvergaard " * 9,
    ],
)
def test_the_longest_allowed_name_is_printed_in_full_inside_the_page(name):
    assert len(name.strip()) <= 201
    (page,) = render([certificate(1, name=name.strip())]).pages
    assert_inside_the_margins(text_runs(page))
    printed = "".join(page.extract_text().split())
    assert "".join(name.split()) in printed  # every letter, none cut off


def test_long_titles_organisations_and_signatories_stay_inside_the_page():
    wide = certificate(
        1,
        name=f"{WIDE_FIRST} {WIDE_LAST}",
        programme=LONG_TITLE,
        version_label=f"Curriculum: {LONG_TITLE}, Version 1",
        elements=tuple(
            PrintedElement(LONG_TITLE, date(2027, 3, n), date(2027, 3, n + 1), 7.5)
            for n in range(1, 13)
        ),
        topics=tuple("Gesprächsführung und Beratung in der Praxis" for _ in range(40)),
        issuer="W" * 200,
        signatory="W" * 200,
        signatory_role="Leitung " + "W" * 192,
        verify_text="qualiplan.example/" + "w" * 80,
    )
    for language in ("de", "en"):
        (page,) = render([wide], language).pages
        assert_inside_the_margins(text_runs(page))
        text = page.extract_text()
        assert "W" * 60 in "".join(text.split())  # the name, on whole lines
        assert re.search(r"und \d+ weitere" if language == "de" else r"and \d+ more", text)


def test_an_ordinary_certificate_keeps_its_one_line_name_at_full_size():
    (page,) = render([certificate(1, name="Zoë Łukasiewicz-Øvergaard")]).pages
    runs = text_runs(page)
    assert_inside_the_margins(runs)
    assert max(run.size for run in runs) == 30  # the heading
    assert sorted({run.size for run in runs})[-2] == 24  # the name, on one line
