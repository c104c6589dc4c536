"""Adding, changing and finding participants, for the forms, the API and the
file import alike.

`add` and `edit` are the use cases of the doors; `add_participant` and
`update_participant` their steps on loaded records (also the import's),
which check no permission.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import selectinload

from app import folding
from app.extensions import db
from app.models import (
    Certificate,
    Change,
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    User,
    participant_search,
)
from app.services import calendars, enrolments, history, policy
from app.services.errors import DomainError, InvalidInput, expect_version
from app.services.policy import Action, Actor
from app.services.text import NotOneLine, one_line
from curricula.messages import msg

# The person's own fields, in the order forms and exports use.
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "department",
    "site",
    "manager_name",
    "manager_email",
    "employee_number",
)


class EmailTaken(DomainError):
    """Someone in the organisation has this e-mail address already."""

    code = "email_taken"

    def __init__(self, email: str) -> None:
        super().__init__(
            msg(
                "someone in this organisation has the e-mail address {email} already", email=email
            ),
            field="email",
        )


class EmployeeNumberTaken(DomainError):
    """Someone in the organisation has this employee number already."""

    code = "employee_number_taken"

    def __init__(self, number: str) -> None:
        super().__init__(
            msg(
                "someone in this organisation has the employee number {number} already",
                number=number,
            ),
            field="employee_number",
        )


def add(actor: Actor, organisation_id: int, values: Mapping[str, str]) -> Participant:
    """A new participant of the organisation (EmailTaken when the address is
    in use there, EmployeeNumberTaken when the number is)."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.KEEP_PEOPLE, organisation.id)
    cleaned = _clean(values)
    email = cleaned.get("email", "")
    if _holder(organisation.id, email) is not None:
        raise EmailTaken(email)
    number = cleaned.get("employee_number", "")
    if _number_holder(organisation.id, number) is not None:
        raise EmployeeNumberTaken(number)
    return add_participant(organisation, values, actor.user)


def edit(
    actor: Actor, participant_id: int, values: Mapping[str, str], *, version: object
) -> Participant:
    """Change the person's fields (all of them: an empty value empties the
    field); StaleEdit when `version` is not the person's current one."""
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.KEEP_PEOPLE, person.organisation_id)
    expect_version(person, version)
    email = _clean(values).get("email", person.email)
    holder = _holder(person.organisation_id, email)
    if holder is not None and holder != person.id:
        raise EmailTaken(email)
    number = _clean(values).get("employee_number", "")
    holder = _number_holder(person.organisation_id, number)
    if holder is not None and holder != person.id:
        raise EmployeeNumberTaken(number)
    update_participant(person, values, actor.user, keep_blank=False)
    return person


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to besides the search words; None: anyone."""

    organisation_id: int | None = None
    cohort_id: int | None = None
    # Enrolled in no planned or running cohort: still to be given a place.
    without_cohort: bool = False
    department: str | None = None
    site: str | None = None
    certificate: CertificateFilter | None = None


class CertificateFilter(StrEnum):
    IN_FORCE = "in_force"  # holds a certificate in force
    NONE = "none"  # holds none in force (never had one, or it was revoked)
    REVOKED = "revoked"  # one of theirs was revoked


class Sort(StrEnum):
    NAME = "name"
    NAME_DESCENDING = "-name"
    NEWEST = "newest"
    OLDEST = "oldest"


def _order(person: Any, sort: Sort) -> tuple[Any, ...]:
    """The ORDER BY of `sort` on the participants table or on an alias of it."""
    if sort is Sort.NAME:
        return (person.last_name_key, person.first_name_key, person.id)
    if sort is Sort.NAME_DESCENDING:
        return (person.last_name_key.desc(), person.first_name_key.desc(), person.id.desc())
    if sort is Sort.NEWEST:
        return (person.created_at.desc(), person.id.desc())
    return (person.created_at, person.id)


def search(
    actor: Actor,
    query: str,
    page: int = 1,
    per_page: int = 50,
    organisation_id: int | None = None,
    *,
    filters: Filters = Filters(),
    sort: Sort = Sort.NAME,
) -> tuple[list[Participant], int]:
    """The participants the actor may see whose names, e-mail address,
    department, site or employee number contain every word of `query` (case
    and accents aside; "muller" and "mueller" find Müller), narrowed by
    `filters`, in German alphabetical order (or `sort`): one page of them,
    and how many match."""
    statement = matching(actor, query, filters)
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    offset = (max(page, 1) - 1) * per_page
    if folding.query_words(query):
        return _found_once(statement, sort, per_page, offset)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = db.session.scalars(
        statement.order_by(*_order(Participant, sort)).limit(per_page).offset(offset)
    ).all()
    return list(items), total


def _found_once(
    statement: Select[tuple[Participant]], sort: Sort, per_page: int, offset: int
) -> tuple[list[Participant], int]:
    """A search with words, read once: the matches' ids and sort keys are
    gathered through the search index, then counted and ranked, and only the
    page's people are read whole. Asked apart, the page's ORDER BY ... LIMIT
    tempts the planner to walk the name index and test every name it passes
    (thousands for a common word), and the count reads the index a second
    time; gathering whole rows made the database keep and sort a few
    hundred bytes of each match instead of its keys.

    A person's organisation is not read with them: a page that names it
    has read the actor's organisations already (their filter), which the
    relationship then finds in the session without asking again."""
    _prefer_index_pages()
    found = (
        statement.with_only_columns(
            Participant.id,
            Participant.last_name_key,
            Participant.first_name_key,
            Participant.created_at,
        )
        .cte("found")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    page = select(found).order_by(*_order(found.c, sort)).limit(per_page).offset(offset).subquery()
    total = select(func.count()).select_from(found).scalar_subquery().label("total")
    rows = db.session.execute(
        select(Participant, total)
        .join(page, page.c.id == Participant.id)
        .order_by(*_order(page.c, sort))
    ).all()
    if rows:
        return [row[0] for row in rows], rows[0][1]
    if offset == 0:
        return [], 0
    return [], db.session.scalar(select(func.count()).select_from(found)) or 0


def _prefer_index_pages() -> None:
    """On PostgreSQL, cost the search index's pages as the cached pages they
    are for the rest of this transaction. At the default random_page_cost
    (4, made for spinning disks) the planner reads all rows instead when a
    word matches a few per cent of them: at 60,000 people that is two LIKEs
    on each row, about ten times the index's time."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL random_page_cost = 1.1"))


