"""Tandems of a cohort: the trainer asks for a proposal, swaps and locks,
and confirms; confirmed tandems are what participants see and what later
pairings must not repeat.

The pairing itself is `cohorts.pairing`; this module turns stored people,
history and locks into its input and its output into rows. Every change
touches the cohort row, so two trainers working on the same proposal cannot
overwrite each other unnoticed (the cohort's lock version is checked).

The use cases of the tandem page take the actor first and check
`Action.FORM_TANDEMS`; `propose` and `confirm` are also steps on a loaded
cohort without a permission check, for the demo data and tests.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    NotTogether,
    Participant,
    Tandem,
    TandemMember,
    TandemState,
    User,
)
from app.services import history, policy
from app.services.errors import DomainError, StaleEdit
from app.services.policy import Action, Actor
from cohorts.pairing import Pairing, Person, pair, problems, replace_withdrawn
from curricula.messages import Message, msg


class TandemError(DomainError):
    """A tandem change that cannot be made (unknown person, locked tandem, …)."""

    code = "tandems_refused"


TANDEMS_CHANGED = msg(
    "someone else changed the tandems of this cohort in the meantime; "
    "the page now shows the current state, please check and try again"
)


# Reading


def enrolled(cohort: Cohort) -> list[Participant]:
    return list(
        db.session.scalars(
            select(Participant)
            .join(Enrolment, Enrolment.participant_id == Participant.id)
            .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
            .order_by(Participant.last_name, Participant.first_name, Participant.id)
        )
    )


def tandems(cohort: Cohort, state: TandemState) -> list[Tandem]:
    return list(
        db.session.scalars(
            select(Tandem)
            .where(Tandem.cohort_id == cohort.id, Tandem.state == state)
            .options(selectinload(Tandem.members).selectinload(TandemMember.participant))
            .order_by(Tandem.id)
        )
    )


def partners(participant_id: int) -> dict[int, list[str]]:
    """Per cohort, the names of the participant's confirmed tandem partners."""
    mine = (
        select(TandemMember.tandem_id)
        .join(Tandem, Tandem.id == TandemMember.tandem_id)
        .where(
            TandemMember.participant_id == participant_id, Tandem.state == TandemState.CONFIRMED
        )
    )
    rows = db.session.execute(
        select(Tandem.cohort_id, Participant.first_name, Participant.last_name)
        .join(TandemMember, TandemMember.tandem_id == Tandem.id)
        .join(Participant, Participant.id == TandemMember.participant_id)
        .where(Tandem.id.in_(mine), Participant.id != participant_id)
        .order_by(Participant.last_name, Participant.first_name)
    )
    found: dict[int, list[str]] = {}
    for cohort_id, first, last in rows:
        found.setdefault(cohort_id, []).append(f"{first} {last}")
    return found


def withdrawn_members(
    confirmed: Sequence[Tandem], present: Sequence[Participant]
) -> list[Participant]:
    """People in a confirmed tandem who are no longer enrolled."""
    ids = {p.id for p in present}
    return [person for tandem in confirmed for person in tandem.people if person.id not in ids]


def unpaired(confirmed: Sequence[Tandem], present: Sequence[Participant]) -> list[Participant]:
    """Enrolled people in no confirmed tandem, once the cohort has tandems."""
    if not confirmed:
        return []
    placed = {p.id for t in confirmed for p in t.people}
    return [p for p in present if p.id not in placed]


def reasons(tandem: Tandem) -> list[Message]:
    return [Message(template, tuple(values.items())) for template, values in tandem.reasons]


# The core's input


def people(cohort: Cohort, participants: Sequence[Participant]) -> list[Person]:
    """The core's view of the people: the manager is whoever in the
    organisation has the manager's e-mail address."""
    managers = {
        email.lower(): person_id
        for person_id, email in db.session.execute(
            select(Participant.id, Participant.email).where(
                Participant.organisation_id == cohort.organisation_id
            )
        )
    }
    return [
        Person(
            id=str(p.id),
            name=p.name,
            department=p.department.strip() or None,
            site=p.site.strip() or None,
            organisation=str(p.organisation_id),
            manager=_manager(p, managers),
        )
        for p in participants
    ]


def _manager(person: Participant, managers: dict[str, int]) -> str | None:
    email = person.manager_email.strip().lower()
    if not email:
        return None
    found = managers.get(email)
    return str(found) if found is not None else f"email:{email}"


