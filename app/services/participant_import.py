"""Participants from an HR export (CSV or XLSX).

Reading a file (`spreadsheets`), finding its header row, proposing which
column is which field, checking every row, and importing. A file with any
problem is rejected whole, each problem named by the file's own row number
and the column; a good file is imported in one transaction; importing the
same file again changes nothing. People are matched by employee number when
the file and the person have one (e-mail addresses change), else by e-mail
address. A person may stand in several rows, one per cohort, as the
participants export writes them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert, select

from app.extensions import db
from app.models import (
    Change,
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    User,
)
from app.services import announcements, policy, waiting_lists
from app.services.enrolments import EnrolmentError, warnings
from app.services.participants import PERSON_FIELDS, add_participants, update_participant
from app.services.policy import Action, Actor
from app.services.spreadsheets import ImportRejected, MergedCells, read_sheet
from app.services.text import NOT_ONE_LINE, line_problem, one_line
from curricula.messages import Message, msg

__all__ = ["ImportRejected"]  # the views catch it from here

# The fields of a participant, in export order, with the headers HR exports
# use; compared after `normalise` (case, punctuation, gendered endings).
FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "first name", "firstname", "vorname", "given name", "forename"),
    "last_name": (
        "last_name",
        "last name",
        "lastname",
        "nachname",
        "name",
        "surname",
        "familienname",
        "family name",
    ),
    "email": (
        "email",
        "e-mail",
        "e-mail-adresse",
        "emailadresse",
        "mail",
        "email address",
        "e-mail address",
        "e-mail geschäftlich",
        "business e-mail",
        "work e-mail",
    ),
    "department": (
        "department",
        "abteilung",
        "bereich",
        "organisationseinheit",
        "org unit",
        "organisational unit",
        "organizational unit",
        "team",
    ),
    "site": (
        "site",
        "standort",
        "location",
        "werk",
        "office",
        "niederlassung",
        "arbeitsort",
        "dienstort",
        "betriebsstätte",
    ),
    "manager_name": (
        "manager_name",
        "manager",
        "führungskraft",
        "fuehrungskraft",
        "vorgesetzte",
        "vorgesetzter",
        "fachvorgesetzte",
        "disziplinarische führungskraft",
        "supervisor",
        "line manager",
        "reports to",
    ),
    "manager_email": (
        "manager_email",
        "manager e-mail",
        "e-mail manager",
        "e-mail führungskraft",
        "führungskraft e-mail",
        "e-mail vorgesetzte",
        "vorgesetzte e-mail",
        "e-mail vorgesetzter",
        "vorgesetzter e-mail",
        "supervisor e-mail",
        "line manager e-mail",
    ),
    "employee_number": (
        "employee_number",
        "employee number",
        "employee no",
        "employee id",
        "staff number",
        "staff id",
        "personalnummer",
        "personal-nr",
        "personalnr",
        "pers-nr",
        "mitarbeiternummer",
        "mitarbeiter-nr",
        "mitarbeiter-id",
        "ma-nr",
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
    "employee_number": msg("employee number"),
    "cohort": msg("cohort"),
}
LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "department": 200,
    "site": 200,
    "manager_name": 200,
    "employee_number": 50,
}
MAX_ROWS = 5000
# How the previews of a row show an empty cell.
EMPTY_CELL = "–"
# Title rows above the header that the header search looks through (and the
# mapping page offers as the header row).
TITLE_ROWS = 10
# The export puts an apostrophe before a value that a spreadsheet would run
# as a formula (app/exports/participants.safe_cell); the import takes it off.
_PROTECTED = re.compile(r"'+[=+\-@]")
# Gendered endings of German headers: Vorgesetzte/r, Mitarbeiter(in),
# Teilnehmer:innen, Kolleg*innen, Mitarbeiter_in.
_GENDERED = re.compile(r"(?<=\w)(?:/|\(|:|\*|_)-?(?:innen|in|r|n)\)?(?!\w)")


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # data rows, as wide as the header
    numbers: tuple[int, ...] = ()  # the file's row number of each data row
    header_row: int = 1  # the file's row number of the header
    # The first rows of the file, (row number, what they hold), to choose the header from.
    candidates: tuple[tuple[int, str], ...] = ()
    merged: tuple[MergedCells, ...] = ()
    # Data rows with more cells than the header has columns: (row number,
    # the cells beyond the last column, which are not read).
    overlong: tuple[tuple[int, tuple[str, ...]], ...] = ()

    def number(self, index: int) -> int:
        return self.numbers[index] if self.numbers else index + self.header_row + 1


@dataclass(frozen=True)
class Problem:
    row: int  # as the user sees it in the file (its own row or line number)
    column: str  # the column's header in the file
    message: Message
    # A warning that "enrol all the same" passes (see enrolments.WARNINGS).
    warning: str | None = None


@dataclass
class Row:
    number: int
    values: dict[str, str]
    person_id: int | None = None  # the person in the organisation the row is about


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    enrolled: int = 0
    problems: list[Problem] = field(default_factory=list)


def read_table(filename: str, data: bytes, header_row: int | None = None) -> Table:
    """The file as a table below its header row: `header_row` when it is one
    of the first rows, else the first row that names every required field,
    else the first row."""
    sheet = read_sheet(filename, data, row_limit=MAX_ROWS, title_rows=TITLE_ROWS)
    if not sheet.rows:
        raise ImportRejected(msg("the file is empty"))
    first = sheet.rows[: TITLE_ROWS + 1]
    numbers = [number for number, _ in first]
    if header_row in numbers:
        index = numbers.index(header_row)
    else:
        index = next((i for i, (_, cells) in enumerate(first) if _names_required(cells)), 0)
    number, cells = sheet.rows[index]
    body = sheet.rows[index + 1 :]
    if len(body) > MAX_ROWS:
        raise ImportRejected(msg("the file has more than {count} rows", count=MAX_ROWS))
    headers = tuple(cell.strip() for cell in cells)
    width = len(headers)
    return Table(
        headers=headers,
        rows=tuple(tuple((list(r) + [""] * width)[:width]) for _, r in body),
        numbers=tuple(n for n, _ in body),
        header_row=number,
        candidates=tuple((n, _preview(c)) for n, c in first),
        merged=sheet.merged,
        overlong=tuple((n, tuple(r[width:])) for n, r in body if len(r) > width),
    )


def _names_required(cells: Sequence[str]) -> bool:
    mapping = propose_mapping(cells)
    return all(mapping[name] is not None for name in REQUIRED)


def _preview(cells: Sequence[str], width: int = 80) -> str:
    """The row's cells side by side, an empty one as a dash, so that each
    value stands in its own column's place."""
    shown = [c.strip() or EMPTY_CELL for c in cells]
    while shown and shown[-1] == EMPTY_CELL:
        shown.pop()
    text = " | ".join(shown)
    return text if len(text) <= width else text[: width - 1] + "…"