def matching_ids(actor: Actor, query: str, filters: Filters, limit: int) -> list[int]:
    """The ids of up to `limit` people `search` finds, alphabetically (for
    acting on all of them at once)."""
    statement = matching(actor, query, filters).with_only_columns(Participant.id)
    if folding.query_words(query):
        _prefer_index_pages()
    return list(
        db.session.scalars(statement.order_by(*_order(Participant, Sort.NAME)).limit(limit))
    )


def matching(actor: Actor, query: str, filters: Filters) -> Select[tuple[Participant]]:
    """The people the actor may see who match the words and filters."""
    statement = select(Participant)
    if actor.organisation_ids is not None:
        statement = statement.where(Participant.organisation_id.in_(actor.organisation_ids))
    for spellings in folding.query_words(unicodedata.normalize("NFC", query)):
        statement = statement.where(_contains(spellings))
    return statement.where(*_narrowed(filters))


def _contains(spellings: tuple[str, ...]) -> ColumnElement[bool]:
    """The search text holds one of the spellings, found through the index
    made for it (app.models.participant_search): on SQLite the FTS5 table for
    words it can find, `LIKE` for shorter ones; elsewhere `LIKE` (which
    PostgreSQL's trigram index answers)."""
    scanned = list(spellings)
    conditions = []
    if db.session.get_bind().dialect.name == "sqlite":
        indexed = [w for w in spellings if len(w) >= participant_search.SHORTEST_INDEXED]
        scanned = [w for w in spellings if w not in indexed]
        if indexed:
            phrases = " OR ".join('"' + word.replace('"', '""') + '"' for word in indexed)
            index = participant_search.FTS_TABLE
            conditions.append(
                Participant.id.in_(
                    select(literal_column("rowid"))
                    .select_from(table(index))
                    .where(
                        literal_column(index).op("MATCH")(bindparam("words", phrases, unique=True))
                    )
                )
            )
    conditions += [
        Participant.search_text.like(f"%{_escaped(word)}%", escape="\\") for word in scanned
    ]
    return or_(*conditions)