def earlier_pairs(cohort: Cohort) -> list[tuple[str, ...]]:
    """Tandems that were confirmed in other cohorts of the organisation."""
    rows = db.session.execute(
        select(TandemMember.tandem_id, TandemMember.participant_id)
        .join(Tandem, Tandem.id == TandemMember.tandem_id)
        .join(Cohort, Cohort.id == Tandem.cohort_id)
        .where(
            Cohort.organisation_id == cohort.organisation_id,
            Tandem.cohort_id != cohort.id,
            Tandem.confirmed_at.is_not(None),
        )
    )
    grouped: dict[int, list[str]] = {}
    for tandem_id, participant_id in rows:
        grouped.setdefault(tandem_id, []).append(str(participant_id))
    return [tuple(members) for members in grouped.values()]


def not_together(cohort: Cohort) -> list[NotTogether]:
    return list(
        db.session.scalars(
            select(NotTogether)
            .where(NotTogether.organisation_id == cohort.organisation_id)
            .options(selectinload(NotTogether.first), selectinload(NotTogether.second))
            .order_by(NotTogether.id)
        )
    )


def _not_together_pairs(cohort: Cohort) -> list[tuple[str, str]]:
    return [(str(n.first_id), str(n.second_id)) for n in not_together(cohort)]


# Changing: the use cases of the tandem page


def propose_tandems(
    actor: Actor, cohort_id: int, *, version: object, shuffle: bool = False
) -> Pairing:
    """A new proposal (`shuffle`: a different one than the last)."""
    return propose(
        _planned(actor, cohort_id), actor.user, expected_version=version, shuffle=shuffle
    )


def replace_withdrawn_partners(actor: Actor, cohort_id: int, *, version: object) -> Pairing:
    """A proposal that keeps every confirmed tandem that lost nobody and
    places the partners of people who withdrew."""
    cohort = _planned(actor, cohort_id)
    _check(cohort, version)
    participants = enrolled(cohort)
    present = {str(p.id) for p in participants}
    current = tandems(cohort, TandemState.CONFIRMED)
    gone = {i for t in current for i in _ids(t)} - present
    if not gone:
        raise TandemError(
            msg("nobody in a confirmed tandem has withdrawn"), code="nobody_withdrew"
        )
    result = replace_withdrawn(
        people(cohort, participants),
        [_ids(t) for t in current],
        gone,
        history=earlier_pairs(cohort),
        not_together=_not_together_pairs(cohort),
        locked=[_ids(t) for t in current if t.locked and set(_ids(t)) <= present],
    )
    _store_proposal(cohort, result)
    return result


def swap_places(
    actor: Actor, cohort_id: int, first_id: int, second_id: int, *, version: object
) -> Pairing:
    """Exchange two people between tandems of the proposal; the tandems are
    scored again. Locked tandems stay as they are."""
    cohort = _planned(actor, cohort_id)
    _check(cohort, version)
    proposal = tandems(cohort, TandemState.PROPOSED)
    where = {p.id: t for t in proposal for p in t.people}
    if first_id not in where or second_id not in where:
        raise TandemError(msg("both people must be in the proposal"), code="not_in_proposal")
    first, second = where[first_id], where[second_id]
    if first is second:
        raise TandemError(msg("the two people are already in the same tandem"), code="same_tandem")
    if first.locked or second.locked:
        raise TandemError(msg("a locked tandem cannot change; unlock it first"), code="locked")
    arrangement = [list(_ids(t)) for t in proposal]
    a, b = proposal.index(first), proposal.index(second)
    arrangement[a][arrangement[a].index(str(first_id))] = str(second_id)
    arrangement[b][arrangement[b].index(str(second_id))] = str(first_id)
    participants = [p for t in proposal for p in t.people]
    result = _evaluate(cohort, participants, arrangement, [t.locked for t in proposal])
    _store_proposal(cohort, result)
    return result


def lock_tandem(
    actor: Actor, cohort_id: int, tandem_id: int, locked: bool, *, version: object
) -> None:
    """Lock a tandem (forming the rest again keeps it) or unlock it."""
    cohort = _planned(actor, cohort_id)
    tandem = find_tandem(actor, cohort_id, tandem_id)
    _check(cohort, version)
    if tandem.state is TandemState.ENDED:
        raise TandemError(
            msg("this tandem is not part of the cohort's current tandems"), code="tandem_ended"
        )
    tandem.locked = locked