def normalise(header: str) -> str:
    """A header as compared with FIELDS: "Vorgesetzte/r" and "vorgesetzte",
    "Personal-Nr." and "personal nr", "E-Mail" and "e mail" are the same."""
    text = unicodedata.normalize("NFKC", header).strip().casefold()
    text = _GENDERED.sub("", text)
    return " ".join(re.sub(r"[^\w@]+|_", " ", text).split())


_ALIASES = {name: {normalise(a) for a in aliases} for name, aliases in FIELDS.items()}


def propose_mapping(headers: Sequence[str]) -> dict[str, int | None]:
    """For each field the column that most likely holds it (None: not in the file)."""
    normalised = [normalise(h) for h in headers]
    mapping: dict[str, int | None] = {}
    taken: set[int] = set()
    for name, wanted in _ALIASES.items():
        found = next((i for i, h in enumerate(normalised) if h in wanted and i not in taken), None)
        mapping[name] = found
        if found is not None:
            taken.add(found)
    return mapping


def unprotected(value: str) -> str:
    """The value without the apostrophe the export puts before =, +, - and @."""
    return value[1:] if _PROTECTED.match(value) else value


class _People:
    """The organisation's people, found by employee number and by e-mail address."""

    def __init__(self, organisation: Organisation) -> None:
        self.all = list(
            db.session.scalars(
                select(Participant).where(Participant.organisation_id == organisation.id)
            )
        )
        self.by_email = {p.email.lower(): p for p in self.all}
        self.by_number = {p.employee_number: p for p in self.all if p.employee_number}

    def match(self, values: Mapping[str, str]) -> Participant | None:
        number = values.get("employee_number", "")
        if number and number in self.by_number:
            return self.by_number[number]
        return self.by_email.get(values["email"])