def _narrowed(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.organisation_id is not None:
        found.append(Participant.organisation_id == filters.organisation_id)
    if filters.cohort_id is not None:
        found.append(_enrolled(Enrolment.cohort_id == filters.cohort_id))
    if filters.without_cohort:
        # enrolments.OPEN_STATES at call time: enrolments imports this module
        # (through certificates), so its names are not there yet at import.
        open_cohorts = select(Cohort.id).where(Cohort.state.in_(enrolments.OPEN_STATES))
        found.append(~_enrolled(Enrolment.cohort_id.in_(open_cohorts)))
    if filters.department is not None:
        found.append(Participant.department == filters.department)
    if filters.site is not None:
        found.append(Participant.site == filters.site)
    if filters.certificate is CertificateFilter.IN_FORCE:
        found.append(_certified(Certificate.in_force))
    elif filters.certificate is CertificateFilter.NONE:
        found.append(~_certified(Certificate.in_force))
    elif filters.certificate is CertificateFilter.REVOKED:
        found.append(_certified(_revoked()))
    return found


def _revoked() -> ColumnElement[bool]:
    return Certificate.revoked_at.is_not(None)


def _enrolled(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        select(Enrolment.id)
        .where(
            Enrolment.participant_id == Participant.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            condition,
        )
        .exists()
    )


def _certified(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        select(Certificate.id)
        .where(Certificate.participant_id == Participant.id, condition)
        .exists()
    )


@dataclass(frozen=True)
class CohortChoice:
    """A cohort as a list's choice names it (plain columns: the lists offer
    every cohort, hundreds in a large organisation)."""

    id: int
    name: str
    start_date: date


@dataclass(frozen=True)
class Choices:
    """What the list's filters offer: the values the actor's people have."""

    organisations: list[Organisation]
    cohorts: list[CohortChoice]  # planned and running, soonest first
    past_cohorts: list[CohortChoice]  # completed and cancelled, latest first
    departments: list[str]
    sites: list[str]


def choices(actor: Actor) -> Choices:
    """The actor's organisations, their cohorts (those one may still enrol
    into apart from those that are over), and every department and site
    their people have, alphabetically."""
    organisations = select(Organisation)
    cohorts = select(Cohort.id, Cohort.name, Cohort.start_date, Cohort.state)
    people = select(Participant.department, Participant.site)
    if actor.organisation_ids is not None:
        organisations = organisations.where(Organisation.id.in_(actor.organisation_ids))
        cohorts = cohorts.where(Cohort.organisation_id.in_(actor.organisation_ids))
        people = people.where(Participant.organisation_id.in_(actor.organisation_ids))
    departments = db.session.scalars(
        people.with_only_columns(Participant.department).distinct()
    ).all()
    sites = db.session.scalars(people.with_only_columns(Participant.site).distinct()).all()
    open_cohorts: list[CohortChoice] = []
    past_cohorts: list[CohortChoice] = []
    for id_, name, start_date, state in db.session.execute(
        cohorts.order_by(Cohort.start_date, Cohort.id)
    ):
        found = open_cohorts if state in enrolments.OPEN_STATES else past_cohorts
        found.append(CohortChoice(id_, name, start_date))
    return Choices(
        organisations=sorted(
            db.session.scalars(organisations), key=lambda o: folding.fold(o.name)
        ),
        cohorts=open_cohorts,
        past_cohorts=past_cohorts[::-1],
        departments=sorted((d for d in departments if d), key=folding.fold),
        sites=sorted((s for s in sites if s), key=folding.fold),
    )


@dataclass(frozen=True)
class ListedCohort:
    id: int
    name: str
    state: CohortState

    @property
    def open(self) -> bool:
        """Planned or running: one may still be enrolled into it."""
        return self.state in enrolments.OPEN_STATES


@dataclass(frozen=True)
class Standing:
    """What the participants list shows of a person beyond their record: the
    cohorts they are in (planned and running ones, else the latest one they
    completed, else a cancelled one: the cohort filter finds them by it) and
    their certificate, as the certificate filter reads it."""

    cohorts: list[ListedCohort]
    certified_on: date | None  # of the newest certificate in force
    revoked: bool  # one of theirs was revoked (another may be in force)


def standings(people: Sequence[Participant], chosen: int | None = None) -> dict[int, Standing]:
    """Each person's standing, read for a page of people at once (two
    statements, whatever the page holds); the cohort `chosen` (the list's
    filter) is named wherever it is one of theirs."""
    ids = [p.id for p in people]
    if not ids:
        return {}
    in_cohorts: dict[int, list[tuple[date, ListedCohort]]] = {i: [] for i in ids}
    for participant_id, cohort_id, name, state, start_date in db.session.execute(
        select(Enrolment.participant_id, Cohort.id, Cohort.name, Cohort.state, Cohort.start_date)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Enrolment.participant_id.in_(ids), Enrolment.status == EnrolmentStatus.ENROLLED)
    ):
        in_cohorts[participant_id].append((start_date, ListedCohort(cohort_id, name, state)))
    certified: dict[int, date] = {}
    revoked: set[int] = set()
    for participant_id, issued_on, in_force, was_revoked in db.session.execute(
        select(
            Certificate.participant_id,
            Certificate.issued_on,
            Certificate.in_force,
            _revoked(),
        ).where(Certificate.participant_id.in_(ids))
    ):
        if in_force:
            certified[participant_id] = max(issued_on, certified.get(participant_id, issued_on))
        if was_revoked:
            revoked.add(participant_id)
    found = {}
    for participant_id, dated in in_cohorts.items():
        dated.sort(key=lambda pair: (pair[0], pair[1].id))
        current = [c for _, c in dated if c.open]
        # Else the cohort they completed, before one cancelled after it.
        ended = [c for _, c in dated if c.state is not CohortState.CANCELLED] or [
            c for _, c in dated
        ]
        shown = current or ended[-1:]
        shown += [c for _, c in dated if c.id == chosen and c not in shown]
        found[participant_id] = Standing(
            cohorts=shown,
            certified_on=certified.get(participant_id),
            revoked=participant_id in revoked,
        )
    return found


