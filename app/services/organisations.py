"""Organisations: the client companies whose people, cohorts and curricula
Qualiplan keeps apart, with what belongs to each (name, region, time zone,
closure days). Admins keep the organisations they belong to; the command
line keeps all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.closures import EARLIEST_YEAR, LATEST_YEAR
from app.extensions import db
from app.models import ClosureDay, Cohort, CohortState, Organisation, Session, SessionStatus
from app.models.cohorts import cohort_trainers, session_trainers
from app.services import history, policy
from app.services.errors import DomainError, InvalidInput, NotFound, expect_version
from app.services.policy import Action, Actor
from app.services.text import NotOneLine, one_line
from cohorts.calendar import Region
from cohorts.errors import UnknownRegion, UnknownTimezone
from cohorts.scheduling import resolve_timezone
from curricula.messages import msg

DEFAULT_TIMEZONE = "Europe/Berlin"
# The columns' lengths are the limits, for every door alike.
NAME_LENGTH = Organisation.__table__.c.name.type.length
REASON_LENGTH = ClosureDay.__table__.c.reason.type.length


class OrganisationExists(DomainError):
    code = "organisation_exists"


class InvalidFields(InvalidInput):
    """Several values of one form are not acceptable: each refusal names its
    field, so that a page shows them all at once, each at its field."""

    def __init__(self, problems: Iterable[DomainError]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        messages = [p.message for p in self.problems]
        whole = first.message if len(messages) == 1 else msg("{problems}", problems=messages)
        super().__init__(whole, code=first.code, field=first.field)


def refuse_all(problems: list[DomainError]) -> None:
    """Raise the one refusal as it is, several as InvalidFields."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidFields(problems)


@dataclass(frozen=True)
class OrganisationWish:
    """An organisation as a form or command describes it."""

    name: str
    region: str
    timezone: str = DEFAULT_TIMEZONE


def create_organisation(
    actor: Actor, name: str, region: str, timezone: str = DEFAULT_TIMEZONE
) -> Organisation:
    """Add an organisation; its name is unique. An admin who adds one
    belongs to it at once (else they could not reach what they made)."""
    policy.require(actor, Action.MANAGE_ORGANISATIONS)
    values = _checked(OrganisationWish(name, region, timezone), None)
    organisation = Organisation(
        name=values.name, default_region=values.region, default_timezone=values.timezone
    )
    db.session.add(organisation)
    if actor.user is not None:
        actor.user.organisations.append(organisation)
    db.session.flush()
    _record(actor, organisation, "organisation_created", values)
    return organisation


def organisations_of(actor: Actor) -> list[Organisation]:
    """The organisations the actor keeps, by name."""
    policy.require(actor, Action.MANAGE_ORGANISATIONS)
    query = select(Organisation).order_by(Organisation.name)
    if actor.organisation_ids is not None:
        query = query.where(Organisation.id.in_(sorted(actor.organisation_ids)))
    return list(db.session.scalars(query))