def find_tandem(actor: Actor, cohort_id: int, tandem_id: int) -> Tandem:
    """A tandem of the cohort (of another cohort: not found)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    tandem = db.session.get(Tandem, tandem_id)
    if tandem is None or tandem.cohort_id != cohort.id:
        raise policy.NotFound()
    return tandem


def discard_proposal(actor: Actor, cohort_id: int, *, version: object) -> None:
    cohort = _planned(actor, cohort_id)
    _check(cohort, version)
    for tandem in tandems(cohort, TandemState.PROPOSED):
        db.session.delete(tandem)


def confirm_tandems(actor: Actor, cohort_id: int, *, version: object) -> list[Tandem]:
    """The proposal becomes the cohort's tandems."""
    return confirm(_planned(actor, cohort_id), actor.user, expected_version=version)


def keep_apart(
    actor: Actor, cohort_id: int, first_id: int, second_id: int
) -> tuple[Participant, Participant]:
    """The two people are never proposed as a tandem (in every cohort of
    their organisation)."""
    cohort = _planned(actor, cohort_id)
    first = policy.get(actor, Participant, first_id)
    second = policy.get(actor, Participant, second_id)
    if first.id == second.id:
        raise TandemError(msg("choose two different people"), code="same_person")
    for person in (first, second):
        if person.organisation_id != cohort.organisation_id:
            raise TandemError(
                msg("the person belongs to another organisation"), code="other_organisation"
            )
    low, high = sorted((first.id, second.id))
    exists = db.session.scalar(
        select(NotTogether.id).where(NotTogether.first_id == low, NotTogether.second_id == high)
    )
    if exists is None:
        db.session.add(
            NotTogether(
                organisation_id=cohort.organisation_id,
                first_id=low,
                second_id=high,
                created_by=actor.user,
            )
        )
    return first, second


def allow_together(actor: Actor, cohort_id: int, entry_id: int) -> None:
    """Take a pair off the never-together list."""
    cohort = _planned(actor, cohort_id)
    entry = db.session.get(NotTogether, entry_id)
    if entry is None or entry.organisation_id != cohort.organisation_id:
        raise policy.NotFound()
    db.session.delete(entry)


# Steps on a loaded cohort, without a permission check


def propose(
    cohort: Cohort, actor: User | None, *, expected_version: object, shuffle: bool = False
) -> Pairing:
    """A new proposal for everyone enrolled; locked tandems of the current
    proposal (or of the confirmed tandems) are kept as they are."""
    _check(cohort, expected_version)
    given = pairing_input(cohort, shuffle=shuffle)
    cohort.pairing_seed = given.seed
    result = compute(given)
    _store_proposal(cohort, result)
    return result


@dataclass(frozen=True)
class PairingInput:
    """What the pairing needs of a cohort, read in one go, so that the
    computation can run without holding the database (a job does)."""

    people: list[Person]
    history: list[tuple[str, ...]]
    not_together: list[tuple[str, str]]
    locked: list[tuple[str, ...]]
    seed: int | None


def pairing_input(cohort: Cohort, *, shuffle: bool = False) -> PairingInput:
    """The people enrolled, the pairs of earlier cohorts, the pairs kept
    apart and the locked tandems to keep; `shuffle` draws a new seed."""
    participants = enrolled(cohort)
    present = {str(p.id) for p in participants}
    basis = tandems(cohort, TandemState.PROPOSED) or tandems(cohort, TandemState.CONFIRMED)
    return PairingInput(
        people=people(cohort, participants),
        history=earlier_pairs(cohort),
        not_together=_not_together_pairs(cohort),
        locked=[_ids(t) for t in basis if t.locked and set(_ids(t)) <= present],
        seed=secrets.randbelow(2**31) if shuffle else cohort.pairing_seed,
    )


def compute(given: PairingInput) -> Pairing:
    """The pairing core on what `pairing_input` read (no database)."""
    return pair(
        given.people,
        history=given.history,
        not_together=given.not_together,
        locked=given.locked,
        seed=given.seed,
    )


def check_version(cohort: Cohort, expected_version: object) -> None:
    """Refuses a page someone else changed since (before work is queued)."""
    if str(cohort.lock_version) != str(expected_version):
        raise StaleEdit(TANDEMS_CHANGED)


