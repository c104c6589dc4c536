"""Participants from an HR export (CSV or XLSX).

Reading a file, proposing which column is which field, checking every row,
and importing. A file with any problem is rejected whole, each problem named
by row and column; a good file is imported in one transaction; importing the
same file again changes nothing (people are matched by e-mail address).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zipfile import BadZipFile

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    User,
)
from app.services import policy
from app.services.enrolments import enrol, warnings
from app.services.errors import InvalidInput
from app.services.participants import PERSON_FIELDS, add_participant, update_participant
from app.services.policy import Action, Actor
from app.services.text import NOT_ONE_LINE, line_problem
from curricula.messages import Message, msg

# The fields of a participant, in export order, with the headers HR exports use.
FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "first name", "vorname", "given name"),
    "last_name": ("last_name", "last name", "nachname", "name", "surname", "familienname"),
    "email": ("email", "e-mail", "e-mail-adresse", "mail", "email address", "e-mail address"),
    "department": ("department", "abteilung", "bereich"),
    "site": ("site", "standort", "location", "werk"),
    "manager_name": ("manager_name", "manager", "führungskraft", "vorgesetzte", "vorgesetzter"),
    "manager_email": (
        "manager_email",
        "manager e-mail",
        "manager email",
        "e-mail führungskraft",
        "führungskraft e-mail",
        "e-mail vorgesetzte",
    ),
    "cohort": ("cohort", "gruppe", "kohorte", "durchgang"),
}
REQUIRED = ("first_name", "last_name", "email")
FIELD_NAMES: dict[str, Message] = {
    "first_name": msg("first name"),
    "last_name": msg("last name"),
    "email": msg("e-mail address"),
    "department": msg("department"),
    "site": msg("site"),
    "manager_name": msg("manager"),
    "manager_email": msg("manager's e-mail address"),
    "cohort": msg("cohort"),
}
MAX_ROWS = 5000


class ImportRejected(InvalidInput):
    """The file cannot be read at all (not CSV/XLSX, empty, too large)."""

    code = "unreadable_file"


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # data rows; file row = index + 2


@dataclass(frozen=True)
class Problem:
    row: int  # as the user sees it in the file (the header is row 1)
    column: str  # the column's header in the file
    message: Message
    # A warning that "enrol all the same" passes (see enrolments.WARNINGS).
    warning: str | None = None


@dataclass
class Row:
    number: int
    values: dict[str, str]


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    enrolled: int = 0
    problems: list[Problem] = field(default_factory=list)


def read_table(filename: str, data: bytes) -> Table:
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(data)
    else:
        raise ImportRejected(
            msg("'{name}' is neither a CSV nor an XLSX file", name=filename or "?")
        )
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ImportRejected(msg("the file is empty"))
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRejected(msg("the file has more than {count} rows", count=MAX_ROWS))
    headers = tuple(cell.strip() for cell in rows[0])
    width = len(headers)
    body = tuple(tuple((list(r) + [""] * width)[:width]) for r in rows[1:])
    return Table(headers, body)


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in Germany saves CSV as Windows-1252 by default.
        text = data.decode("cp1252", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    # Universal newlines: old Mac exports end lines with a bare CR.
    reader = csv.reader(io.StringIO(text, newline=None), dialect)
    try:
        return [list(row) for row in reader]
    except csv.Error:
        raise ImportRejected(
            msg("line {line} of the file is not readable as CSV", line=reader.line_num)
        ) from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise ImportRejected(msg("the file is not a readable XLSX workbook")) from None
    try:
        sheet = workbook.worksheets[0]
        return [
            ["" if value is None else str(value).strip() for value in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()


def _normalise(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower())


def propose_mapping(headers: Sequence[str]) -> dict[str, int | None]:
    """For each field the column that most likely holds it (None: not in the file)."""
    normalised = [_normalise(h) for h in headers]
    mapping: dict[str, int | None] = {}
    taken: set[int] = set()
    for name, aliases in FIELDS.items():
        wanted = {_normalise(a) for a in aliases}
        found = next((i for i, h in enumerate(normalised) if h in wanted and i not in taken), None)
        mapping[name] = found
        if found is not None:
            taken.add(found)
    return mapping


def check(
    table: Table,
    mapping: Mapping[str, int | None],
    organisation: Organisation,
    *,
    acknowledge: bool = False,
) -> tuple[list[Row], list[Problem]]:
    """Every row as field values, and every problem of the file. A person who
    holds a certificate for a row's cohort's curriculum, or is enrolled in
    another open cohort of it, is a problem too unless `acknowledge` (the
    same warnings as enrolling one person on their page)."""
    problems: list[Problem] = []
    for required in REQUIRED:
        if mapping.get(required) is None:
            problems.append(
                Problem(
                    1,
                    "",
                    msg(
                        "no column is chosen for the required field {field}",
                        field=FIELD_NAMES[required],
                    ),
                )
            )
    if problems:
        return [], problems

    def header(name: str) -> str:
        index = mapping[name]
        return table.headers[index] if index is not None else name

    cohorts = {
        c.name.strip().lower(): c
        for c in db.session.scalars(
            select(Cohort).where(Cohort.organisation_id == organisation.id)
        )
    }
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(table.rows):
        number = index + 2
        values = {
            name: (raw[column].strip() if column is not None else "")
            for name, column in mapping.items()
        }
        for name, value in values.items():
            if name in PERSON_FIELDS and line_problem(value):
                problems.append(Problem(number, header(name), NOT_ONE_LINE))
        for required in ("first_name", "last_name"):
            if not values[required]:
                problems.append(Problem(number, header(required), msg("is empty")))
        email = values["email"]
        if not email:
            problems.append(Problem(number, header("email"), msg("is empty")))
        else:
            checked = _email(email)
            if checked is None:
                problems.append(
                    Problem(
                        number,
                        header("email"),
                        msg("'{value}' is not an e-mail address", value=email),
                    )
                )
            else:
                values["email"] = checked
                if values["email"] in seen:
                    problems.append(
                        Problem(
                            number,
                            header("email"),
                            msg(
                                "{value} is in row {row} already",
                                value=email,
                                row=seen[values["email"]],
                            ),
                        )
                    )
                seen.setdefault(values["email"], number)
        manager = values.get("manager_email", "")
        if manager:
            checked = _email(manager)
            if checked is None:
                problems.append(
                    Problem(
                        number,
                        header("manager_email"),
                        msg("'{value}' is not an e-mail address", value=manager),
                    )
                )
            else:
                values["manager_email"] = checked
        cohort_name = values.get("cohort", "")
        if cohort_name:
            cohort = cohorts.get(cohort_name.lower())
            if cohort is None:
                problems.append(
                    Problem(
                        number,
                        header("cohort"),
                        msg("there is no cohort '{name}' in this organisation", name=cohort_name),
                    )
                )
            elif cohort.state in (CohortState.COMPLETED, CohortState.CANCELLED):
                problems.append(
                    Problem(
                        number,
                        header("cohort"),
                        msg("the cohort '{name}' is closed", name=cohort.name),
                    )
                )
        for name, limit in (
            ("first_name", 100),
            ("last_name", 100),
            ("department", 200),
            ("site", 200),
            ("manager_name", 200),
        ):
            if len(values.get(name, "")) > limit:
                problems.append(
                    Problem(
                        number, header(name), msg("is longer than {count} characters", count=limit)
                    )
                )
        rows.append(Row(number, values))
    problems.extend(_capacity_problems(rows, cohorts, organisation, header("cohort")))
    if not acknowledge:
        problems.extend(_warnings(rows, cohorts, organisation, header("cohort")))
    return rows, problems


def _warnings(
    rows: list[Row], cohorts: Mapping[str, Cohort], organisation: Organisation, column: str
) -> list[Problem]:
    wanted = [
        (row, cohorts[row.values.get("cohort", "").lower()])
        for row in rows
        if row.values.get("cohort", "").lower() in cohorts
    ]
    if not wanted:
        return []
    people = {
        p.email.lower(): p
        for p in db.session.scalars(
            select(Participant).where(
                Participant.organisation_id == organisation.id,
                func.lower(Participant.email).in_([row.values["email"] for row, _ in wanted]),
            )
        )
    }
    problems = []
    for row, cohort in wanted:
        person = people.get(row.values["email"])
        # Enrolled there before (also withdrawn): the import leaves it alone.
        if person is None or any(e.cohort_id == cohort.id for e in person.enrolments):
            continue
        problems.extend(
            Problem(row.number, column, w.message, w.code) for w in warnings(cohort, person)
        )
    return problems


def _email(text: str) -> str | None:
    """The address in its normal form (lower case), or None when it is none or
    has letters before the @ that many mail servers refuse (ä, ö, ü, ß)."""
    try:
        return validate_email(
            text, check_deliverability=False, allow_smtputf8=False
        ).normalized.lower()
    except EmailNotValidError:
        return None


def _capacity_problems(
    rows: list[Row], cohorts: Mapping[str, Cohort], organisation: Organisation, column: str
) -> list[Problem]:
    problems = []
    wanted: dict[int, list[Row]] = {}
    for row in rows:
        cohort = cohorts.get(row.values.get("cohort", "").lower())
        if cohort is not None and cohort.capacity:
            wanted.setdefault(cohort.id, []).append(row)
    for cohort_id, cohort_rows in wanted.items():
        cohort = db.session.get(Cohort, cohort_id)
        assert cohort is not None  # noqa: S101 -- loaded above
        enrolled_emails = set(
            db.session.scalars(
                select(func.lower(Participant.email))
                .join(Enrolment, Enrolment.participant_id == Participant.id)
                .where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED
                )
            )
        )
        newcomers = [r for r in cohort_rows if r.values["email"] not in enrolled_emails]
        free = cohort.capacity - len(enrolled_emails) if cohort.capacity else len(newcomers)
        for row in newcomers[max(free, 0) :]:
            problems.append(
                Problem(
                    row.number,
                    column,
                    msg(
                        "the cohort '{name}' is full ({capacity} places)",
                        name=cohort.name,
                        capacity=cohort.capacity,
                    ),
                )
            )
    return problems


def import_participants(actor: Actor, organisation_id: int, rows: list[Row]) -> Summary:
    """Import checked rows (see `check`) into the organisation, all or none:
    a cohort that filled up since the check refuses the whole file."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.KEEP_PEOPLE, organisation.id)
    return import_rows(rows, organisation, actor.user)


def import_rows(rows: list[Row], organisation: Organisation, actor: User | None) -> Summary:
    """Create or update each person and enrol them (the step of
    `import_participants`, without its permission check)."""
    summary = Summary()
    existing = {
        p.email.lower(): p
        for p in db.session.scalars(
            select(Participant).where(Participant.organisation_id == organisation.id)
        )
    }
    cohorts = {
        c.name.strip().lower(): c
        for c in db.session.scalars(
            select(Cohort).where(Cohort.organisation_id == organisation.id)
        )
    }
    for row in rows:
        values = {name: row.values.get(name, "") for name in PERSON_FIELDS}
        person = existing.get(values["email"])
        if person is None:
            person = add_participant(organisation, values, actor)
            existing[values["email"]] = person
            summary.created += 1
        elif update_participant(person, values, actor, keep_blank=True):
            summary.updated += 1
        else:
            summary.unchanged += 1
        cohort = cohorts.get(row.values.get("cohort", "").lower())
        if cohort is not None and not any(e.cohort_id == cohort.id for e in person.enrolments):
            enrol(cohort, person, actor)
            summary.enrolled += 1
    return summary