def managed(actor: Actor, organisation_id: int) -> Organisation:
    """The organisation if the actor belongs to it (else NotFound) and may
    keep it (else NotPermitted)."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.MANAGE_ORGANISATIONS, organisation.id)
    return organisation


def update_organisation(
    actor: Actor, organisation_id: int, wish: OrganisationWish, version: object
) -> Organisation:
    """Name, region and time zone, all checked before anything changes. The
    region and time zone are what new cohorts start from; planned cohorts
    keep their own."""
    organisation = managed(actor, organisation_id)
    expect_version(organisation, version)
    values = _checked(wish, organisation.id)
    before = {
        "name": organisation.name,
        "region": organisation.default_region,
        "timezone": organisation.default_timezone,
    }
    organisation.name = values.name
    organisation.default_region = values.region
    organisation.default_timezone = values.timezone
    after = {"name": values.name, "region": values.region, "timezone": values.timezone}
    if after != before:
        history.record(
            user=actor.user,
            organisation_id=organisation.id,
            subject="organisation",
            subject_id=organisation.id,
            action="organisation_changed",
            before=before,
            after=after,
        )
    return organisation


def _checked(wish: OrganisationWish, organisation_id: int | None) -> OrganisationWish:
    """The wish in its stored form, or a refusal for every field that is wrong."""
    problems: list[DomainError] = []
    name = ""
    try:
        # The name is the sender's name on every e-mail: one line, never empty.
        name = one_line(wish.name, "name", msg("name of the organisation"))
    except NotOneLine as error:
        problems.append(error)
    else:
        problems.extend(_name_problems(name, organisation_id))
    region = wish.region.strip()
    try:
        region = str(Region.parse(region))
    except UnknownRegion as error:
        problems.append(InvalidInput(error.message, code="unknown_region", field="region"))
    timezone = wish.timezone.strip()
    try:
        resolve_timezone(timezone)
    except UnknownTimezone as error:
        problems.append(InvalidInput(error.message, code="unknown_timezone", field="timezone"))
    refuse_all(problems)
    return OrganisationWish(name, region, timezone)


def _name_problems(name: str, organisation_id: int | None) -> list[DomainError]:
    if not name:
        return [
            InvalidInput(msg("the organisation needs a name"), code="empty_name", field="name")
        ]
    if len(name) > NAME_LENGTH:
        too_long = msg("is longer than {count} characters", count=NAME_LENGTH)
        return [InvalidInput(too_long, code="too_long", field="name")]
    taken = select(Organisation.id).where(Organisation.name == name)
    if organisation_id is not None:
        taken = taken.where(Organisation.id != organisation_id)
    if db.session.scalar(taken) is not None:
        exists = msg("an organisation called '{name}' exists already", name=name)
        return [OrganisationExists(exists, field="name")]
    return []


def _record(
    actor: Actor, organisation: Organisation, action: str, values: OrganisationWish
) -> None:
    history.record(
        user=actor.user,
        organisation_id=organisation.id,
        subject="organisation",
        subject_id=organisation.id,
        action=action,
        after={"name": values.name, "region": values.region, "timezone": values.timezone},
    )


# Closure days: days the whole organisation is closed, which planning skips.


@dataclass(frozen=True)
class ClosureYear:
    organisation: Organisation
    year: int
    days: list[ClosureDay]


def closures_in(actor: Actor, organisation_id: int, year: int) -> ClosureYear:
    organisation = managed(actor, organisation_id)
    _check_year(year)
    days = db.session.scalars(
        select(ClosureDay)
        .where(
            ClosureDay.organisation_id == organisation.id,
            ClosureDay.day.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .order_by(ClosureDay.day)
    ).all()
    return ClosureYear(organisation, year, list(days))


def add_closure(
    actor: Actor,
    organisation_id: int,
    year: int,
    first: date,
    last: date | None,
    reason: str,
) -> list[ClosureDay]:
    """The days from `first` to `last` (or `first` alone) become closure
    days of the year, with one reason. Refused as a whole, naming the fields,
    when a day lies outside the year, the range runs backwards, or a day is
    a closure day already."""
    organisation = managed(actor, organisation_id)
    _check_year(year)
    problems: list[DomainError] = []
    try:
        reason = one_line(reason, "reason", msg("reason"))
    except NotOneLine as error:
        problems.append(error)
    if len(reason) > REASON_LENGTH:
        too_long = msg("the reason is longer than {limit} characters", limit=REASON_LENGTH)
        problems.append(InvalidInput(too_long, code="too_long", field="reason"))
    end = last or first
    for field, day in (("first", first), ("last", last)):
        if day is not None and day.year != year:
            outside = msg("{day} does not lie in {year}", day=day, year=str(year))
            problems.append(InvalidInput(outside, code="outside_year", field=field))
    if end < first:
        backwards = msg("the last day lies before the first")
        problems.append(InvalidInput(backwards, code="range_backwards", field="last"))
    refuse_all(problems)
    days = [first + timedelta(days=n) for n in range((end - first).days + 1)]
    taken = db.session.scalars(
        select(ClosureDay.day).where(
            ClosureDay.organisation_id == organisation.id, ClosureDay.day.in_(days)
        )
    ).all()
    if taken:
        exists = msg("{days}: already a closure day", days=sorted(taken))
        raise InvalidInput(exists, code="closure_day_exists", field="first")
    added = [ClosureDay(organisation=organisation, day=day, reason=reason) for day in days]
    db.session.add_all(added)
    db.session.flush()
    history.record(
        user=actor.user,
        organisation_id=organisation.id,
        subject="organisation",
        subject_id=organisation.id,
        action="closure_days_added",
        after={"first": first.isoformat(), "last": end.isoformat(), "reason": reason},
    )
    return added


def remove_closure(actor: Actor, organisation_id: int, closure_id: int) -> ClosureDay:
    """The day is a working day again for cohorts planned from now on."""
    organisation = managed(actor, organisation_id)
    closure = db.session.get(ClosureDay, closure_id)
    if closure is None or closure.organisation_id != organisation.id:
        raise NotFound()
    db.session.delete(closure)
    history.record(
        user=actor.user,
        organisation_id=organisation.id,
        subject="organisation",
        subject_id=organisation.id,
        action="closure_day_removed",
        before={"day": closure.day.isoformat(), "reason": closure.reason},
    )
    return closure


def remove_closures(
    actor: Actor, organisation_id: int, closure_ids: Iterable[int]
) -> list[ClosureDay]:
    """Several days at once (ticked, or a range added together): each is a
    working day again for cohorts planned from now on; refused as a whole
    when one is not the organisation's."""
    managed(actor, organisation_id)  # another organisation's is not found, whatever was ticked
    ids = sorted(set(closure_ids))
    if not ids:
        raise InvalidInput(
            msg("tick the closure days to remove first"), code="nothing_chosen", field="days"
        )
    return [remove_closure(actor, organisation_id, closure_id) for closure_id in ids]


