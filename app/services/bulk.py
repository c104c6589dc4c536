"""Doing the same thing to many people at once: enrol them in a cohort,
withdraw them from one, send them their personal links.

Enrolling and withdrawing run the single-person use case once per person
(`enrolments.enrol_participant`, `enrolments.withdraw_participant`), so that
its permission check and its rules apply to every record exactly as on that
person's page. Each has a preview
that changes nothing, for the page that asks for confirmation.

Enrolling and withdrawing are all or nothing: one person refused (the cohort
is full before the last of them, a warning not acknowledged) and nobody is
enrolled or withdrawn, so that a group is never half in a cohort. Sending
links issues everyone's new link and queues its message in one transaction;
the worker delivers them (retrying while the mail server is away), and the
delivery log says what became of each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Cohort, Enrolment, EnrolmentStatus, Participant, Purpose
from app.services import announcements, enrolments, policy, tokens, waiting_lists
from app.services.enrolments import EnrolmentError
from app.services.errors import DomainError, InvalidInput
from app.services.policy import Action, Actor
from curricula.messages import Message, msg

# More at once is rather a mistake than a plan (a cohort holds a few dozen).
MOST_AT_ONCE = 1000


@dataclass(frozen=True)
class Person:
    """A person as the confirmation page names them (plain values: a preview
    rolls back, which would expire the records themselves)."""

    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Outcome:
    """What an action would do to one person: `code` is "enrolled",
    "already_enrolled", "withdrawn", "not_enrolled", a warning's code
    (enrolments.WARNINGS) or a refusal's; `message` says why where it is
    not plain."""

    person: Person
    code: str
    message: Message | None = None


@dataclass(frozen=True)
class Plan:
    """The preview of an action on the chosen people."""

    outcomes: list[Outcome]
    # An enrolment's ways to go on (see Option); the first is offered first.
    options: list[Option] = field(default_factory=list)

    def having(self, *codes: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.code in codes]

    @property
    def warnings(self) -> list[Outcome]:
        return self.having(*enrolments.WARNINGS)

    @property
    def refusals(self) -> list[Outcome]:
        plain = {"enrolled", "already_enrolled", "withdrawn", "not_enrolled", "link"}
        return [o for o in self.outcomes if o.code not in plain | enrolments.WARNINGS]


@dataclass(frozen=True)
class Option:
    """One way to carry out a previewed enrolment, exactly as it would go:
    whom it enrols (`enrol`; `acknowledge`: the warnings of some of them
    passed), whom it puts on the cohort's waiting list (`wait`, at its end,
    in this order; `waiting` of them are on it already and keep their
    place), and whom it leaves out (`warned`: not enrolled for their
    warning; `full`: no place left for them)."""

    acknowledge: bool
    enrol: list[Person]
    wait: list[Person] = field(default_factory=list)
    warned: list[Person] = field(default_factory=list)
    full: list[Person] = field(default_factory=list)
    waiting: frozenset[int] = frozenset()

    @property
    def key(self) -> str:
        return ("all" if self.acknowledge else "unwarned") + ("-wait" if self.wait else "")


@dataclass(frozen=True)
class Done:
    """What an action did: `changed` people enrolled or withdrawn (or links
    sent), `unchanged` who were so already, `waiting` put on the waiting
    list; `failure` why sending stopped; `enrolments` the enrolments a
    withdrawal withdrew (for its undo)."""

    changed: int
    unchanged: int
    failure: Message | None = None
    waiting: int = 0
    enrolments: tuple[int, ...] = ()


# Choosing people


@dataclass(frozen=True)
class Entry:
    """One address or number of a pasted list, or a line in which nothing
    was found, with the line it is on."""

    line: int
    text: str


@dataclass(frozen=True)
class Resolution:
    people: list[Participant]
    # Lines in which nobody was found (as the line said), and addresses
    # nobody has.
    unknown: list[Entry]
    # An employee number held by people in two of the actor's organisations.
    ambiguous: list[Entry]


@dataclass(frozen=True)
class Line:
    """A line of a pasted list: its number, what it said, and its cells."""

    number: int
    text: str
    cells: list[str]


_ADDRESS_IN_BRACKETS = re.compile(r"<([^<>]+@[^<>]+)>")


def lines(pasted: str) -> list[Line]:
    """The non-empty lines of a pasted list and their cells: separated by
    tabs (as a spreadsheet copies rows), semicolons or commas; "Name
    <address>" as mail programs copy it counts as the address (the name
    before it may hold a comma, as in "Müller, Anna <anna@…>")."""
    found = []
    for number, line in enumerate(pasted.splitlines(), start=1):
        cells: list[str] = []
        for part in re.split(r"[;\t]", line):
            while bracketed := _ADDRESS_IN_BRACKETS.search(part):
                cells.append(bracketed.group(1).strip())
                part = part[bracketed.end() :]
            cells += [p.strip() for p in part.split(",") if p.strip()]
        if cells:
            shown = " · ".join(c.strip() for c in line.split("\t") if c.strip())
            found.append(Line(number, shown, cells))
    return found


def entries(pasted: str) -> list[Entry]:
    """Every cell of a pasted list, with its line."""
    return [Entry(line.number, cell) for line in lines(pasted) for cell in line.cells]


def resolve(actor: Actor, pasted: str) -> Resolution:
    """The people a pasted list names, by e-mail address (any case) or
    employee number, among those the actor may see; each once, in the
    list's order. Nothing is done with them yet.

    Rows copied from a spreadsheet hold names, departments and the like
    beside the address or number: in a line where someone is found, the
    other cells are left aside, but for an address nobody has. A line in
    which nobody is found is named as unknown once, as it reads."""
    listed = lines(pasted)
    if len(listed) > MOST_AT_ONCE:
        raise _too_many(len(listed))
    cells = [cell for line in listed for cell in line.cells]
    addresses = {c.lower() for c in cells if "@" in c}
    numbers = set(cells)
    statement = select(Participant).where(
        func.lower(Participant.email).in_(addresses) | Participant.employee_number.in_(numbers)
    )
    if actor.organisation_ids is not None:
        statement = statement.where(Participant.organisation_id.in_(actor.organisation_ids))
    by_address: dict[str, Participant] = {}
    by_number: dict[str, list[Participant]] = {}
    for person in db.session.scalars(statement):
        by_address[person.email.lower()] = person
        if person.employee_number:
            by_number.setdefault(person.employee_number, []).append(person)
    people: dict[int, Participant] = {}
    unknown: list[Entry] = []
    ambiguous: list[Entry] = []
    for line in listed:
        found: list[Participant] = []
        strange: list[Entry] = []
        unclear: list[Entry] = []
        for cell in line.cells:
            holders = by_number.get(cell, [])
            addressed = by_address.get(cell.lower())
            if addressed is None and len(holders) > 1:
                unclear.append(Entry(line.number, cell))
            elif addressed is None and holders:
                found.append(holders[0])
            elif addressed is not None:
                found.append(addressed)
            elif "@" in cell:
                strange.append(Entry(line.number, cell))
        for person in found:
            people.setdefault(person.id, person)
        if found:
            unknown += strange
        elif unclear:
            ambiguous += unclear
            unknown += strange
        else:
            unknown.append(Entry(line.number, line.text))
    if len(people) + len(unknown) > MOST_AT_ONCE:
        raise _too_many(len(people) + len(unknown))
    return Resolution(list(people.values()), unknown, ambiguous)


def chosen(actor: Actor, ids: Iterable[int], action: Action) -> list[Participant]:
    """The people with these ids, alphabetically; NotFound when one is not
    the actor's to see, NotPermitted when the action is not theirs to do."""
    wanted = set(ids)
    if not wanted:
        raise InvalidInput(msg("please choose at least one person"), code="nobody_chosen")
    if len(wanted) > MOST_AT_ONCE:
        raise _too_many(len(wanted))
    people = list(
        db.session.scalars(
            select(Participant)
            .where(Participant.id.in_(wanted))
            .order_by(Participant.last_name_key, Participant.first_name_key, Participant.id)
        )
    )
    if len(people) != len(wanted) or not all(policy.visible(actor, p) for p in people):
        raise policy.NotFound()
    for organisation_id in {p.organisation_id for p in people}:
        policy.require(actor, action, organisation_id)
    return people


