"""The sign-in sheet of one session (Teilnahmeliste): who is enrolled, in
alphabetical order, each with a box to sign in, empty rows for people who
come without being on the list, and the trainers' signature at the foot of
every page. A4 portrait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from reportlab.lib.units import mm

from app.exports import Rendered
from app.exports.pdf_pages import (
    Column,
    Document,
    Table,
    clock,
    listed_name,
    long_day,
    render_document,
)
from app.i18n import Translator

# At least this many empty rows; the rest of the last page is filled with them.
WALK_IN_ROWS = 4
# Room to sign by hand: a signature is about 8 mm high.
SIGNATURE_ROW = 11 * mm


@dataclass(frozen=True)
class SignInPerson:
    first_name: str
    last_name: str
    department: str
    site: str


@dataclass(frozen=True)
class SignInSheet:
    """Everything the sheet says, in the order it is printed."""

    organisation: str
    programme: str
    cohort: str
    session: str
    day: date
    starts: time
    ends: time
    mode: str  # as people read it: "Präsenz", "Online"
    venue: str
    online_link: str
    trainers: tuple[str, ...]
    people: tuple[SignInPerson, ...]  # in the order they are printed


def sign_in_document(sheet: SignInSheet, tr: Translator) -> Document:
    facts = [
        (tr.gettext("Programme"), sheet.programme),
        (tr.gettext("Cohort"), sheet.cohort),
        (tr.gettext("Session"), sheet.session),
        (
            tr.gettext("Date and time"),
            f"{long_day(sheet.day, tr)}, {clock(sheet.starts, sheet.ends, tr)} · {sheet.mode}",
        ),
    ]
    if sheet.venue:
        facts.append((tr.gettext("Venue"), sheet.venue))
    if sheet.online_link:
        facts.append((tr.gettext("Online meeting"), sheet.online_link))
    facts.append((tr.gettext("Trainers"), ", ".join(sheet.trainers) or "–"))
    rows = tuple(
        (
            str(number),
            listed_name(person.first_name, person.last_name),
            person.department,
            person.site,
            "",
        )
        for number, person in enumerate(sheet.people, start=1)
    )
    table = Table(
        columns=(
            Column(tr.gettext("No."), 9, align="right"),
            Column(tr.gettext("Name"), 55),
            Column(tr.gettext("Department"), 38),
            Column(tr.gettext("Site"), 30),
            Column(tr.gettext("Signature"), 48),
        ),
        rows=rows,
        row_height=SIGNATURE_ROW,
        blank_rows=WALK_IN_ROWS,
    )
    return Document(
        title=tr.gettext("Sign-in sheet"),
        facts=tuple(facts),
        table=table,
        footer=" · ".join((sheet.organisation, sheet.cohort, sheet.session, tr.date(sheet.day))),
        signatures=(
            tr.gettext("Number of people present"),
            tr.gettext("Date, trainer's signature"),
        ),
        notes=(
            tr.gettext(
                "People who are not on the list write their name, department and site "
                "in an empty row."
            ),
        ),
        pdf_title=f"{tr.gettext('Sign-in sheet')} {sheet.session} – {sheet.cohort}",
        pdf_author=sheet.organisation,
        pdf_subject=sheet.programme,
    )


def render_sign_in_sheet(sheet: SignInSheet, tr: Translator, *, filename: str) -> Rendered:
    return render_document(sign_in_document(sheet, tr), tr, filename=filename)