def closure_ranges(days: list[ClosureDay]) -> list[list[ClosureDay]]:
    """The days in runs of consecutive days with one reason, as a range is
    added together ("03.05.–07.05. Inventur"), in date order."""
    runs: list[list[ClosureDay]] = []
    for day in sorted(days, key=lambda d: d.day):
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and day.day - last.day == timedelta(days=1)
            and day.reason == last.reason
        ):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _check_year(year: int) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise NotFound()


# What a change to an organisation's days or people touches.

# The cohorts whose dates are still to be kept.
_LIVE = (CohortState.PLANNED, CohortState.RUNNING)


@dataclass(frozen=True)
class AffectedCohort:
    """A planned or running cohort and its scheduled sessions a change
    touches, by date."""

    cohort: Cohort
    sessions: list[Session]


def _by_cohort(sessions: Iterable[Session]) -> list[AffectedCohort]:
    grouped: dict[int, list[Session]] = {}
    cohorts: dict[int, Cohort] = {}
    for session in sessions:
        grouped.setdefault(session.cohort_id, []).append(session)
        cohorts[session.cohort_id] = session.cohort
    found = [AffectedCohort(cohorts[i], grouped[i]) for i in grouped]
    return sorted(found, key=lambda a: (a.sessions[0].first_day, a.cohort.name))


def _live_sessions() -> select:  # type: ignore[valid-type]
    return (
        select(Session)
        .join(Session.cohort)
        .where(Cohort.state.in_(_LIVE), Session.status == SessionStatus.SCHEDULED)
        .options(selectinload(Session.cohort), selectinload(Session.element))
        .order_by(Session.first_day, Session.starts_at, Session.id)
    )


def sessions_on_days(
    actor: Actor, organisation_id: int, days: Iterable[date]
) -> list[AffectedCohort]:
    """The organisation's planned and running cohorts with a scheduled
    session on one of `days` (closure days just added: the cohorts keep
    their dates until someone re-plans them)."""
    organisation = managed(actor, organisation_id)
    wanted = sorted(set(days))
    if not wanted:
        return []
    first, last = wanted[0], wanted[-1]
    found = db.session.scalars(
        _live_sessions().where(
            Cohort.organisation_id == organisation.id,
            Session.first_day <= last,
            Session.last_day >= first,
        )
    ).all()
    chosen = set(wanted)
    return _by_cohort(
        s
        for s in found
        if any(
            s.first_day + timedelta(days=n) in chosen
            for n in range((s.last_day - s.first_day).days + 1)
        )
    )


def trained_ahead(actor: Actor, user_id: int, today: date) -> list[AffectedCohort]:
    """The planned and running cohorts of the actor's organisations with
    sessions still to come (from `today`) that the person trains, named on
    the session or as a trainer of the whole cohort."""
    named_on_session = select(session_trainers.c.session_id).where(
        session_trainers.c.user_id == user_id
    )
    trains_cohort = select(cohort_trainers.c.cohort_id).where(cohort_trainers.c.user_id == user_id)
    query = _live_sessions().where(
        Session.first_day >= today,
        or_(Session.id.in_(named_on_session), Session.cohort_id.in_(trains_cohort)),
    )
    if actor.organisation_ids is not None:
        query = query.where(Cohort.organisation_id.in_(sorted(actor.organisation_ids)))
    return _by_cohort(db.session.scalars(query))