def _cohorts(organisation: Organisation) -> dict[str, Cohort]:
    return {
        c.name.strip().lower(): c
        for c in db.session.scalars(
            select(Cohort).where(Cohort.organisation_id == organisation.id)
        )
    }


def _enrolled_pairs(organisation: Organisation) -> set[tuple[int, int]]:
    """(cohort, person) of every enrolment in the organisation, also withdrawn ones."""
    rows = db.session.execute(
        select(Enrolment.cohort_id, Enrolment.participant_id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.organisation_id == organisation.id)
    )
    return {(cohort_id, person_id) for cohort_id, person_id in rows}


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
                    table.header_row,
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
        index = mapping.get(name)
        return table.headers[index] if index is not None else name

    problems.extend(_merged_problems(table))
    people = _People(organisation)
    cohorts = _cohorts(organisation)
    enrolled = _enrolled_pairs(organisation)
    rows: list[Row] = []
    first_row: dict[tuple[str, str], Row] = {}  # ("email"/"employee_number", value)
    for index, raw in enumerate(table.rows):
        number = table.number(index)
        typed = {
            name: unprotected(raw[column].strip()) if column is not None else ""
            for name, column in mapping.items()
        }
        values = dict(typed)
        row = Row(number, values)
        for name, value in values.items():
            if name in PERSON_FIELDS and line_problem(value):
                problems.append(Problem(number, header(name), NOT_ONE_LINE))
        for required in ("first_name", "last_name"):
            if not values[required]:
                problems.append(Problem(number, header(required), msg("is empty")))
        for name, limit in LIMITS.items():
            if len(values.get(name, "")) > limit:
                problems.append(
                    Problem(
                        number, header(name), msg("is longer than {count} characters", count=limit)
                    )
                )
        email = values["email"]
        checked = _email(email) if email else None
        if not email:
            problems.append(Problem(number, header("email"), msg("is empty")))
        else:
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
        # The same person again (the export writes a row per cohort) is
        # fine; another person with the same address or number is not.
        for key in ("email", "employee_number"):
            value = values.get(key, "")
            if not value:
                continue
            earlier = first_row.setdefault((key, value), row)
            if earlier is not row and _person(earlier.values) != _person(values):
                problems.append(
                    Problem(
                        number,
                        header(key),
                        msg(
                            "{value} is in row {row} already", value=typed[key], row=earlier.number
                        ),
                    )
                )
        if checked is not None:
            problems.extend(_identity_problems(row, people, header))
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
            elif (
                cohort.state in (CohortState.COMPLETED, CohortState.CANCELLED)
                and (cohort.id, row.person_id) not in enrolled
            ):
                # Someone enrolled there before stays as they are: only a
                # new enrolment in a closed cohort is refused.
                problems.append(
                    Problem(
                        number,
                        header("cohort"),
                        msg("the cohort '{name}' is closed", name=cohort.name),
                    )
                )
        rows.append(row)
    problems.extend(_capacity_problems(rows, cohorts, header("cohort")))
    if not acknowledge:
        problems.extend(_warnings(rows, cohorts, people, enrolled, header("cohort")))
    return rows, problems


