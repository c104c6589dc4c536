"""The cohort list: every cohort the actor may see, whatever its state,
found by name, narrowed by filters, sorted, a page at a time, with how many
there are in each state.

The filters come from the address (GET parameters), so a list can be
bookmarked and shared; a value that cannot be used is left out with a
notice saying so, never an error. The list asks the database the same
number of questions however many cohorts there are.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, bindparam, case, func, or_, select, union
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlalchemy.sql import Select

from app.extensions import db
from app.folding import fold, query_words, umlauts_spelled_out
from app.i18n import region_name
from app.models import (
    Cohort,
    CohortState,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Session,
    SessionStatus,
    User,
)
from app.models.cohorts import cohort_trainers, session_trainers
from app.services.policy import Actor
from curricula.messages import Message, msg

PAGE_SIZE = 25
# Orders a list can have; the default puts what is still to come first.
SORTS = ("upcoming", "start", "name", "organisation", "state", "participants")
# The order of states in a list sorted by state: the order a cohort lives them.
STATE_ORDER = {
    CohortState.PLANNED: 0,
    CohortState.RUNNING: 1,
    CohortState.COMPLETED: 2,
    CohortState.CANCELLED: 3,
}
YEARS = range(2000, 2101)
LONGEST_QUERY = 200


class Arguments(Protocol):
    """The request's query string (a werkzeug MultiDict)."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Filters:
    query: str = ""
    states: frozenset[CohortState] = frozenset()
    organisation_id: int | None = None
    curriculum_id: int | None = None
    trainer_id: int | None = None
    year: int | None = None
    region: str | None = None
    sort: str = "upcoming"
    descending: bool = False
    page: int = 1

    def arguments(self, **changes: Any) -> dict[str, Any]:
        """The filters as query-string arguments (with `changes`), for links
        that keep them; defaults are left out so addresses stay short."""
        chosen = replace(self, **changes)
        found: dict[str, Any] = {
            "q": chosen.query or None,
            "state": sorted(s.value for s in chosen.states) or None,
            "organisation": chosen.organisation_id,
            "curriculum": chosen.curriculum_id,
            "trainer": chosen.trainer_id,
            "year": chosen.year,
            "region": chosen.region,
            "sort": None if chosen.sort == "upcoming" else _sort_text(chosen),
            "page": chosen.page if chosen.page != 1 else None,
        }
        return {k: v for k, v in found.items() if v is not None}

    @property
    def narrowed(self) -> bool:
        """Whether anything but the order and the page is chosen."""
        return self.arguments(sort="upcoming", page=1) != {}


def _sort_text(filters: Filters) -> str:
    return ("-" if filters.descending else "") + filters.sort


@dataclass(frozen=True)
class Row:
    cohort: Cohort
    # The cohort as it stands: its first and last scheduled day.
    first_day: date
    last_day: date
    enrolled: int


@dataclass(frozen=True)
class Options:
    """What each filter offers: only values that occur among the cohorts the
    actor may see, so that no choice leads to a list that is empty by design."""

    organisations: list[Organisation]
    curricula: list[CurriculumRecord]
    trainers: list[User]
    years: list[int]
    regions: list[Region]


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class CohortList:
    rows: list[Row]
    # Cohorts that match, in all and per state (the state filter aside).
    total: int
    state_counts: dict[CohortState, int]
    page: int
    pages: int
    # The filters as applied: values that could not be used are left out.
    filters: Filters
    options: Options
    notices: list[Message] = field(default_factory=list)

    @property
    def page_missing(self) -> bool:
        """The page asked for lies beyond the last one."""
        return self.filters.page > self.pages


# What a notice says when a filter's value cannot be used, by parameter. A
# value of another organisation reads like one that does not exist.
UNUSABLE = {
    "state": msg("there is no state '{value}'; it is left out"),
    "year": msg("'{value}' is not a year; the list shows every year"),
    "sort": msg(
        "the list cannot be sorted by '{value}'; it shows running and upcoming cohorts first"
    ),
    "page": msg("there is no page '{value}'; this is page 1"),
    "organisation": msg(
        "there is no organisation '{value}' here; the list shows every organisation"
    ),
    "curriculum": msg(
        "no cohort here follows the curriculum '{value}'; the list shows every curriculum"
    ),
    "trainer": msg("no cohort here has the trainer '{value}'; the list shows every trainer"),
    "region": msg("no cohort here is in the region '{value}'; the list shows every region"),
}


def _unusable(name: str, value: object) -> Message:
    return replace(UNUSABLE[name], values=(("value", value),))


