"""A full cohort's waiting list: joining it, places that free going to the
first in line, offers accepted, declined or expired, and the list of a
cohort that began carried on to the next cohort of the same curriculum.

The rules are cohorts.waiting_list's; this module loads a cohort's list,
asks the rules what to do and does it. Every change of a list first locks
its cohort's row (SELECT … FOR UPDATE on PostgreSQL; on SQLite every
writing transaction holds the database's write lock from its start), then
reads the enrolments and the list afresh: two withdrawals at the same
moment are handled one after the other, so one place is never offered
twice, nor one person offered two places.

A place is held by an enrolment or by an open offer (`held`), so the
enrolment's own rule "full" (app.services.enrolments.enrol) counts the
open offers of others too. Accepting an offer enrols through
enrolments.enrol, the one place of the enrolment rules.

Messages (kind "offer", app.notices.offers) are recorded in the same
transaction: an offer with its deadline and a one-time link to accept or
decline it, a place given at once, an offer that ran out, a move to the
next cohort's list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import (
    Cohort,
    CohortState,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Session,
    SessionStatus,
)
from app.models.registrations import ON_LIST, Registration, RegistrationState
from app.models.tokens import new_token, token_hash
from app.public_url import external_url
from app.services import enrolments, notifications, policy
from app.services.errors import DomainError
from app.services.policy import Action, Actor
from cohorts import waiting_list as rules
from curricula.messages import msg

KIND = "offer"


class WaitingListRefused(DomainError):
    code = "waiting_list_refused"


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- what the pages ask --------------------------------------------------


def position_of(registration: Registration) -> int | None:
    """The person's place among those waiting for the cohort, from 1 (None
    when they hold an offer or are not on the list)."""
    if registration.state is not RegistrationState.WAITING:
        return None
    earlier = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.cohort_id == registration.cohort_id,
            Registration.state == RegistrationState.WAITING,
            or_(
                Registration.registered_at < registration.registered_at,
                (Registration.registered_at == registration.registered_at)
                & (Registration.id < registration.id),
            ),
        )
    )
    return (earlier or 0) + 1


def lists_of(person: Participant) -> list[Registration]:
    """The person's places on waiting lists (waiting or offered), by cohort start."""
    return list(
        db.session.scalars(
            select(Registration)
            .join(Cohort, Cohort.id == Registration.cohort_id)
            .where(Registration.participant_id == person.id, Registration.state.in_(ON_LIST))
            .order_by(Cohort.start_date, Cohort.id)
        )
    )


def list_of(cohort: Cohort) -> list[Registration]:
    """The cohort's list in its order: open offers first, then those waiting."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.cohort_id == cohort.id, Registration.state.in_(ON_LIST))
            .order_by(Registration.registered_at, Registration.id)
        )
    )


def held_by_others(cohort: Cohort, person: Participant | None = None) -> int:
    """Places of the cohort that open offers hold, but the person's own."""
    query = select(func.count(Registration.id)).where(
        Registration.cohort_id == cohort.id, Registration.state == RegistrationState.OFFERED
    )
    if person is not None:
        query = query.where(Registration.participant_id != person.id)
    return db.session.scalar(query) or 0


def offers_held(cohort_ids: Iterable[int], people: Iterable[int] = ()) -> dict[int, int]:
    """`held_by_others` for many cohorts at once (those with open offers):
    the places open offers hold, but those of `people` (who take their own)."""
    query = (
        select(Registration.cohort_id, func.count(Registration.id))
        .where(
            Registration.cohort_id.in_(list(cohort_ids)),
            Registration.state == RegistrationState.OFFERED,
        )
        .group_by(Registration.cohort_id)
    )
    own = list(people)
    if own:
        query = query.where(Registration.participant_id.not_in(own))
    return {cohort_id: count for cohort_id, count in db.session.execute(query)}


