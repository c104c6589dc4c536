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

import holidays
from sqlalchemy import ColumnElement, and_, case, func, select, union
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.sql import Select, Subquery

from app.extensions import db
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
    span = _span(actor)
    conditions = _conditions(actor, filters, span)
    counted = (
        select(Cohort.state, func.count())
        .select_from(Cohort)
        .outerjoin(span, span.c.cohort_id == Cohort.id)
        .where(*conditions)
        .group_by(Cohort.state)
    )
    state_counts = dict.fromkeys(CohortState, 0)
    state_counts.update({state: count for state, count in db.session.execute(counted)})
    total = sum(
        count
        for state, count in state_counts.items()
        if not filters.states or state in filters.states
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows: list[Row] = []
    if filters.page <= pages:
        rows = _page(actor, filters, conditions, span, today)
    return CohortList(rows, total, state_counts, filters.page, pages, filters, options, notices)


# --- The parts of the list -------------------------------------------------


def _scope(actor: Actor) -> list[ColumnElement[bool]]:
    if actor.organisation_ids is None:
        return []
    return [Cohort.organisation_id.in_(actor.organisation_ids)]


def _span(actor: Actor) -> Subquery:
    """Per cohort its first and last day: of the scheduled sessions, or of all
    when none is scheduled any more (a cancelled cohort keeps its dates)."""
    scheduled = Session.status == SessionStatus.SCHEDULED
    return (
        select(
            Session.cohort_id.label("cohort_id"),
            func.coalesce(
                func.min(case((scheduled, Session.first_day))), func.min(Session.first_day)
            ).label("first_day"),
            func.coalesce(
                func.max(case((scheduled, Session.last_day))), func.max(Session.last_day)
            ).label("last_day"),
        )
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(*_scope(actor))
        .group_by(Session.cohort_id)
        .subquery("span")
    )


def _first_day(span: Subquery) -> ColumnElement[date]:
    # A cohort without sessions (none planned yet) lives on its start date.
    return func.coalesce(span.c.first_day, Cohort.start_date)


def _last_day(span: Subquery) -> ColumnElement[date]:
    return func.coalesce(span.c.last_day, Cohort.start_date)


def _conditions(actor: Actor, filters: Filters, span: Subquery) -> list[ColumnElement[bool]]:
    """Every filter but the state as conditions on Cohort (and the span)."""
    conditions = _scope(actor)
    if filters.query:
        conditions.append(Cohort.id.in_(_matching_ids(actor, filters.query)))
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
        # A cohort belongs to every year it runs in, as on the year overview.
        conditions.append(
            and_(
                _first_day(span) <= date(filters.year, 12, 31),
                _last_day(span) >= date(filters.year, 1, 1),
            )
        )
    if filters.region is not None:
        conditions.append(Cohort.region == filters.region)
    return conditions


def _page(
    actor: Actor,
    filters: Filters,
    conditions: list[ColumnElement[bool]],
    span: Subquery,
    today: date,
) -> list[Row]:
    first_day, last_day = _first_day(span), _last_day(span)
    statement = (
        select(Cohort, first_day, last_day)
        .join(Cohort.organisation)
        .outerjoin(span, span.c.cohort_id == Cohort.id)
        .where(*conditions)
        .options(
            contains_eager(Cohort.organisation),
            joinedload(Cohort.version)
            .joinedload(CurriculumVersion.curriculum)
            .joinedload(CurriculumRecord.organisation),
            selectinload(Cohort.trainers),
        )
    )
    if filters.states:
        statement = statement.where(Cohort.state.in_(filters.states))
    statement = _ordered(statement, filters, first_day, last_day, today)
    found = db.session.execute(
        statement.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    ).all()
    enrolled = _enrolled([cohort.id for cohort, _, _ in found])
    return [Row(cohort, first, last, enrolled.get(cohort.id, 0)) for cohort, first, last in found]


def _ordered(
    statement: Select[Any],
    filters: Filters,
    first_day: ColumnElement[date],
    last_day: ColumnElement[date],
    today: date,
) -> Select[Any]:
    def direction(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return column.desc() if filters.descending else column.asc()

    if filters.sort == "upcoming":
        # What is running or still to come, soonest first; then what is
        # over, the most recent first.
        over = last_day < today
        keys: list[ColumnElement[Any]] = [
            case((over, 1), else_=0),
            case((over, None), else_=first_day).asc(),
            first_day.desc(),
        ]
    elif filters.sort == "start":
        keys = [direction(first_day)]
    elif filters.sort == "name":
        keys = [direction(_collated(Cohort.name))]
    elif filters.sort == "organisation":
        keys = [direction(_collated(Organisation.name)), first_day.desc()]
    elif filters.sort == "state":
        in_order = case(*((Cohort.state == state, n) for state, n in STATE_ORDER.items()))
        keys = [direction(in_order), first_day.desc()]
    else:  # participants
        keys = [direction(_enrolled_count()), first_day.desc()]
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


def _enrolled_count() -> ColumnElement[int]:
    return (
        select(func.count())
        .where(Enrolment.cohort_id == Cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .correlate(Cohort)
        .scalar_subquery()
    )


def _enrolled(cohort_ids: Sequence[int]) -> dict[int, int]:
    """People enrolled (not withdrawn) per cohort of the page, in one query."""
    if not cohort_ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.cohort_id, func.count())
        .where(Enrolment.cohort_id.in_(cohort_ids), Enrolment.status == EnrolmentStatus.ENROLLED)
        .group_by(Enrolment.cohort_id)
    )
    return {cohort_id: count for cohort_id, count in rows}


# --- The search ------------------------------------------------------------


def _matching_ids(actor: Actor, query: str) -> list[int]:
    """The ids of the actor's cohorts whose name holds every word of `query`.

    Names are compared in Python rather than by SQL: SQLite's lower() knows
    ASCII only, so neither "ömer" nor "ÖMER" would find "Ömer" there, and no
    expression folds Unicode alike in both databases. An organisation has
    some 40 cohorts a year, so reading the names of all of them is cheap.
    """
    words = [_forms(word) for word in query.split()]
    names = db.session.execute(select(Cohort.id, Cohort.name).where(*_scope(actor)))
    found = []
    for cohort_id, name in names:
        plain, joined = _forms(name)
        if all(w_plain in plain or w_joined in joined for w_plain, w_joined in words):
            found.append(cohort_id)
    return found


def _forms(text: str) -> tuple[str, str]:
    """Two search forms of `text`: any case, accents dropped, umlauts as
    ae/oe/ue ("Müller" → "mueller"); and the same with ae/oe/ue as plain
    vowels ("muller"), so that "muller", "mueller" and "Müller" find each
    other."""
    folded = unicodedata.normalize("NFC", text).casefold()
    for letter, base in _GERMAN_LETTERS:
        folded = folded.replace(letter.casefold(), base + "e")
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    joined = plain.replace("ae", "a").replace("oe", "o").replace("ue", "u")
    return plain, joined


# --- Options and their checks ----------------------------------------------


def _options(actor: Actor) -> Options:
    scope = _scope(actor)
    if actor.user is not None:
        organisations = sorted(actor.user.organisations, key=lambda o: _german_key(o.name))
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
    span = _span(actor)
    spread = db.session.execute(
        select(Cohort.region, func.min(_first_day(span)), func.max(_last_day(span)))
        .outerjoin(span, span.c.cohort_id == Cohort.id)
        .where(*scope)
        .group_by(Cohort.region)
    )
    regions, years = [], set()
    for code, first, last in spread:
        regions.append(Region(code, region_name(code)))
        years.update(range(first.year, last.year + 1))
    return Options(
        organisations=organisations,
        curricula=sorted(curricula, key=lambda c: (c.organisation_id is not None, c.title_de)),
        trainers=sorted(trainers, key=lambda u: _german_key(u.name)),
        years=sorted(years, reverse=True),
        regions=sorted(regions, key=lambda r: _german_key(r.name)),
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


def _german_key(text: str) -> str:
    folded = text.casefold()
    for letter, base in _GERMAN_LETTERS:
        folded = folded.replace(letter.casefold(), base)
    return folded


@lru_cache(maxsize=64)
def region_name(code: str) -> str:
    """A region's name ("DE-BY" → "Bayern"), from the holidays library; the
    code itself where the library has no name for it."""
    country, _, subdivision = code.partition("-")
    try:
        aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {})
    except NotImplementedError:
        return code
    names = {short: name for name, short in aliases.items()}
    return names.get(subdivision, code) if subdivision else code
