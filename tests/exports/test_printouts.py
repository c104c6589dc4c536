"""The paper of a cohort, read back: the sign-in sheet, the schedule and the
attendance report as PDF (pypdf: their text, every text run inside the
page's margins, page breaks that repeat the heading and the table's header,
"Seite 1 von 3"), and the report as XLSX (openpyxl: one sheet, frozen
header, typed cells, no formulas)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.generic import ContentStream

from app.exports.attendance_report import (
    AttendanceReport,
    ReportMark,
    ReportPerson,
    ReportSession,
    render_report_pdf,
    render_report_xlsx,
)
from app.exports.cohort_schedule_pdf import CohortSchedule, ScheduledSession, render_schedule
from app.exports.pdf_pages import MARGIN
from app.exports.sign_in_sheet import SignInPerson, SignInSheet, render_sign_in_sheet
from app.i18n import Translator
from cohorts.eligibility import Mark
from curricula.messages import msg
from tests.exports.pdf_text import text_runs

A4 = (595.28, 841.89)
DE, EN = Translator("de"), Translator("en")
LONGEST = "W" * 100  # the longest first or last name a person can have
LONG_TITLE = "Übungstag: Lernbegleitung an Fallstudien üben und " * 6


def assert_inside_the_margins(page) -> None:
    width, height = (float(v) for v in page.mediabox.upper_right)
    runs = text_runs(page)
    assert runs
    for run in runs:
        assert run.left >= MARGIN - 0.01, run
        assert run.right <= width - MARGIN + 0.01, run
        assert run.baseline - 0.25 * run.size >= MARGIN - 0.25 * run.size - 0.01, run
        assert run.baseline + run.size <= height - MARGIN + 0.01, run


def read(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def words(page) -> str:
    return " ".join(page.extract_text().split())


# --- The sign-in sheet --------------------------------------------------------


def sheet(count: int, **changes) -> SignInSheet:
    fields = dict(
        organisation="Muster AG",
        programme="Lernbegleitung kompakt",
        cohort="Kompakt Esslingen",
        session="Seminartag 1",
        day=date(2027, 3, 1),
        starts=time(9, 0),
        ends=time(16, 30),
        mode="Präsenz",
        venue="Schulungszentrum, Raum 4.12",
        online_link="",
        trainers=("Tina Trainer", "Bert Berater"),
        people=tuple(
            SignInPerson(f"Vorname{n:02d}", f"Nachname{n:02d}", "Produktion", "Esslingen")
            for n in range(1, count + 1)
        ),
    )
    return SignInSheet(**(fields | changes))


def test_a_sign_in_sheet_of_40_breaks_into_pages_that_each_repeat_heading_and_header():
    rendered = render_sign_in_sheet(sheet(40), DE, filename="Teilnahmeliste.pdf")
    assert rendered.mimetype == "application/pdf"
    reader = read(rendered.content)
    pages = reader.pages
    assert len(pages) == 3
    per_page = []
    for number, page in enumerate(pages, start=1):
        assert [round(float(v), 2) for v in page.mediabox.upper_right] == list(A4)  # portrait
        text = words(page)
        for fact in (
            "Teilnahmeliste",
            "Qualifizierung: Lernbegleitung kompakt",
            "Gruppe: Kompakt Esslingen",
            "Termin: Seminartag 1",
            "Montag, 01.03.2027, 09:00 – 16:30 Uhr · Präsenz",
            "Ort: Schulungszentrum, Raum 4.12",
            "Trainer:innen: Tina Trainer, Bert Berater",
            "Nr. Name Abteilung Standort Unterschrift",
            "Anzahl der Anwesenden",
            "Datum, Unterschrift Trainer:in",
            f"Seite {number} von 3",
        ):
            assert fact in text, (number, fact)
        per_page.append(len(re.findall(r"Nachname\d\d, Vorname\d\d", text)))
        assert_inside_the_margins(page)
    assert sum(per_page) == 40
    assert per_page[0] == per_page[1] >= 15  # the same rows per page, ~16 on A4
    everyone = " ".join(words(p) for p in pages)
    names = re.findall(r"Nachname(\d\d), Vorname\d\d", everyone)
    assert names == [f"{n:02d}" for n in range(1, 41)]  # in the order given, each once


def test_the_last_page_has_empty_rows_for_people_not_on_the_list():
    reader = read(render_sign_in_sheet(sheet(3), DE, filename="x.pdf").content)
    (page,) = reader.pages
    text = words(page)
    assert "Wer nicht auf der Liste steht, trägt Name, Abteilung und Standort" in text
    # Row lines: the header's, three people's and the empty rows' boxes.
    boxes = [o for o, op in ContentStream(page.get_contents(), reader).operations if op == b"re"]
    assert len(boxes) >= 1 + 3 + 4
    assert "Seite 1 von 1" in text


def test_an_online_session_names_its_link_and_speaks_english_when_asked():
    online = sheet(2, mode="Online", venue="", online_link="https://meet.example.org/qp-1")
    (page,) = read(render_sign_in_sheet(online, EN, filename="x.pdf").content).pages
    text = words(page)
    assert "Sign-in sheet" in text
    assert "Monday, 1 March 2027, 09:00 – 16:30 · Online" in text
    assert "Online meeting: https://meet.example.org/qp-1" in text
    assert "Page 1 of 1" in text
    assert "Venue" not in text


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_longest_names_and_titles_stay_inside_the_page(language):
    wide = sheet(
        0,
        programme=LONG_TITLE,
        cohort="W" * 200,
        session=LONG_TITLE,
        venue=LONG_TITLE,
        trainers=tuple("Maximiliane Wilhelmine von Hohenzollern-Sigmaringen" for _ in range(6)),
        people=(
            SignInPerson(LONGEST, LONGEST, "W" * 200, "W" * 200),
            SignInPerson("Zoë", "Łukasiewicz-Øvergaard", "Einkauf", "Köln"),
        ),
    )
    reader = read(render_sign_in_sheet(wide, Translator(language), filename="x.pdf").content)
    for page in reader.pages:
        assert_inside_the_margins(page)
    assert "Łukasiewicz-Øvergaard, Zoë" in words(reader.pages[0])


def test_nobody_enrolled_still_prints_a_sheet_to_sign_in_on():
    reader = read(render_sign_in_sheet(sheet(0), DE, filename="x.pdf").content)
    (page,) = reader.pages
    assert "Nr. Name Abteilung Standort Unterschrift" in words(page)
    assert_inside_the_margins(page)


# --- The schedule ------------------------------------------------------------


def scheduled(title: str, first: date, last: date | None = None, **changes) -> ScheduledSession:
    fields = dict(
        title=title,
        first_day=first,
        last_day=last or first,
        starts=time(9, 0),
        ends=time(16, 30),
        mode="Präsenz",
        venue="Schulungszentrum Esslingen",
        online_link="",
        trainers=("Tina Trainer",),
    )
    return ScheduledSession(**(fields | changes))


def test_the_schedule_lists_every_session_with_german_dates_times_modes_and_places():
    plan = CohortSchedule(
        organisation="Muster AG",
        programme="Lernbegleitung blended",
        cohort="Blended Esslingen",
        trainers=("Tina Trainer", "Bert Berater"),
        as_of=date(2026, 12, 2),
        sessions=(
            scheduled("Auftakt", date(2027, 3, 1)),
            scheduled(
                "Theoriephase 1 (Videos)",
                date(2027, 3, 2),
                date(2027, 3, 19),
                starts=None,
                ends=None,
                mode="Selbstgesteuert",
                venue="",
                trainers=(),
            ),
            scheduled(
                "Zwischen-Webinar",
                date(2027, 3, 22),
                starts=time(10, 0),
                ends=time(12, 0),
                mode="Online",
                venue="",
                online_link="https://meet.example.org/qp-7",
            ),
        ),
    )
    (page,) = read(render_schedule(plan, DE, filename="x.pdf").content).pages
    text = words(page)
    for fact in (
        "Terminplan",
        "Zeitraum: Mo. 01.03.2027 – Mo. 22.03.2027",
        "Stand: Mi. 02.12.2026",
        "Nr. Datum Uhrzeit Termin Form Ort oder Link Trainer:innen",
        "Mo. 01.03.2027 09:00 – 16:30 Uhr Auftakt Präsenz Schulungszentrum Esslingen Tina Trainer",
        "Di. 02.03.2027 – Fr. 19.03.2027 ganztägig Theoriephase 1 (Videos) Selbstgesteuert",
        "Mo. 22.03.2027 10:00 – 12:00 Uhr Zwischen-Webinar Online https://meet.example.org/qp-7",
        "Seite 1 von 1",
    ):
        assert fact in text, fact
    assert_inside_the_margins(page)


def test_a_long_schedule_breaks_into_pages_with_the_header_on_each():
    plan = CohortSchedule(
        organisation="Muster AG",
        programme=LONG_TITLE,
        cohort="Gruppe mit vielen Terminen",
        trainers=(),
        as_of=date(2026, 12, 2),
        sessions=tuple(
            scheduled(
                LONG_TITLE,
                date(2027, 1, 1 + n % 28),
                online_link="https://meet.example.org/" + "x" * 300,
            )
            for n in range(40)
        ),
    )
    pages = read(render_schedule(plan, DE, filename="x.pdf").content).pages
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        text = words(page)
        assert "Nr. Datum Uhrzeit Termin Form Ort oder Link Trainer:innen" in text
        assert f"Seite {number} von {len(pages)}" in text
        assert_inside_the_margins(page)


# --- The attendance report ---------------------------------------------------

MARKS = (
    ReportMark(Mark.PRESENT),
    ReportMark(Mark.DONE),
    ReportMark(Mark.PARTLY, 30),
    ReportMark(Mark.ABSENT, made_up=date(2027, 5, 3)),
    ReportMark(Mark.EXCUSED),
    ReportMark(Mark.NOT_RECORDED),
    ReportMark(Mark.NOT_EXPECTED),
)
TITLES = (
    "Auftakt",
    "Theoriephase 1",
    "Zwischen-Webinar",
    "Theoriephase 2",
    "Übungstag",
    "Checkpoint 1",
    "Checkpoint 2",
)


def report(count: int, session_count: int = 7, **changes) -> AttendanceReport:
    fields = dict(
        organisation="Muster AG",
        programme="Lernbegleitung blended",
        cohort="Blended Esslingen",
        trainers=("Tina Trainer",),
        as_of=date(2027, 6, 1),
        sessions=tuple(
            ReportSession(
                TITLES[n % 7], date(2027, 3, 1 + n), date(2027, 3, 1 + n), present=5, expected=6
            )
            for n in range(session_count)
        ),
        people=tuple(
            ReportPerson(
                first_name=f"Vorname{n:02d}",
                last_name=f"Nachname{n:02d}",
                department="Produktion",
                site="Esslingen",
                marks=tuple(MARKS[m % 7] for m in range(session_count)),
                eligible=n % 2 == 1,
                reasons=()
                if n % 2 == 1
                else (
                    msg(
                        "missing: {element} ({why})",
                        element="Übungstag",
                        why=msg("absent on {day}", day=date(2027, 3, 5)),
                    ),
                ),
                teaching_units=14.5,
            )
            for n in range(1, count + 1)
        ),
        teaching_units=40.0,
    )
    return AttendanceReport(**(fields | changes))


def test_the_report_is_a4_landscape_with_marks_outcomes_and_totals():
    pages = read(render_report_pdf(report(3), DE, filename="x.pdf").content).pages
    (page,) = pages
    assert [round(float(v), 2) for v in page.mediabox.upper_right] == [A4[1], A4[0]]
    text = words(page)
    for fact in (
        "Anwesenheitsbericht",
        "Gruppe: Blended Esslingen",
        "Mo. 01.03.2027 Auftakt",
        "Nachname01, Vorname01 Produktion anwesend erledigt teilweise, 30 Min. verpasst "
        "nachgeholt am 03.05.2027 entschuldigt offen nicht erwartet 14,5 berechtigt",
        "fehlt: Übungstag (abwesend am Fr. 05.03.2027)",
        "Anwesend oder erledigt 5 von 6",
        "40 2 von 3 erfüllen die Regel bisher",
        "Stand: Di. 01.06.2027",
        "Seite 1 von 1",
    ):
        assert fact in text, fact
    assert_inside_the_margins(page)


def test_a_large_cohort_breaks_into_pages_with_the_header_row_on_each():
    pages = read(render_report_pdf(report(60), DE, filename="x.pdf").content).pages
    assert len(pages) >= 3
    seen = []
    for number, page in enumerate(pages, start=1):
        text = words(page)
        assert "Nr. Name Abteilung" in text
        assert "Mo. 01.03.2027 Auftakt" in text
        assert f"Seite {number} von {len(pages)}" in text
        seen += re.findall(r"Nachname(\d\d),", text)
        assert_inside_the_margins(page)
    assert seen == [f"{n:02d}" for n in range(1, 61)]
    assert "Anwesend oder erledigt" in words(pages[-1])


def test_many_sessions_print_symbols_with_a_legend():
    (page,) = read(
        render_report_pdf(report(2, session_count=14), DE, filename="x.pdf").content
    ).pages
    text = words(page)
    assert "✓ anwesend · ◐ teilweise · E entschuldigt · ✗ abwesend · · offen" in text
    assert "↻ nachgeholt" in text
    # Numbered columns, their titles under the table.
    assert "1. 01.03 2. 02.03" in text
    assert "1. Mo. 01.03.2027 Auftakt · 2. Di. 02.03.2027 Theoriephase 1" in text
    assert "Anwesend oder erledigt 5/6 5/6" in text
    assert_inside_the_margins(page)


def test_the_longest_names_and_reasons_stay_inside_the_landscape_page():
    wide = report(
        2,
        cohort="W" * 200,
        programme=LONG_TITLE,
        sessions=tuple(
            ReportSession(LONG_TITLE, date(2027, 3, 1), date(2027, 3, 26), 1, 2) for _ in range(7)
        ),
    )
    wide = AttendanceReport(
        **{
            **wide.__dict__,
            "people": tuple(
                ReportPerson(
                    LONGEST,
                    LONGEST,
                    "W" * 200,
                    "W" * 200,
                    MARKS,
                    False,
                    tuple(
                        msg("missing: {element} ({why})", element=LONG_TITLE, why=msg("absent"))
                        for _ in range(5)
                    ),
                    0.0,
                )
                for _ in range(2)
            ),
        }
    )
    for language in ("de", "en"):
        rendered = render_report_pdf(wide, Translator(language), filename="x.pdf")
        for page in read(rendered.content).pages:
            assert_inside_the_margins(page)


def test_the_xlsx_has_one_sheet_a_frozen_header_and_typed_cells():
    dangerous = ReportPerson(
        first_name='=HYPERLINK("http://evil.example","click")',
        last_name="+49 711 1234",
        department="@SUM(A1:A9)",
        site="-1",
        marks=MARKS,
        eligible=False,
        reasons=(msg("missing: {element} ({why})", element="=Übungstag", why=msg("absent")),),
        teaching_units=7.25,
    )
    data = report(2)
    data = AttendanceReport(**{**data.__dict__, "people": (*data.people, dangerous)})
    rendered = render_report_xlsx(data, DE, filename="Anwesenheitsbericht.xlsx")
    assert rendered.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(rendered.content))
    assert len(book.worksheets) == 1
    sheet = book.worksheets[0]
    assert sheet.title == "Anwesenheit"
    assert sheet.freeze_panes == "E3"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Nachname", "Vorname", "Abteilung", "Standort", "Auftakt")
    assert rows[0][-3:] == ("Unterrichtseinheiten", "Zertifikat", "Was noch fehlt")
    assert rows[1][0] == "Datum"
    assert rows[1][4:11] == tuple(datetime(2027, 3, 1 + n) for n in range(7))
    assert sheet.cell(2, 5).number_format == "DD.MM.YYYY"
    assert rows[2][:4] == ("Nachname01", "Vorname01", "Produktion", "Esslingen")
    assert rows[2][4:11] == (
        "anwesend",
        "erledigt",
        "teilweise, 30 Min. verpasst",
        "abwesend, nachgeholt am 03.05.2027",
        "entschuldigt",
        "offen",
        "nicht erwartet",
    )
    assert rows[2][11:] == (14.5, "berechtigt", None)
    assert rows[3][12:] == ("noch nicht", "fehlt: Übungstag (abwesend am Fr. 05.03.2027)")
    # A value that starts like a formula is text, shown as it was typed.
    evil = rows[4]
    assert evil[:4] == (
        "'+49 711 1234",
        '\'=HYPERLINK("http://evil.example","click")',
        "'@SUM(A1:A9)",
        "'-1",
    )
    assert evil[11] == 7.25
    assert evil[13] == "fehlt: =Übungstag (abwesend)"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    totals = [r for r in rows if r and r[0] in ("Anwesend oder erledigt", "Erwartet")]
    assert [r[4:11] for r in totals] == [(5,) * 7, (6,) * 7]


def test_long_session_titles_number_the_columns_rather_than_break_their_words():
    # The blended standard's titles: "Rollenverständnis" would not fit a
    # seventh of the width between the people's columns.
    long_titles = report(
        2,
        sessions=tuple(
            ReportSession(
                "Kickoff: Kennenlernen und Rollenverständnis",
                date(2027, 3, 1 + n),
                date(2027, 3, 1 + n),
                5,
                6,
            )
            for n in range(7)
        ),
    )
    (page,) = read(render_report_pdf(long_titles, DE, filename="x.pdf").content).pages
    text = words(page)
    assert "1. 01.03 2. 02.03" in text
    assert "1. Mo. 01.03.2027 Kickoff: Kennenlernen und Rollenverständnis" in text
    assert "Rollenverstän " not in text
    assert_inside_the_margins(page)


def test_what_is_missing_for_the_certificate_is_printed_whole():
    why = msg(
        "missing: {element} ({why})",
        element="Checkpoint 1: Reflexion der Begleitpraxis, Checkpoint 2: Abschluss und Ausblick",
        why=msg("absent on {day}", day=date(2027, 3, 5)),
    )
    person = ReportPerson(
        "Erika", "Mustermann", "Qualitätssicherung", "Esslingen", MARKS, False, (why,) * 4, 3.0
    )
    data = report(1, people=(person,))
    (page,) = read(render_report_pdf(data, DE, filename="x.pdf").content).pages
    text = words(page)
    assert text.count("Abschluss und Ausblick (abwesend am Fr. 05.03.2027)") == 4
    assert "Qualitätssicherung" in text
    assert "…" not in text
    assert_inside_the_margins(page)


def test_whole_teaching_units_read_as_whole_numbers_in_the_xlsx():
    data = report(1, teaching_units=20.0)
    whole = ReportPerson("Jörg", "Yılmaz", "IT", "Ulm", MARKS, True, (), 20.0)
    data = AttendanceReport(**{**data.__dict__, "people": (whole,)})
    rendered = render_report_xlsx(data, DE, filename="x.xlsx")
    sheet = load_workbook(io.BytesIO(rendered.content)).worksheets[0]
    cell = sheet.cell(3, 12)
    assert (cell.value, cell.number_format) == (20, "0")
