"""A cohort's attendance report: per person the mark of every session, the
teaching units credited and whether the certificate rule is met (with what
is missing); per session how many of those expected were there.

As PDF (A4 landscape) to file or sign, and as XLSX to work with: one
sheet, the header rows frozen, dates as dates and numbers as numbers, and
every text a text, never a formula.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from babel.numbers import format_decimal
from reportlab.lib.units import mm

from app.exports import Rendered
from app.exports.certificate_pdf import BOLD
from app.exports.participants import XLSX_MIMETYPE, safe_cell
from app.exports.pdf_pages import (
    HEADER_CELL,
    PADDING,
    Column,
    Document,
    Table,
    days,
    listed_name,
    render_document,
    short_day,
    text_width,
)
from app.i18n import Translator
from app.marks import SYMBOLS, mark_words
from cohorts.eligibility import Mark
from curricula.messages import Message

# With more sessions than this the PDF's cells hold symbols, explained
# under the table: words would not fit.
WORDS_UP_TO = 8
XLSX_DAY = "DD.MM.YYYY"
MARK_CELL = ((1, 8.0, 7.0), (2, 7.5, 6.5), (4, 6.5, 6.0))
# What is missing for the certificate is never cut on paper: the row grows.
REASONS_CELL = ((2, 8.0, 7.0), (5, 7.0, 6.0), (40, 6.0, 6.0))
# Between the margins of A4 landscape, in millimetres.
INNER = 267.0
# A column of symbols ("✓", "◐ 30") needs no more; the rest goes to the reasons.
SYMBOL_COLUMN = 12.0
SMALLEST = HEADER_CELL[-1][2]


@dataclass(frozen=True)
class ReportSession:
    title: str
    first_day: date
    last_day: date
    present: int  # present, partly present or done
    expected: int  # enrolled by its first day


@dataclass(frozen=True)
class ReportMark:
    mark: Mark
    minutes_missed: int = 0
    made_up: date | None = None  # the element attended in another cohort


@dataclass(frozen=True)
class ReportPerson:
    first_name: str
    last_name: str
    department: str
    site: str
    marks: tuple[ReportMark, ...]  # one per session, in the sessions' order
    eligible: bool
    reasons: tuple[Message, ...]  # what is missing; empty when eligible
    teaching_units: float  # credited, in the curriculum's units


@dataclass(frozen=True)
class AttendanceReport:
    organisation: str
    programme: str
    cohort: str
    trainers: tuple[str, ...]
    as_of: date
    sessions: tuple[ReportSession, ...]
    people: tuple[ReportPerson, ...]  # in the order they are printed
    teaching_units: float  # of the elements that count for the certificate
    unit_minutes: int = 45  # how long one unit lasts


def mark_text(mark: ReportMark, tr: Translator, *, short: bool = False, full: bool = False) -> str:
    """A mark as the report prints it: a symbol (`short`), words, or words
    with the mark of an element made up elsewhere (`full`, for the XLSX);
    on paper a made-up element just says when it was made up."""
    if short:
        return SYMBOLS[mark.mark] + (" ↻" if mark.made_up is not None else "")
    made_up = ""
    if mark.made_up is not None:
        made_up = tr.gettext("made up on %(day)s", day=short_day(mark.made_up, tr))
        if not full:
            return made_up
    text = mark_words(tr)[mark.mark]
    if mark.mark is Mark.PARTLY:
        text += ", " + tr.gettext("%(minutes)d min missed", minutes=mark.minutes_missed)
    return f"{text}, {made_up}" if made_up else text


def outcome(person: ReportPerson, tr: Translator) -> str:
    if person.eligible:
        return tr.gettext("eligible")
    return "; ".join(tr.localize(reason) for reason in person.reasons)


def units(value: float, tr: Translator) -> str:
    return format_decimal(round(value, 2), locale=tr.language)


def session_heading(session: ReportSession, tr: Translator) -> str:
    """The date first: a long title may be cut, the date never."""
    return f"{days(session.first_day, session.last_day, tr)} {session.title}"


def numbered_heading(number: int, session: ReportSession) -> str:
    """Where many sessions leave no room for titles: its number and day;
    the titles follow under the table."""
    return f"{number}. {session.first_day:%d.%m}"


# --- PDF ---------------------------------------------------------------------


def _words_fit(text: str, width: float) -> bool:
    """Whether each word of a heading (each part of a hyphenated one) fits
    a column `width` mm wide at the smallest size headings take, so that
    none is broken between letters."""
    room = width * mm - 2 * PADDING
    words = (part for word in text.split() for part in re.split(r"(?<=-)", word) if part)
    return all(text_width(word, BOLD, SMALLEST) <= room for word in words)


def report_document(report: AttendanceReport, tr: Translator) -> Document:
    # Widths in millimetres of the 267 mm between the margins: what is left
    # after the people's columns goes to the sessions.
    reasons = 38.0
    fixed = 9 + 37 + 26 + 19 + reasons
    count = max(1, len(report.sessions))
    width = max(7.0, (INNER - fixed) / count)
    # Numbered columns with symbols where there are many sessions, or a
    # title has a word too long for its column (they follow the table).
    short = len(report.sessions) > WORDS_UP_TO or not all(
        _words_fit(session_heading(s, tr), width) for s in report.sessions
    )
    if short and width > SYMBOL_COLUMN:
        reasons += (width - SYMBOL_COLUMN) * count
        width = SYMBOL_COLUMN
    columns = (
        Column(tr.gettext("No."), 9, align="right"),
        Column(tr.gettext("Name"), 37),
        Column(tr.gettext("Department"), 26),
        *(
            Column(
                numbered_heading(number, s) if short else session_heading(s, tr),
                width,
                align="centre" if short else "left",
                stages=MARK_CELL,
            )
            for number, s in enumerate(report.sessions, start=1)
        ),
        Column(tr.gettext("Units credited"), 19, align="right"),
        Column(tr.gettext("Certificate"), reasons, stages=REASONS_CELL),
    )
    rows = tuple(
        (
            str(number),
            listed_name(p.first_name, p.last_name),
            p.department,
            *(mark_text(m, tr, short=short) for m in p.marks),
            units(p.teaching_units, tr),
            outcome(p, tr),
        )
        for number, p in enumerate(report.people, start=1)
    )
    eligible = sum(1 for p in report.people if p.eligible)
    closing = (
        (
            "",
            tr.gettext("Present or done"),
            "",
            *(
                f"{s.present}/{s.expected}"
                if short
                else tr.gettext(
                    "%(present)d of %(expected)d", present=s.present, expected=s.expected
                )
                for s in report.sessions
            ),
            units(report.teaching_units, tr),
            tr.gettext(
                "%(eligible)d of %(people)d meet the rule so far",
                eligible=eligible,
                people=len(report.people),
            ),
        ),
    )
    notes = [
        tr.gettext(
            "As of %(day)s. Teaching units of %(minutes)d minutes: credited of %(total)s; "
            "a session attended partly counts for the share attended.",
            day=tr.date(report.as_of),
            minutes=report.unit_minutes,
            total=units(report.teaching_units, tr),
        )
    ]
    if short:
        words = mark_words(tr)
        legend = [
            f"{SYMBOLS[m]} {words[m]}"
            for m in (Mark.PRESENT, Mark.PARTLY, Mark.EXCUSED, Mark.ABSENT, Mark.NOT_RECORDED)
        ]
        legend += [
            f"{SYMBOLS[Mark.NOT_EXPECTED]} {words[Mark.NOT_EXPECTED]}",
            "↻ " + tr.gettext("made up"),
        ]
        notes.append(" · ".join(legend))
        notes.append(
            " · ".join(
                f"{number}. {session_heading(s, tr)}"
                for number, s in enumerate(report.sessions, start=1)
            )
        )
    return Document(
        title=tr.gettext("Attendance report"),
        facts=(
            (tr.gettext("Programme"), report.programme),
            (tr.gettext("Cohort"), report.cohort),
            (tr.gettext("Trainers"), ", ".join(report.trainers) or "–"),
        ),
        table=Table(
            columns=columns,
            rows=rows,
            row_height=0,
            closing_rows=closing,
            empty_text=tr.gettext("Nobody is enrolled yet."),
            striped=True,
        ),
        footer=" · ".join(
            (
                report.organisation,
                report.cohort,
                tr.gettext("As of %(day)s", day=tr.date(report.as_of)),
            )
        ),
        notes=tuple(notes),
        orientation="landscape",
        pdf_title=f"{tr.gettext('Attendance report')} {report.cohort}",
        pdf_author=report.organisation,
        pdf_subject=report.programme,
    )


def render_report_pdf(report: AttendanceReport, tr: Translator, *, filename: str) -> Rendered:
    return render_document(report_document(report, tr), tr, filename=filename)


# --- XLSX --------------------------------------------------------------------


def render_report_xlsx(report: AttendanceReport, tr: Translator, *, filename: str) -> Rendered:
    """One sheet: a header row with the sessions' titles and one with their
    dates (as dates), both frozen with the names; a row per person; the
    totals per session at the end."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=tr.gettext("Attendance")[:31])
    book.properties.title = f"{tr.gettext('Attendance report')} {report.cohort}"
    book.properties.creator = "Qualiplan"
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")

    def text(value: str, *, strong: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        cell.data_type = "s"  # never "f", whatever the text starts with
        if strong:
            cell.font = bold
            cell.alignment = wrapped
        return cell

    def day(value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DAY
        cell.font = bold
        return cell

    def number(value: float | int) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        # 20 teaching units read "20", not "20,0"; 14.5 reads "14,5".
        if isinstance(value, float) and value.is_integer():
            cell.value = int(value)
        cell.number_format = "0" if isinstance(cell.value, int) else "0.0#"
        return cell

    names = (
        tr.gettext("Last name"),
        tr.gettext("First name"),
        tr.gettext("Department"),
        tr.gettext("Site"),
    )
    first_session = len(names) + 1
    widths = [22, 18, 20, 16, *(18 for _ in report.sessions), 14, 18, 60]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"{get_column_letter(first_session)}3"

    sheet.append(
        [
            *(text(n, strong=True) for n in names),
            *(text(s.title, strong=True) for s in report.sessions),
            text(tr.gettext("Teaching units"), strong=True),
            text(tr.gettext("Certificate"), strong=True),
            text(tr.gettext("What is missing"), strong=True),
        ]
    )
    sheet.append(
        [
            text(tr.gettext("Date"), strong=True),
            *(None for _ in names[1:]),
            *(day(s.first_day) for s in report.sessions),
        ]
    )
    for person in report.people:
        sheet.append(
            [
                text(person.last_name),
                text(person.first_name),
                text(person.department),
                text(person.site),
                *(text(mark_text(m, tr, full=True)) for m in person.marks),
                number(round(person.teaching_units, 2)),
                text(tr.gettext("eligible") if person.eligible else tr.gettext("not yet")),
                text("" if person.eligible else outcome(person, tr)),
            ]
        )
    sheet.append([])
    for label, counts in (
        (tr.gettext("Present or done"), [s.present for s in report.sessions]),
        (tr.gettext("Expected"), [s.expected for s in report.sessions]),
    ):
        sheet.append(
            [
                text(label, strong=True),
                *(None for _ in names[1:]),
                *(number(count) for count in counts),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return Rendered(filename, XLSX_MIMETYPE, out.getvalue())