def _person(values: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(values.get(name, "") for name in PERSON_FIELDS)


def _identity_problems(row: Row, people: _People, header: Callable[[str], str]) -> list[Problem]:
    """Finds the row's person; an address or number that belongs to someone
    else is a problem."""
    values = row.values
    person = people.match(values)
    number = values.get("employee_number", "")
    problems = []
    if person is not None and number and person.employee_number not in (None, number):
        problems.append(
            Problem(
                row.number,
                header("employee_number"),
                msg(
                    "{email} belongs to {name}, whose employee number is {number}",
                    email=values["email"],
                    name=person.name,
                    number=person.employee_number,
                ),
            )
        )
    holder = people.by_email.get(values["email"])
    if person is not None and holder is not None and holder is not person:
        problems.append(
            Problem(
                row.number,
                header("email"),
                msg(
                    "{email} is the e-mail address of {name} already",
                    email=values["email"],
                    name=holder.name,
                ),
            )
        )
    row.person_id = person.id if person is not None else None
    return problems


def _merged_problems(table: Table) -> list[Problem]:
    """Merged cells keep their value in the first cell only: the others would
    be read as empty. Title rows above the header may be merged."""
    problems = []
    for merged in table.merged:
        if merged.last_row < table.header_row:
            continue
        index = merged.first_column - 1
        problems.append(
            Problem(
                max(merged.first_row, table.header_row),
                table.headers[index] if index < len(table.headers) else "",
                msg(
                    "the cells {cells} are merged; unmerge them and fill in each cell",
                    cells=merged.cells,
                ),
            )
        )
    return problems


def _warnings(
    rows: list[Row],
    cohorts: Mapping[str, Cohort],
    people: _People,
    enrolled: set[tuple[int, int]],
    column: str,
) -> list[Problem]:
    by_id = {p.id: p for p in people.all}
    problems = []
    for row in rows:
        cohort = cohorts.get(row.values.get("cohort", "").lower())
        person = by_id.get(row.person_id) if row.person_id is not None else None
        # Enrolled there before (also withdrawn): the import leaves it alone.
        if cohort is None or person is None or (cohort.id, person.id) in enrolled:
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
    rows: list[Row], cohorts: Mapping[str, Cohort], column: str
) -> list[Problem]:
    wanted: dict[int, list[Row]] = {}
    for row in rows:
        cohort = cohorts.get(row.values.get("cohort", "").lower())
        if cohort is not None and cohort.capacity:
            wanted.setdefault(cohort.id, []).append(row)
    if not wanted:
        return []
    active = _active_enrolments(list(wanted))
    # Places that open offers of the waiting lists hold are not free either.
    offered = waiting_lists.offers_held(
        wanted, {row.person_id for row in rows if row.person_id is not None}
    )
    problems = []
    for cohort_id, cohort_rows in wanted.items():
        cohort = next(c for c in cohorts.values() if c.id == cohort_id)
        assert cohort.capacity is not None  # noqa: S101 -- selected above
        present = active.get(cohort_id, set())
        newcomers = []
        seen: set[object] = set()
        for row in cohort_rows:
            key = row.person_id if row.person_id is not None else row.values["email"]
            if row.person_id in present or key in seen:
                continue
            seen.add(key)
            newcomers.append(row)
        free = cohort.capacity - len(present) - offered.get(cohort_id, 0)
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


def _active_enrolments(cohort_ids: list[int]) -> dict[int, set[int]]:
    """Who is enrolled (not withdrawn) in each of the cohorts."""
    found: dict[int, set[int]] = {}
    for cohort_id, person_id in db.session.execute(
        select(Enrolment.cohort_id, Enrolment.participant_id).where(
            Enrolment.cohort_id.in_(cohort_ids), Enrolment.status == EnrolmentStatus.ENROLLED
        )
    ):
        found.setdefault(cohort_id, set()).add(person_id)
    return found