def enrolled_many(pairs: Iterable[tuple[int, int]], now: datetime | None = None) -> None:
    """`enrolled` for many (cohort id, person id) pairs at once (the import's
    enrolments): a place held on a list is now the person's."""
    wanted = set(pairs)
    if not wanted:
        return
    on_lists = db.session.scalars(
        select(Registration).where(
            Registration.cohort_id.in_({cohort_id for cohort_id, _ in wanted}),
            Registration.participant_id.in_({person_id for _, person_id in wanted}),
            Registration.state.in_(ON_LIST),
        )
    )
    for registration in on_lists:
        if (registration.cohort_id, registration.participant_id) in wanted:
            registration.accept(now or now_utc())


# --- staff: joining the list -----------------------------------------------


def join_list(
    actor: Actor, cohort_id: int, participant_id: int, now: datetime | None = None
) -> Registration:
    """Puts the person on the full cohort's waiting list, at its end (on it
    already: their place as it is)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    return join(cohort, person, actor.user, now or now_utc())


def join(cohort: Cohort, person: Participant, actor: Any, now: datetime) -> Registration:
    """The joining step on loaded records (see join_list)."""
    if (closed := enrolments.closed_to(cohort, person)) is not None:
        raise closed
    if not cohort.waiting_list:
        raise WaitingListRefused(
            msg("the cohort '{name}' keeps no waiting list", name=cohort.name),
            code="no_waiting_list",
        )
    lock(cohort)
    if _enrolled(cohort, person):
        raise WaitingListRefused(
            msg("{name} is enrolled in the cohort already", name=person.name),
            code="already_enrolled",
        )
    if _begun(cohort, now):
        raise WaitingListRefused(
            msg("the cohort '{name}' has begun; nobody moves up any more", name=cohort.name),
            code="cohort_begun",
        )
    registration = _registration(cohort, person)
    if registration is not None and registration.state.on_list:
        return registration
    current = _state(cohort, now)
    if current.free is None or (current.free > 0 and not current.waiting):
        raise WaitingListRefused(
            msg("the cohort '{name}' has free places: enrol the person", name=cohort.name),
            code="places_free",
        )
    if registration is None:
        registration = Registration(
            organisation_id=cohort.organisation_id,
            cohort=cohort,
            participant=person,
            state=RegistrationState.REGISTERED,
            registered_at=now,
            changed_at=now,
            created_by_id=getattr(actor, "id", None),
        )
        db.session.add(registration)
    elif registration.state.final:
        registration.register_again(now)
    registration.wait(now)
    db.session.flush()
    _carry_out(cohort, rules.fill(_state(cohort, now), now), now)
    return registration


# --- places that free ------------------------------------------------------


def enrolled(cohort: Cohort, person: Participant, now: datetime | None = None) -> None:
    """After an enrolment (app.services.enrolments.enrol): a place the
    person held on the cohort's list, waiting or offered, is now theirs."""
    registration = _registration(cohort, person)
    if registration is not None and registration.state.on_list:
        registration.accept(now or now_utc())


def enrolment_withdrawn(enrolment: Enrolment, now: datetime | None = None) -> None:
    """After a withdrawal (app.services.enrolments.withdraw), in its
    transaction: the freed place goes to the cohort's list, and the person
    leaves the waiting lists of every cohort of the same curriculum (they
    left the qualification; enrolled again, they can be put on a list again)."""
    now = now or now_utc()
    cohort = enrolment.cohort
    family = enrolments.same_curriculum(cohort.version.curriculum)
    others = db.session.scalars(
        select(Cohort)
        .join(Registration, Registration.cohort_id == Cohort.id)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .where(
            Registration.participant_id == enrolment.participant_id,
            Registration.state.in_(ON_LIST),
            CurriculumVersion.curriculum_id.in_(family),
        )
        .order_by(Cohort.id)
    ).all()
    # Every cohort concerned locked first, in one order (by id), so that two
    # such withdrawals cannot wait for each other's locks.
    for concerned in sorted({cohort, *others}, key=lambda c: c.id):
        lock(concerned)
    registration = _registration(cohort, enrolment.participant)
    if registration is not None and registration.state is RegistrationState.ACCEPTED:
        registration.withdraw(now)
    for other in others:
        _leave(other, enrolment.participant, now)
    places_freed(cohort, now)