def _too_many(count: int) -> InvalidInput:
    return InvalidInput(
        msg(
            "{count} people are chosen; at most {most} can be changed at once",
            count=count,
            most=MOST_AT_ONCE,
        ),
        code="too_many",
    )


# Enrolling


def preview_enrolment(
    actor: Actor, cohort_id: int, ids: Sequence[int], now: datetime | None = None
) -> Plan:
    """What enrolling the people would do, changing nothing: the enrolment's
    rules checked for all of them at once (`enrolments.prospects`), so the
    cohort's places run out for the last ones as they would; with the
    options to go on (`Option`): those with a warning enrolled all the same
    or left out, and those without a place put on the waiting list of a
    cohort that keeps one (as the enrolment of one person into a full
    cohort offers), or left out."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    people = chosen(actor, ids, Action.KEEP_PEOPLE)
    prospects = enrolments.prospects(cohort, people)
    return Plan(
        [
            Outcome(_person(p), prospect.code, prospect.message)
            for p, prospect in zip(people, prospects, strict=True)
        ],
        _options(cohort, people, prospects, now or datetime.now(UTC)),
    )


def _options(
    cohort: Cohort,
    people: Sequence[Participant],
    prospects: Sequence[enrolments.Prospect],
    now: datetime,
) -> list[Option]:
    """The ways to go on from a preview (see `preview_enrolment`), each
    different from the others in what it does; none that does nothing."""
    active = {p.participant_id for p in prospects if p.code == "already_enrolled"}
    warned = set(enrolments.warnings_of(cohort, [p for p in people if p.id not in active]))
    warned = {p.id for p in people if p.id in warned and enrolments.closed_to(cohort, p) is None}
    may_wait = cohort.waiting_list and not waiting_lists._begun(cohort, now)
    waiting = (
        frozenset(r.participant_id for r in waiting_lists.list_of(cohort))
        if may_wait
        else frozenset()
    )
    runs = [(False, [p for p in people if p.id not in warned])]
    if warned:
        runs.append((True, list(people)))
    options: list[Option] = []
    for acknowledge, considered in runs:
        run = prospects if acknowledge else enrolments.prospects(cohort, considered)
        by_id = {p.id: p for p in considered}
        enrol = [_person(by_id[o.participant_id]) for o in run if _enrolled_by(o.code)]
        full = [_person(by_id[o.participant_id]) for o in run if o.code == "cohort_full"]
        left = [_person(p) for p in people if p.id in warned] if not acknowledge else []
        variants = [full, []] if may_wait and full else [[]]
        for wait in variants:
            option = Option(
                acknowledge=acknowledge and any(p.id in warned for p in enrol),
                enrol=enrol,
                wait=wait,
                warned=left,
                full=[] if wait else full,
                waiting=waiting,
            )
            same = any(o.enrol == option.enrol and o.wait == option.wait for o in options)
            if (option.enrol or option.wait) and not same:
                options.append(option)
    return options


def _enrolled_by(code: str) -> bool:
    return code == "enrolled" or code in enrolments.WARNINGS


def _person(p: Participant) -> Person:
    return Person(p.id, p.name, p.email)


def enrol(
    actor: Actor,
    cohort_id: int,
    ids: Sequence[int],
    *,
    acknowledge: bool,
    wait: Sequence[int] = (),
    now: datetime | None = None,
) -> Done:
    """Enrol everyone (all or nothing, see the module's text); `acknowledge`
    passes the warnings the preview showed, for all of them at once. Then
    those of `wait` are put on the cohort's waiting list, as a full
    cohort's enrolment page offers for one person (`waiting_lists.join_list`):
    refused for one of them, and nobody is enrolled or put on the list."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    people = chosen(actor, ids, Action.KEEP_PEOPLE) if ids else []
    waiters = chosen(actor, wait, Action.KEEP_PEOPLE) if wait else []
    if {p.id for p in people} & {p.id for p in waiters}:
        raise InvalidInput(
            msg("a person cannot be enrolled and put on the waiting list at once"),
            code="enrol_and_wait",
        )
    if not people and not waiters:
        raise InvalidInput(msg("please choose at least one person"), code="nobody_chosen")
    enrolled = _enrolled_in(cohort.id, people)
    for person in people:
        if person.id in enrolled:
            continue
        try:
            enrolments.enrol_participant(actor, cohort.id, person.id, acknowledge=acknowledge)
        except EnrolmentError as error:
            raise _nothing_done(error, bool(waiters)) from None
    # In the order of the confirmation page (alphabetical), each at the end.
    order = {person_id: n for n, person_id in enumerate(wait)}
    for person in sorted(waiters, key=lambda p: order[p.id]):
        try:
            waiting_lists.join_list(actor, cohort.id, person.id, now)
        except (EnrolmentError, waiting_lists.WaitingListRefused) as error:
            raise _nothing_done(error, True) from None
    return Done(changed=len(people) - len(enrolled), unchanged=len(enrolled), waiting=len(waiters))


def _nothing_done(error: EnrolmentError | DomainError, waiting: bool) -> EnrolmentError:
    if waiting:
        text = msg(
            "nobody was enrolled or put on the waiting list: {reason}", reason=error.message
        )
    else:
        text = msg("nobody was enrolled: {reason}", reason=error.message)
    return EnrolmentError(text, code=error.code)


# Withdrawing


def preview_withdrawal(actor: Actor, cohort_id: int, ids: Sequence[int]) -> Plan:
    """Who is enrolled in the cohort and would be withdrawn, and who is not."""
    policy.require(actor, Action.KEEP_PEOPLE, policy.get(actor, Cohort, cohort_id).organisation_id)
    people = chosen(actor, ids, Action.KEEP_PEOPLE)
    enrolled = _enrolled_in(cohort_id, people)
    return Plan(
        [
            Outcome(
                Person(p.id, p.name, p.email),
                "withdrawn" if p.id in enrolled else "not_enrolled",
            )
            for p in people
        ]
    )


def withdraw(actor: Actor, cohort_id: int, ids: Sequence[int]) -> Done:
    """Withdraw everyone enrolled in the cohort; the others stay as they are."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    people = chosen(actor, ids, Action.KEEP_PEOPLE)
    enrolled = _enrolled_in(cohort.id, people)
    withdrawn = [enrolled[p.id] for p in people if p.id in enrolled]
    for enrolment_id in withdrawn:
        enrolments.withdraw_participant(actor, cohort.id, enrolment_id)
    return Done(
        changed=len(enrolled), unchanged=len(people) - len(enrolled), enrolments=tuple(withdrawn)
    )


def withdrawals(actor: Actor, cohort_id: int, enrolment_ids: Iterable[int]) -> list[Enrolment]:
    """The cohort's enrolments with these ids, by the people's names (after a
    withdrawal of many, for the page that offers to undo it); NotFound when
    one is not the cohort's."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    wanted = set(enrolment_ids)
    if not wanted or len(wanted) > MOST_AT_ONCE:
        raise policy.NotFound()
    found = list(
        db.session.scalars(
            select(Enrolment)
            .join(Participant, Participant.id == Enrolment.participant_id)
            .where(Enrolment.id.in_(wanted), Enrolment.cohort_id == cohort.id)
            .options(selectinload(Enrolment.participant))
            .order_by(Participant.last_name_key, Participant.first_name_key, Participant.id)
        )
    )
    if len(found) != len(wanted):
        raise policy.NotFound()
    return found


def undo_withdrawals(
    actor: Actor, cohort_id: int, stamps: Mapping[int, str], now: datetime
) -> Done:
    """Takes back a withdrawal of many: each enrolment (id → the stamp of
    its withdrawal, as the page after it carries them) as the undo of one
    withdrawal does (`enrolments.undo_withdrawal`: only while nothing has
    moved on since), all or nothing."""
    for enrolment in withdrawals(actor, cohort_id, stamps):
        try:
            enrolments.undo_withdrawal(
                actor, cohort_id, enrolment.id, withdrawn_at=stamps[enrolment.id], now=now
            )
        except EnrolmentError as error:
            raise EnrolmentError(
                msg("{reason} ({name})", reason=error.message, name=enrolment.participant.name),
                code=error.code,
            ) from None
    return Done(changed=len(stamps), unchanged=0)


def undo_hindrance(
    actor: Actor, cohort_id: int, stamps: Mapping[int, str], now: datetime
) -> Message | None:
    """Why the withdrawal of these enrolments cannot be undone now, or None
    when it can: the undo is tried in a savepoint that is always rolled
    back (as `enrolments.undo_hindrance` for one)."""
    savepoint = db.session.begin_nested()
    try:
        undo_withdrawals(actor, cohort_id, stamps, now)
    except EnrolmentError as error:
        return error.message
    finally:
        savepoint.rollback()
    return None


def _enrolled_in(cohort_id: int, people: Sequence[Participant]) -> dict[int, int]:
    """Person id → enrolment id of those enrolled in the cohort now."""
    rows = db.session.execute(
        select(Enrolment.participant_id, Enrolment.id).where(
            Enrolment.cohort_id == cohort_id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Enrolment.participant_id.in_([p.id for p in people]),
        )
    )
    return {person_id: enrolment_id for person_id, enrolment_id in rows}


# Personal links


def preview_links(actor: Actor, ids: Sequence[int]) -> Plan:
    """Everyone chosen gets a new personal link by e-mail."""
    people = chosen(actor, ids, Action.SHARE_LINKS)
    return Plan([Outcome(Person(p.id, p.name, p.email), "link") for p in people])


def send_links(
    actor: Actor,
    ids: Sequence[int],
    link_for: Callable[[str], str],
    keep_cancelled: timedelta,
) -> Done:
    """A new personal link for each, by e-mail in their language with their
    schedule attached: the links are issued and their messages queued in
    this transaction (both or neither), and the worker sends them; each
    person's delivery log says when. Those without an address get none."""
    people = chosen(actor, ids, Action.SHARE_LINKS)
    rows = []
    for person in people:
        if not person.email:
            continue
        token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, person.organisation_id, actor.user)
        row = announcements.personal_link(person, token, link_for, keep_cancelled)
        if row is not None:
            rows.append(row)
    announcements.record_all(rows)
    return Done(changed=len(rows), unchanged=len(people) - len(rows))