def import_participants(actor: Actor, organisation_id: int, rows: list[Row]) -> Summary:
    """Import checked rows (see `check`) into the organisation, all or none:
    a cohort that filled up or closed since the check refuses the whole file."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.KEEP_PEOPLE, organisation.id)
    return import_rows(rows, organisation, actor.user)


def import_rows(rows: list[Row], organisation: Organisation, actor: User | None) -> Summary:
    """Create or update each person and enrol them (the step of
    `import_participants`, without its permission check). New people, their
    history entries and the new enrolments go in one INSERT each."""
    summary = Summary()
    people = _People(organisation)
    cohorts = _cohorts(organisation)
    enrolled = _enrolled_pairs(organisation)
    new_people: list[dict[str, str]] = []
    new_index: dict[str, int] = {}  # e-mail address -> index in new_people
    done: set[int] = set()
    # (cohort, person id or -1 - index of a new person)
    wanted: list[tuple[Cohort, int]] = []
    for row in rows:
        values = {name: row.values.get(name, "") for name in PERSON_FIELDS}
        person = people.match(values)
        if person is not None:
            key = person.id
            if person.id not in done:
                done.add(person.id)
                if update_participant(person, values, actor, keep_blank=True):
                    summary.updated += 1
                else:
                    summary.unchanged += 1
        elif values["email"] in new_index:
            key = -1 - new_index[values["email"]]
        else:
            new_index[values["email"]] = len(new_people)
            key = -1 - len(new_people)
            new_people.append(values)
            summary.created += 1
        cohort = cohorts.get(row.values.get("cohort", "").lower())
        if cohort is not None and (cohort.id, key) not in enrolled:
            enrolled.add((cohort.id, key))
            wanted.append((cohort, key))
    ids = add_participants(organisation, new_people, actor)
    names = {p.id: p.name for p in people.all}
    for values, person_id in zip(new_people, ids, strict=True):
        names[person_id] = f"{one_line(values['first_name'])} {one_line(values['last_name'])}"
    pairs = [(cohort, key if key >= 0 else ids[-1 - key]) for cohort, key in wanted]
    summary.enrolled = _enrol_all(pairs, names, actor)
    return summary


def _enrol_all(
    pairs: list[tuple[Cohort, int]], names: Mapping[int, str], actor: User | None
) -> int:
    """The enrolment step (`enrolments.enrol`) for many people: the same
    refusals of a closed or full cohort, one INSERT for the enrolments and
    one for their history entries."""
    if not pairs:
        return 0
    cohort_ids = list({c.id for c, _ in pairs})
    counts = {
        cohort_id: len(people) for cohort_id, people in _active_enrolments(cohort_ids).items()
    }
    # Open offers hold places too, but those of the people enrolled now.
    for cohort_id, held in waiting_lists.offers_held(cohort_ids, {p for _, p in pairs}).items():
        counts[cohort_id] = counts.get(cohort_id, 0) + held
    for cohort, _ in pairs:
        if cohort.state in (CohortState.COMPLETED, CohortState.CANCELLED):
            raise EnrolmentError(
                msg("the cohort '{name}' is closed", name=cohort.name), code="cohort_closed"
            )
        counts[cohort.id] = counts.get(cohort.id, 0) + 1
        if cohort.capacity is not None and counts[cohort.id] > cohort.capacity:
            raise EnrolmentError(
                msg(
                    "the cohort '{name}' is full ({capacity} places)",
                    name=cohort.name,
                    capacity=cohort.capacity,
                ),
                code="cohort_full",
            )
    db.session.execute(
        insert(Enrolment),
        [{"cohort_id": cohort.id, "participant_id": person_id} for cohort, person_id in pairs],
    )
    db.session.execute(
        insert(Change),
        [
            {
                "user_id": actor.id if actor is not None else None,
                "organisation_id": cohort.organisation_id,
                "cohort_id": cohort.id,
                "subject": "enrolment",
                "subject_id": person_id,
                "action": "enrolled",
                "after": {"participant": names[person_id]},
            }
            for cohort, person_id in pairs
        ],
    )
    waiting_lists.enrolled_many((cohort.id, person_id) for cohort, person_id in pairs)
    announcements.enrolled_ids(pairs)
    return len(pairs)