def store_computed(
    cohort: Cohort, result: Pairing, *, expected_version: object, seed: int | None
) -> None:
    """Keeps a proposal computed apart from its reading (a job): refused
    when the cohort's tandems changed since the work was asked for."""
    _check(cohort, expected_version)
    cohort.pairing_seed = seed
    _store_proposal(cohort, result)


def confirm(cohort: Cohort, actor: User | None, *, expected_version: object) -> list[Tandem]:
    """The proposal becomes the cohort's tandems; the tandems it replaces end
    and stay in the history."""
    _check(cohort, expected_version)
    proposal = tandems(cohort, TandemState.PROPOSED)
    if not proposal:
        raise TandemError(msg("there is no proposal to confirm"), code="no_proposal")
    present = {p.id: p for p in enrolled(cohort)}
    placed = [p.id for t in proposal for p in t.people]
    missing = [present[i].name for i in present if i not in placed]
    left = sorted({p.name for t in proposal for p in t.people if p.id not in present})
    if missing or left:
        problems = []
        if missing:
            problems.append(msg("not in the proposal: {names}", names=missing))
        if left:
            problems.append(msg("no longer enrolled: {names}", names=left))
        raise TandemError(
            msg(
                "the proposal no longer matches the cohort ({problems}); form the tandems again",
                problems=problems,
            ),
            code="proposal_outdated",
        )
    now = datetime.now(UTC)
    for tandem in tandems(cohort, TandemState.CONFIRMED):
        tandem.state, tandem.ended_at = TandemState.ENDED, now
    for tandem in proposal:
        tandem.state, tandem.confirmed_at = TandemState.CONFIRMED, now
    history.record(
        user=actor,
        organisation_id=cohort.organisation_id,
        cohort_id=cohort.id,
        subject="tandems",
        subject_id=cohort.id,
        action="tandems",
        after={"tandems": [[p.name for p in t.people] for t in proposal]},
    )
    return proposal


# Helpers


def _planned(actor: Actor, cohort_id: int) -> Cohort:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.FORM_TANDEMS, cohort.organisation_id)
    return cohort


def _check(cohort: Cohort, expected_version: object) -> None:
    """Refuse work based on a page that someone else has changed since; the
    write then moves the cohort's version on (checked again by the UPDATE)."""
    if str(cohort.lock_version) != str(expected_version):
        raise StaleEdit(TANDEMS_CHANGED)
    cohort.updated_at = datetime.now(UTC)


def _ids(tandem: Tandem) -> tuple[str, ...]:
    return tuple(str(m.participant_id) for m in tandem.members)


def _evaluate(
    cohort: Cohort,
    participants: Sequence[Participant],
    arrangement: Sequence[Sequence[str]],
    locks: Sequence[bool],
) -> Pairing:
    """Scores and reasons of a given arrangement (every tandem kept as it is);
    a tandem that breaks a rule is refused with the core's reason."""
    persons, history = people(cohort, participants), earlier_pairs(cohort)
    apart = _not_together_pairs(cohort)
    broken = problems(persons, arrangement, history=history, not_together=apart)
    if broken:
        raise TandemError(broken[0], code="rule_broken")
    result = pair(persons, history=history, not_together=apart, locked=arrangement)
    locked_sets = {frozenset(ids) for ids, lock in zip(arrangement, locks, strict=True) if lock}
    return Pairing(
        tandems=tuple(
            replace(t, locked=frozenset(t.members) in locked_sets) for t in result.tandems
        ),
        score=result.score,
        warnings=result.warnings,
    )


def _store_proposal(cohort: Cohort, result: Pairing) -> None:
    for old in tandems(cohort, TandemState.PROPOSED):
        db.session.delete(old)
    db.session.flush()
    for proposed in result.tandems:
        db.session.add(
            Tandem(
                cohort=cohort,
                state=TandemState.PROPOSED,
                locked=proposed.locked,
                score=proposed.score,
                reasons=_plain_reasons(proposed.reasons),
                members=[TandemMember(participant_id=int(i)) for i in proposed.members],
            )
        )
    db.session.flush()


def _plain_reasons(messages: Iterable[Message]) -> list[list[Any]]:
    return [[m.template, {k: _plain(v) for k, v in m.values}] for m in messages]


def _plain(value: Any) -> Any:
    if isinstance(value, str | int):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)