def for_page(actor: Actor, participant_id: int) -> Participant:
    """The person with their enrolments and those cohorts, for their page:
    read at once, however many cohorts they were in."""
    person = db.session.scalar(
        select(Participant)
        .where(Participant.id == participant_id)
        .options(selectinload(Participant.enrolments).joinedload(Enrolment.cohort))
        .execution_options(populate_existing=True)
    )
    if not policy.visible(actor, person):
        raise policy.NotFound()
    return person  # type: ignore[return-value]


def export_rows(actor: Actor, organisation_id: int | None = None) -> list[tuple[Any, ...]]:
    """Every person the actor may see (of one organisation, when given) with
    the cohorts they are enrolled in: a row per person and cohort. Plain
    columns in one query, so an export of thousands of rows builds no objects."""
    policy.require(actor, Action.KEEP_PEOPLE, organisation_id)
    active = and_(
        Enrolment.participant_id == Participant.id,
        Enrolment.status == EnrolmentStatus.ENROLLED,
    )
    statement = (
        select(*(getattr(Participant, name) for name in PERSON_FIELDS), Cohort.name)
        .outerjoin(Enrolment, active)
        .outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
        .order_by(Participant.last_name, Participant.first_name, Participant.id, Cohort.start_date)
    )
    if actor.organisation_ids is not None:
        statement = statement.where(Participant.organisation_id.in_(actor.organisation_ids))
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    return [tuple(value or "" for value in row) for row in db.session.execute(statement)]