def places_freed(cohort: Cohort, now: datetime | None = None) -> None:
    """The cohort's free places (a withdrawal, the capacity raised) go to the
    first in line; nothing when it keeps no list or nobody waits."""
    now = now or now_utc()
    lock(cohort)  # also against someone joining the list meanwhile
    if not _anyone_waiting(cohort):
        return
    _carry_out(cohort, rules.fill(_state(cohort, now), now), now)


def leave_every_list(person: Participant, now: datetime | None = None) -> int:
    """The person leaves every waiting list; an offer they held goes to the
    next in line. Answers how many lists they left."""
    now = now or now_utc()
    cohorts = db.session.scalars(
        select(Cohort)
        .join(Registration, Registration.cohort_id == Cohort.id)
        .where(Registration.participant_id == person.id, Registration.state.in_(ON_LIST))
        .order_by(Cohort.id)
    ).all()
    for cohort in cohorts:
        _leave(cohort, person, now)
    return len(cohorts)


def _leave(cohort: Cohort, person: Participant, now: datetime) -> None:
    lock(cohort)
    _carry_out(cohort, rules.leaving(_state(cohort, now), person.id, now), now)


# --- the offer's link ----------------------------------------------------------


def offer_of(token: str) -> Registration | None:
    """The open offer the link's token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    registration = db.session.scalar(
        select(Registration).where(Registration.offer_token_hash == token_hash(token))
    )
    if registration is None or registration.state is not RegistrationState.OFFERED:
        return None
    return registration


def accept_offer(token: str, now: datetime | None = None) -> Registration:
    """The person takes the place offered: enrolled (the enrolment's rules apply)."""
    now = now or now_utc()
    registration = _offered(token)
    cohort = registration.cohort
    lock(cohort)
    db.session.refresh(registration)
    try:
        rules.accept(_state(cohort, now), registration.id, now)
    except rules.WaitingListError as error:
        raise WaitingListRefused(_refusal(error), code="offer_closed") from None
    enrolments.enrol(cohort, registration.participant, None)  # accepts it (`enrolled`)
    _placed(registration, now)
    return registration


def decline_offer(token: str, now: datetime | None = None) -> Registration:
    """The person declines the place; it goes to the next in line."""
    now = now or now_utc()
    registration = _offered(token)
    cohort = registration.cohort
    lock(cohort)
    db.session.refresh(registration)
    try:
        moves = rules.decline(_state(cohort, now), registration.id, now)
    except rules.WaitingListError as error:
        raise WaitingListRefused(_refusal(error), code="offer_closed") from None
    _carry_out(cohort, moves, now)
    return registration


def _offered(token: str) -> Registration:
    registration = offer_of(token)
    if registration is None:
        raise policy.NotFound()
    return registration


def _refusal(error: rules.WaitingListError):  # type: ignore[no-untyped-def]
    text = str(error)
    if "begun" in text:
        return msg("the cohort has begun; the offer can no longer be accepted")
    if "expired" in text:
        return msg("the offer has expired")
    return msg("the offer is no longer open")


# --- the periodic sweep --------------------------------------------------------


def sweep(now: datetime | None = None) -> int:
    """Offers past their deadline end and go to the next in line; places
    left free go to the list (a capacity raised elsewhere); the lists of
    cohorts that began are carried to the next cohort of their curriculum.
    Answers how many cohorts' lists were looked at."""
    now = now or now_utc()
    cohort_ids = db.session.scalars(
        select(Registration.cohort_id)
        .where(Registration.state.in_(ON_LIST))
        .group_by(Registration.cohort_id)
        .order_by(Registration.cohort_id)
    ).all()
    for cohort_id in cohort_ids:
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is None:
            continue
        lock(cohort)
        current = _state(cohort, now)
        if current.begun:
            _start(cohort, current, now)
        else:
            _carry_out(cohort, rules.expire(current, now), now)
    return len(cohort_ids)


def _start(cohort: Cohort, current: rules.WaitingList, now: datetime) -> None:
    """The cohort has begun: open offers end; the people waiting go to the
    next cohort of the same curriculum, keeping their time of registration
    (without a next cohort they stay, until one is planned)."""
    moves = rules.started(current)
    target = next_cohort(cohort, now)
    if target is None:
        moves = rules.Moves(expired=moves.expired)
    _carry_out(cohort, moves, now)
    if target is None or not moves.carried:
        return
    lock(target)
    carried = [r for r in _by_ids(moves.carried)]
    for registration in carried:
        registration.move_on(now)
        mine = _registration(target, registration.participant)
        if _enrolled(target, registration.participant):
            continue
        if mine is None:
            mine = Registration(
                organisation_id=target.organisation_id,
                cohort=target,
                participant=registration.participant,
                state=RegistrationState.WAITING,
                registered_at=registration.registered_at,
                changed_at=now,
            )
            db.session.add(mine)
        elif mine.state.final:
            mine.register_again(now)
            mine.wait(now)
            mine.registered_at = registration.registered_at
        else:
            continue  # on that list already, or registered there
        db.session.flush()
        _tell(target, mine, "carried", now, previous=cohort)
    _carry_out(target, rules.fill(_state(target, now), now), now)


def next_cohort(cohort: Cohort, now: datetime) -> Cohort | None:
    """The next planned cohort of the same curriculum in the organisation
    that keeps a list and has not begun."""
    family = enrolments.same_curriculum(cohort.version.curriculum)
    candidates = db.session.scalars(
        select(Cohort)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .where(
            Cohort.organisation_id == cohort.organisation_id,
            Cohort.id != cohort.id,
            Cohort.state == CohortState.PLANNED,
            Cohort.waiting_list.is_(True),
            Cohort.start_date >= cohort.start_date,
            CurriculumVersion.curriculum_id.in_(family),
        )
        .order_by(Cohort.start_date, Cohort.id)
    )
    for candidate in candidates:
        if not _begun(candidate, now):
            return candidate
    return None


# --- loading and carrying out ------------------------------------------------


def lock(cohort: Cohort) -> None:
    """Holds the cohort's row until the transaction ends: its list changes
    one transaction after another (on SQLite the write lock does it).

    FOR NO KEY UPDATE: two of them wait for each other, but not for the key
    share locks that rows referring to the cohort take (the withdrawal's
    notifications, inserted before), which FOR UPDATE would deadlock on."""
    db.session.flush()
    db.session.execute(
        select(Cohort.id).where(Cohort.id == cohort.id).with_for_update(key_share=True)
    )


def _state(cohort: Cohort, now: datetime) -> rules.WaitingList:
    db.session.flush()
    rows = db.session.execute(
        select(
            Registration.id,
            Registration.participant_id,
            Registration.registered_at,
            Registration.state,
            Registration.offer_expires_at,
        ).where(
            Registration.cohort_id == cohort.id,
            Registration.state.in_(ON_LIST),
            # Someone enrolled by a way that passes the list (a file import)
            # holds their place already.
            ~select(Enrolment.id)
            .where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.participant_id == Registration.participant_id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
            .exists(),
        )
    )
    entries = tuple(
        rules.Entry(
            id=id_,
            person=person,
            registered_at=registered_at,
            offered_until=until if state is RegistrationState.OFFERED else None,
        )
        for id_, person, registered_at, state, until in rows
    )
    organisation = cohort.organisation
    mode = (
        rules.Mode.MOVE_UP
        if organisation.waiting_list_mode == rules.Mode.MOVE_UP
        else rules.Mode.OFFER
    )
    return rules.WaitingList(
        entries,
        capacity=cohort.capacity,
        enrolled=enrolments.enrolled_count(cohort),
        mode=mode,
        begun=_begun(cohort, now),
        offer_days=max(organisation.offer_days or 1, 1),
    )


def _carry_out(cohort: Cohort, moves: rules.Moves, now: datetime) -> None:
    if moves.nothing:
        return
    for registration in _by_ids(moves.expired):
        registration.expire_offer(now)
        _tell(cohort, registration, "expired", now)
    for registration in _by_ids(moves.declined):
        registration.decline_offer(now)
    for registration in _by_ids(moves.withdrawn):
        registration.withdraw(now)
    db.session.flush()
    by_id = {r.id: r for r in _by_ids([o.entry for o in moves.offers])}
    for offer in moves.offers:
        registration = by_id[offer.entry]
        token = new_token()
        registration.offer(now, offer.until, token_hash(token))
        _tell(cohort, registration, "offer", now, token=token)
    for registration in _by_ids(moves.move_up):
        enrolments.enrol(cohort, registration.participant, None)  # accepts it (`enrolled`)
        _placed(registration, now)
        _tell(cohort, registration, "moved_up", now)
    db.session.flush()


def _placed(registration: Registration, now: datetime) -> None:
    """The registration accepted, also where the person was enrolled already."""
    db.session.flush()
    db.session.refresh(registration)
    if registration.state.on_list:
        registration.accept(now)


def about_cohort(cohort: Cohort, what: str) -> dict[str, Any]:
    """What every message about a place in `cohort` says (the offers' and
    the registrations'): the step, the cohort, its start, the organisation
    and its sender."""
    organisation = cohort.organisation
    payload: dict[str, Any] = {
        "what": what,
        "cohort": cohort.name,
        "start": cohort.start_date.isoformat(),
        "organisation": organisation.name,
        "timezone": cohort.timezone,
    }
    sender = notifications.sender_of(organisation)
    if sender:
        payload["from"] = sender
    return payload


def _by_ids(ids: Iterable[int]) -> list[Registration]:
    wanted = list(ids)
    if not wanted:
        return []
    found = {
        r.id: r
        for r in db.session.scalars(
            select(Registration)
            .where(Registration.id.in_(wanted))
            .execution_options(populate_existing=True)
        )
    }
    return [found[i] for i in wanted]


def _tell(
    cohort: Cohort,
    registration: Registration,
    what: str,
    now: datetime,
    *,
    token: str | None = None,
    previous: Cohort | None = None,
) -> None:
    person = registration.participant
    if not person.email:
        return
    payload = about_cohort(cohort, what)
    if what == "offer":
        payload["until"] = registration.offer_expires_at.isoformat()  # type: ignore[union-attr]
        payload["link"] = external_url("offers.answer", token=token)
    if what == "carried":
        payload["previous"] = previous.name if previous is not None else ""
        payload["position"] = position_of(registration)
    # Where they stand, as every message about their registration says.
    from app.services.registrations import status_link

    payload["status"] = status_link(registration, now)
    notifications.record(
        kind=KIND,
        key=f"{KIND}:{what}:{registration.id}:{now.isoformat()}",
        address=person.email,
        organisation_id=cohort.organisation_id,
        payload=payload,
        language=person.language or "de",
        name=person.name,
        cohort_id=cohort.id,
        participant_id=person.id,
    )


def _registration(cohort: Cohort, person: Participant) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.cohort_id == cohort.id, Registration.participant_id == person.id)
        .execution_options(populate_existing=True)
    )


def _enrolled(cohort: Cohort, person: Participant) -> bool:
    return (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.participant_id == person.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
        )
        or 0
    ) > 0


def _anyone_waiting(cohort: Cohort) -> bool:
    return (
        db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.cohort_id == cohort.id, Registration.state.in_(ON_LIST)
            )
        )
        or 0
    ) > 0


def _begun(cohort: Cohort, now: datetime) -> bool:
    """Whether the cohort's first session (not cancelled) has begun."""
    if cohort.state is not CohortState.PLANNED and cohort.state is not CohortState.RUNNING:
        return True
    sessions = db.session.scalars(
        select(Session).where(
            Session.cohort_id == cohort.id,
            Session.status != SessionStatus.CANCELLED,
            Session.first_day <= now.date(),
        )
    )
    return any(enrolments._begun(s, now) for s in sessions)