def read_filters(arguments: Arguments) -> tuple[Filters, list[Message]]:
    """The filters of a query string, and a notice for each value that cannot
    be used (that filter is left out, the rest of the list still works)."""
    notices: list[Message] = []

    def first(name: str) -> str:
        values = [v.strip() for v in arguments.getlist(name) if v.strip()]
        return values[0] if values else ""

    def number(name: str, allowed: range | None = None) -> int | None:
        text = first(name)
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) < 10:
            value = int(text)
            if allowed is None or value in allowed:
                return value
        notices.append(_unusable(name, text[:40]))
        return None

    states = set()
    for value in (v.strip() for v in arguments.getlist("state")):
        try:
            states.add(CohortState(value))
        except ValueError:
            if value:
                notices.append(_unusable("state", value[:40]))
    sort_text = first("sort") or "upcoming"
    sort, descending = sort_text.removeprefix("-"), sort_text.startswith("-")
    if sort not in SORTS or (sort == "upcoming" and descending):
        notices.append(_unusable("sort", sort_text[:40]))
        sort, descending = "upcoming", False
    filters = Filters(
        query=unicodedata.normalize("NFC", " ".join(first("q").split()))[:LONGEST_QUERY],
        states=frozenset(states),
        organisation_id=number("organisation"),
        curriculum_id=number("curriculum"),
        trainer_id=number("trainer"),
        year=number("year", YEARS),
        region=first("region")[:20] or None,
        sort=sort,
        descending=descending,
        page=number("page", range(1, 10**9)) or 1,
    )
    return filters, notices


def cohort_list(actor: Actor, filters: Filters, today: date) -> CohortList:
    """One page of the cohorts the actor may see that match `filters`.

    Everyone sees the cohorts of their own organisations only (an admin
    too: records of other organisations do not exist for them); the command
    line sees all. A filter value that is not among the options is left out
    with a notice, whether it exists elsewhere or not at all.
    """
    options = _options(actor)
    filters, notices = _checked(filters, options)
    conditions = _conditions(actor, filters)
    counted = select(Cohort.state, func.count()).where(*conditions).group_by(Cohort.state)
    state_counts = dict.fromkeys(CohortState, 0)
    state_counts.update({state: count for state, count in db.session.execute(counted)})
    chosen = filters.states or frozenset(CohortState)
    total = sum(count for state, count in state_counts.items() if state in chosen)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows: list[Row] = []
    if filters.page <= pages:
        rows = _page(filters, conditions, today)
    return CohortList(rows, total, state_counts, filters.page, pages, filters, options, notices)


# --- The parts of the list -------------------------------------------------


def _scope(actor: Actor) -> list[ColumnElement[bool]]:
    if actor.organisation_ids is None:
        return []
    return [Cohort.organisation_id.in_(actor.organisation_ids)]


def _conditions(actor: Actor, filters: Filters) -> list[ColumnElement[bool]]:
    """Every filter but the state as conditions on Cohort."""
    conditions = _scope(actor)
    if filters.query:
        # The ids are numbers of our own, written into the statement: a
        # parameter each would cost PostgreSQL more than the query itself.
        matching = bindparam("matching", _matching_ids(actor, filters.query), literal_execute=True)
        conditions.append(Cohort.id.in_(matching))
    if filters.organisation_id is not None:
        conditions.append(Cohort.organisation_id == filters.organisation_id)
    if filters.curriculum_id is not None:
        conditions.append(
            Cohort.version_id.in_(
                select(CurriculumVersion.id).where(
                    CurriculumVersion.curriculum_id == filters.curriculum_id
                )
            )
        )
    if filters.trainer_id is not None:
        # A trainer of the cohort, or of one of its sessions (a stand-in).
        conditions.append(
            Cohort.id.in_(
                union(
                    select(cohort_trainers.c.cohort_id).where(
                        cohort_trainers.c.user_id == filters.trainer_id
                    ),
                    select(Session.cohort_id)
                    .join(session_trainers, session_trainers.c.session_id == Session.id)
                    .where(session_trainers.c.user_id == filters.trainer_id),
                )
            )
        )
    if filters.year is not None:
        # A cohort belongs to every year it has a session in, as on the
        # year overview.
        conditions.append(
            Cohort.id.in_(
                select(Session.cohort_id).where(
                    Session.first_day <= date(filters.year, 12, 31),
                    Session.last_day >= date(filters.year, 1, 1),
                )
            )
        )
    if filters.region is not None:
        conditions.append(Cohort.region == filters.region)
    return conditions