def of_cohort(actor: Actor, cohort_id: int) -> tuple[Cohort, list[Participant]]:
    """The cohort and the people enrolled in it, alphabetically."""
    cohort = policy.get(actor, Cohort, cohort_id)
    people = db.session.scalars(
        select(Participant)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    return cohort, list(people)


def add_participant(
    organisation: Organisation, values: Mapping[str, str], actor: User | None
) -> Participant:
    person = Participant(organisation=organisation, **_clean(values))
    db.session.add(person)
    db.session.flush()
    history.record(
        user=actor,
        organisation_id=organisation.id,
        subject="participant",
        subject_id=person.id,
        action="created",
        after=state(person),
    )
    return person


def update_participant(
    person: Participant, values: Mapping[str, str], actor: User | None, *, keep_blank: bool
) -> bool:
    """Set the given fields; with `keep_blank` an empty value leaves a field as
    it is (an import column the HR system left empty). True when anything changed."""
    before = state(person)
    for name, value in _clean(values).items():
        if value or not keep_blank:
            setattr(person, name, value)
    after = state(person)
    if after == before:
        return False
    if any(before[name] != after[name] for name in ("first_name", "last_name")):
        # Tandem partners see this name in their calendars.
        calendars.names_changed(e.cohort_id for e in person.enrolments)
    history.record(
        user=actor,
        organisation_id=person.organisation_id,
        subject="participant",
        subject_id=person.id,
        action="updated",
        before=before,
        after=after,
    )
    return True


def add_participants(
    organisation: Organisation, people: Sequence[Mapping[str, str]], actor: User | None
) -> list[int]:
    """`add_participant` for many people at once (the import's step): one
    INSERT for the people, one for their history entries; their ids in order."""
    if not people:
        return []
    rows = []
    for values in people:
        cleaned = {name: "" for name in PERSON_FIELDS} | _clean(values)
        # The search text and sort keys come from the columns' defaults.
        rows.append(cleaned | {"employee_number": cleaned["employee_number"] or None})
    # Matched back by address (unique in the organisation), so that the
    # INSERT need not keep the rows' order, which costs a statement per row.
    inserted = db.session.execute(
        insert(Participant).returning(Participant.id, Participant.email),
        [row | {"organisation_id": organisation.id} for row in rows],
    )
    by_email = {email: person_id for person_id, email in inserted}
    ids = [by_email[row["email"]] for row in rows]
    db.session.execute(
        insert(Change),
        [
            {
                "user_id": actor.id if actor is not None else None,
                "organisation_id": organisation.id,
                "subject": "participant",
                "subject_id": person_id,
                "action": "created",
                "after": {name: row[name] or "" for name in PERSON_FIELDS},
            }
            for person_id, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def state(person: Participant) -> dict[str, str]:
    # An absent employee number is NULL in the table, "" like any empty field here.
    return {name: getattr(person, name) or "" for name in PERSON_FIELDS}


def _holder(organisation_id: int, email: str) -> int | None:
    if not email:
        return None
    return db.session.scalar(
        select(Participant.id).where(
            Participant.organisation_id == organisation_id,
            func.lower(Participant.email) == email,
        )
    )


def _number_holder(organisation_id: int, number: str) -> int | None:
    if not number:
        return None
    return db.session.scalar(
        select(Participant.id).where(
            Participant.organisation_id == organisation_id,
            Participant.employee_number == number,
        )
    )


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clean(values: Mapping[str, str]) -> dict[str, str]:
    """The person's fields as stored: one line each (else NotOneLine, at the
    field), trimmed, in Unicode NFC — a decomposed "Nguyễn" would print with
    misplaced accents and not be found by a search for the composed form."""
    cleaned, problems = _cleaned(values)
    if problems:
        raise next(iter(problems.values()))
    return cleaned


def _cleaned(values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, DomainError]]:
    """The fields as stored, and the refusal of each field that cannot be."""
    cleaned: dict[str, str] = {}
    problems: dict[str, DomainError] = {}
    for name in PERSON_FIELDS:
        if name in values:
            try:
                cleaned[name] = one_line(values.get(name), field=name)
            except NotOneLine as refusal:
                problems[name] = refusal
                continue
            # The columns' lengths are the limits, for every door alike.
            longest = Participant.__table__.c[name].type.length
            if len(cleaned[name]) > longest:
                problems[name] = InvalidInput(
                    msg("is longer than {count} characters", count=longest),
                    code="too_long",
                    field=name,
                )
    for name in ("email", "manager_email"):
        if name in cleaned:
            cleaned[name] = cleaned[name].lower()
    return cleaned, problems


def field_problems(
    actor: Actor,
    organisation_id: int,
    values: Mapping[str, str],
    *,
    participant_id: int | None = None,
) -> dict[str, DomainError]:
    """Every refusal `add` (or `edit` of `participant_id`) would give for these
    values, by field, so that a form shows them all at once rather than one
    per attempt. Nothing changes."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.KEEP_PEOPLE, organisation.id)
    cleaned, problems = _cleaned(values)
    email = cleaned.get("email", "")
    holder = _holder(organisation.id, email) if email else None
    if holder is not None and holder != participant_id:
        problems["email"] = EmailTaken(email)
    number = cleaned.get("employee_number", "")
    holder = _number_holder(organisation.id, number)
    if holder is not None and holder != participant_id:
        problems["employee_number"] = EmployeeNumberTaken(number)
    return problems