def _page(filters: Filters, conditions: list[ColumnElement[bool]], today: date) -> list[Row]:
    """The page's cohorts: first their ids in the list's order (narrow rows
    to sort, whatever the organisation's history), then those cohorts."""
    statement = select(Cohort.id).where(*conditions)
    if filters.sort == "organisation":
        statement = statement.join(Cohort.organisation)
    if filters.states:
        statement = statement.where(Cohort.state.in_(filters.states))
    statement = _ordered(statement, filters, today)
    ids = list(
        db.session.scalars(statement.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE))
    )
    found = {row.cohort.id: row for row in _rows(ids)}
    return [found[i] for i in ids]


def _ordered(statement: Select[Any], filters: Filters, today: date) -> Select[Any]:
    """The order of the list. By start means by the start the cohort was
    planned for; the dates shown are those of its sessions as they stand."""

    def direction(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return column.desc() if filters.descending else column.asc()

    start = Cohort.start_date
    if filters.sort == "upcoming":
        # What is under way or still to come, the soonest first; then what
        # is over, the most recent first.
        to_come = or_(
            start >= today,
            Cohort.id.in_(
                select(Session.cohort_id).where(
                    Session.last_day >= today, Session.status == SessionStatus.SCHEDULED
                )
            ),
        )
        keys: list[ColumnElement[Any]] = [
            case((to_come, 0), else_=1),
            case((to_come, start)).asc(),
            start.desc(),
        ]
    elif filters.sort == "start":
        keys = [direction(start)]
    elif filters.sort == "name":
        keys = [direction(_collated(Cohort.name))]
    elif filters.sort == "organisation":
        keys = [direction(_collated(Organisation.name)), start.desc()]
    elif filters.sort == "state":
        in_order = case(*((Cohort.state == state, n) for state, n in STATE_ORDER.items()))
        keys = [direction(in_order), start.desc()]
    else:  # participants
        keys = [direction(_enrolled_count(Cohort.id)), start.desc()]
    return statement.order_by(*keys, _collated(Cohort.name), Cohort.id)


# German alphabetical order (DIN 5007, variant 1: ä as a, ß as ss) in both
# databases; SQLite's lower() changes ASCII letters only, so the umlauts are
# replaced first.
_GERMAN_LETTERS = (("Ä", "a"), ("ä", "a"), ("Ö", "o"), ("ö", "o"), ("Ü", "u"), ("ü", "u"))


def _collated(column: ColumnElement[str]) -> ColumnElement[str]:
    expression: ColumnElement[str] = column
    for letter, base in (*_GERMAN_LETTERS, ("ß", "ss")):
        expression = func.replace(expression, letter, base)
    return func.lower(expression)


def _enrolled_count(cohort_id: ColumnElement[int]) -> ColumnElement[int]:
    return (
        select(func.count())
        .where(Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .scalar_subquery()
    )


_SHOWN = (
    Cohort.name,
    Cohort.organisation_id,
    Cohort.version_id,
    Cohort.start_date,
    Cohort.capacity,
    Cohort.state,
)


def _rows(cohort_ids: Sequence[int]) -> list[Row]:
    """The cohorts with what a row shows, in one query (and one for their
    trainers): the first and last day of their scheduled sessions, or of all
    when none is scheduled any more (a cancelled cohort keeps its dates), and
    the people enrolled (not withdrawn)."""
    if not cohort_ids:
        return []

    def day(of: Any, scheduled: bool) -> ColumnElement[date]:
        found = select(of).where(Session.cohort_id == Cohort.id)
        if scheduled:
            found = found.where(Session.status == SessionStatus.SCHEDULED)
        return found.scalar_subquery()

    first = func.coalesce(
        day(func.min(Session.first_day), True),
        day(func.min(Session.first_day), False),
        Cohort.start_date,
    )
    last = func.coalesce(
        day(func.max(Session.last_day), True),
        day(func.max(Session.last_day), False),
        Cohort.start_date,
    )
    rows = db.session.execute(
        select(Cohort, first, last, _enrolled_count(Cohort.id))
        .where(Cohort.id.in_(cohort_ids))
        .options(
            # Only what a row shows: a version's source, the cohort's venue
            # and times stay unread. A cohort's organisation is the user's,
            # already at hand; a fork's client is read without its logo.
            load_only(*_SHOWN),
            joinedload(Cohort.version).load_only(CurriculumVersion.number),
            joinedload(Cohort.version)
            .joinedload(CurriculumVersion.curriculum)
            .load_only(
                CurriculumRecord.title_de,
                CurriculumRecord.title_en,
                CurriculumRecord.organisation_id,
            ),
            joinedload(Cohort.version)
            .joinedload(CurriculumVersion.curriculum)
            .joinedload(CurriculumRecord.organisation)
            .load_only(Organisation.name),
            selectinload(Cohort.trainers).load_only(User.name),
        )
    )
    return [Row(cohort, begins, ends, count) for cohort, begins, ends, count in rows]


# --- The search ------------------------------------------------------------


def _matching_ids(actor: Actor, query: str) -> list[int]:
    """The ids of the actor's cohorts whose name holds every word of `query`,
    compared as the participant search compares (app.folding).

    Names are compared in Python rather than by SQL: SQLite's lower() knows
    ASCII only, so neither "ömer" nor "ÖMER" would find "Ömer" there. An
    organisation has some 40 cohorts a year, so reading the names of all of
    them is cheap (bench/cohort_list_times.py).
    """
    words = query_words(query)
    names = db.session.execute(select(Cohort.id, Cohort.name).where(*_scope(actor)))
    found = []
    for cohort_id, name in names:
        forms = _name_forms(name)
        if all(any(s in form for s in spellings for form in forms) for spellings in words):
            found.append(cohort_id)
    return found


@lru_cache(maxsize=16384)
def _name_forms(name: str) -> tuple[str, str]:
    # Names change rarely and are asked for on every search.
    return fold(name), umlauts_spelled_out(name)


# --- Options and their checks ----------------------------------------------


def _options(actor: Actor) -> Options:
    scope = _scope(actor)
    if actor.user is not None:
        organisations = sorted(actor.user.organisations, key=lambda o: fold(o.name))
        if actor.organisation_ids is not None:
            organisations = [o for o in organisations if o.id in actor.organisation_ids]
    else:
        organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    curricula = db.session.scalars(
        select(CurriculumRecord)
        .where(
            CurriculumRecord.id.in_(
                select(CurriculumVersion.curriculum_id)
                .join(Cohort, Cohort.version_id == CurriculumVersion.id)
                .where(*scope)
            )
        )
        .options(joinedload(CurriculumRecord.organisation))
    ).all()
    in_scope = select(Cohort.id).where(*scope)
    trainers = db.session.scalars(
        select(User).where(
            User.id.in_(
                union(
                    select(cohort_trainers.c.user_id).where(
                        cohort_trainers.c.cohort_id.in_(in_scope)
                    ),
                    select(session_trainers.c.user_id)
                    .join(Session, Session.id == session_trainers.c.session_id)
                    .where(Session.cohort_id.in_(in_scope)),
                )
            )
        )
    ).all()
    last_day = (
        select(func.max(Session.last_day)).where(Session.cohort_id.in_(in_scope)).scalar_subquery()
    )
    spread = db.session.execute(
        select(Cohort.region, func.min(Cohort.start_date), func.max(Cohort.start_date), last_day)
        .where(*scope)
        .group_by(Cohort.region)
    ).all()
    regions = [Region(code, region_name(code)) for code, _, _, _ in spread]
    years: set[int] = set()
    if spread:
        first = min(first for _, first, _, _ in spread)
        last = max(max(latest, ends or latest) for _, _, latest, ends in spread)
        years.update(range(first.year, last.year + 1))
    return Options(
        organisations=organisations,
        curricula=sorted(curricula, key=lambda c: (c.organisation_id is not None, c.title_de)),
        trainers=sorted(trainers, key=lambda u: fold(u.name)),
        years=sorted(years, reverse=True),
        regions=sorted(regions, key=lambda r: fold(r.name)),
    )


def _checked(filters: Filters, options: Options) -> tuple[Filters, list[Message]]:
    """The filters without values that are not among the options."""
    notices: list[Message] = []

    def known(value: Any, among: Iterable[Any], notice: Message) -> Any:
        if value is None or value in among:
            return value
        notices.append(notice)
        return None

    checked = replace(
        filters,
        organisation_id=known(
            filters.organisation_id,
            {o.id for o in options.organisations},
            _unusable("organisation", filters.organisation_id),
        ),
        curriculum_id=known(
            filters.curriculum_id,
            {c.id for c in options.curricula},
            _unusable("curriculum", filters.curriculum_id),
        ),
        trainer_id=known(
            filters.trainer_id,
            {t.id for t in options.trainers},
            _unusable("trainer", filters.trainer_id),
        ),
        region=known(
            filters.region, {r.code for r in options.regions}, _unusable("region", filters.region)
        ),
    )
    if checked.year is not None and checked.year not in options.years:
        # A year without cohorts is a fair question; it answers an empty list.
        options.years.append(checked.year)
        options.years.sort(reverse=True)
    return checked, notices
