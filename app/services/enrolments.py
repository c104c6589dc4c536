"""Enrolling participants in cohorts and withdrawing them; history is kept.

`enrol_participant` and `withdraw_participant` are the use cases every door
calls (page, API): permission, the cohort's rules and the warnings about a
person who is qualified already or busy in another cohort of the curriculum.
`enrol` and `withdraw` are their steps on loaded records, for the file import
and for setting up data; they hold the cohort's own rules (organisation,
closed, full) and check no permission.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Certificate,
    Cohort,
    CohortState,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Session,
    SessionStatus,
    Tandem,
    TandemMember,
    TandemState,
    User,
)
from app.models.certificates import serial_label
from app.services import announcements, history, policy, waiting_lists
from app.services.errors import DomainError
from app.services.policy import Action, Actor
from curricula.messages import Message, msg

OPEN_STATES = (CohortState.PLANNED, CohortState.RUNNING)
# The refusals that an "enrol anyway" can pass (see enrol_participant).
WARNINGS = frozenset({"already_certified", "enrolled_elsewhere", "with_manager"})


class EnrolmentError(DomainError):
    """An enrolment is refused (closed or full cohort, another organisation,
    or a warning not acknowledged)."""

    code = "enrolment_refused"


@dataclass(frozen=True)
class EnrolmentWarning:
    code: str  # one of WARNINGS
    message: Message


def enrolled_count(cohort: Cohort) -> int:
    return (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
        or 0
    )


def enrol_participant(
    actor: Actor, cohort_id: int, participant_id: int, *, acknowledge: bool = False
) -> Enrolment:
    """Enrol the person in the cohort (enrolled already: the enrolment as it
    is). A person who holds a certificate in force for the cohort's curriculum,
    is enrolled in another open cohort of it, or would be in the cohort with
    their manager or someone they manage, is refused with the reason (codes
    `already_certified`, `enrolled_elsewhere`, `with_manager`) unless
    `acknowledge`."""
    cohort = policy.get(actor, Cohort, cohort_id)
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    if _active(cohort, person) is None and not acknowledge:
        found = warnings(cohort, person)
        if found:
            raise EnrolmentError(found[0].message, code=found[0].code)
    return enrol(cohort, person, actor.user)


def withdraw_participant(actor: Actor, cohort_id: int, enrolment_id: int) -> Enrolment:
    """Withdraw an enrolment of the cohort (withdrawn already: nothing changes)."""
    enrolment = _enrolment(actor, cohort_id, enrolment_id)
    withdraw(enrolment, actor.user)
    return enrolment


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing an enrolment would do, for the page that asks first."""

    enrolment: Enrolment
    # The cohort's sessions that have not begun and are not cancelled: the
    # person leaves them (and their calendars).
    coming: list[Session]
    # Confirmed tandem partners in the cohort, who lose the person.
    partners: list[str]
    # The certificate in force from this cohort: it stays in force. Without
    # one, no certificate of the cohort can be issued once withdrawn.
    certificate: Certificate | None


def withdrawal(actor: Actor, cohort_id: int, enrolment_id: int, now: datetime) -> Withdrawal:
    """The consequences of withdrawing the enrolment; nothing changes."""
    enrolment = _enrolment(actor, cohort_id, enrolment_id)
    sessions = db.session.scalars(
        select(Session)
        .where(Session.cohort_id == enrolment.cohort_id, Session.status != SessionStatus.CANCELLED)
        .options(joinedload(Session.element), joinedload(Session.cohort))
        .order_by(Session.first_day, Session.starts_at, Session.id)
    )
    partners = db.session.scalars(
        select(Participant)
        .join(TandemMember, TandemMember.participant_id == Participant.id)
        .join(Tandem, Tandem.id == TandemMember.tandem_id)
        .where(
            Tandem.cohort_id == enrolment.cohort_id,
            Tandem.state == TandemState.CONFIRMED,
            Tandem.id.in_(_tandems_of(enrolment)),
            Participant.id != enrolment.participant_id,
        )
        .order_by(Participant.last_name_key, Participant.first_name_key, Participant.id)
    )
    certificate = db.session.scalar(
        select(Certificate).where(
            Certificate.cohort_id == enrolment.cohort_id,
            Certificate.participant_id == enrolment.participant_id,
            Certificate.in_force,
        )
    )
    return Withdrawal(
        enrolment=enrolment,
        coming=[s for s in sessions if not _begun(s, now)],
        partners=[p.name for p in partners],
        certificate=certificate,
    )


def undo_withdrawal(
    actor: Actor, cohort_id: int, enrolment_id: int, *, withdrawn_at: str, now: datetime
) -> Enrolment:
    """Takes back the withdrawal made at `withdrawn_at` (the stamp the page
    that confirmed it carries): the person is enrolled as before, with the
    same enrolment, attendance and tandem place, and no warning is asked
    again, since they were enrolled a moment ago.

    Only while nothing has moved on since: the enrolment is unchanged since
    that withdrawal (`undo_outdated`), no session of the cohort has begun in
    between, whose attendance was taken without them (`undo_session_begun`),
    and the cohort's tandems were neither confirmed nor ended in between, so
    their place in a tandem is still theirs (`undo_tandems_changed`). The
    cohort's own rules apply as to any enrolment (closed, full). Otherwise
    the person can be enrolled again the ordinary way."""
    enrolment = _enrolment(actor, cohort_id, enrolment_id)
    since = enrolment.withdrawn_at
    if (
        enrolment.status is not EnrolmentStatus.WITHDRAWN
        or since is None
        or withdrawal_stamp(since) != withdrawn_at
    ):
        raise EnrolmentError(
            msg("the enrolment has changed since this withdrawal; it cannot be undone"),
            code="undo_outdated",
        )
    begun = db.session.scalars(
        select(Session).where(
            Session.cohort_id == enrolment.cohort_id,
            Session.status != SessionStatus.CANCELLED,
            Session.first_day <= now.date(),
            Session.last_day >= since.date(),
        )
    )
    if any(_begun(s, now) and not _begun(s, since) for s in begun):
        raise EnrolmentError(
            msg(
                "a session of the cohort has begun since the withdrawal; "
                "please enrol the person again on their page"
            ),
            code="undo_session_begun",
        )
    moved = db.session.scalar(
        select(func.count(Tandem.id)).where(
            Tandem.cohort_id == enrolment.cohort_id,
            or_(Tandem.confirmed_at > since, Tandem.ended_at > since),
        )
    )
    if moved:
        raise EnrolmentError(
            msg(
                "the cohort's tandems have changed since the withdrawal; "
                "please enrol the person again on their page"
            ),
            code="undo_tandems_changed",
        )
    return enrol(enrolment.cohort, enrolment.participant, actor.user)


def undo_hindrance(
    actor: Actor, cohort_id: int, enrolment_id: int, now: datetime
) -> Message | None:
    """Why the enrolment's latest withdrawal cannot be undone now, or None
    when it can: the undo is tried in a savepoint that is always rolled back."""
    enrolment = _enrolment(actor, cohort_id, enrolment_id)
    if enrolment.withdrawn_at is None or enrolment.status is not EnrolmentStatus.WITHDRAWN:
        return msg("the person is not withdrawn")
    stamp = withdrawal_stamp(enrolment.withdrawn_at)
    savepoint = db.session.begin_nested()
    try:
        undo_withdrawal(actor, cohort_id, enrolment_id, withdrawn_at=stamp, now=now)
    except EnrolmentError as error:
        return error.message
    finally:
        savepoint.rollback()
    return None


def withdrawal_stamp(moment: datetime) -> str:
    """A withdrawal's moment as the undo form carries it."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


def _enrolment(actor: Actor, cohort_id: int, enrolment_id: int) -> Enrolment:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.cohort_id != cohort.id:
        raise policy.NotFound()
    return enrolment


def _tandems_of(enrolment: Enrolment):  # type: ignore[no-untyped-def]
    return select(TandemMember.tandem_id).where(
        TandemMember.participant_id == enrolment.participant_id
    )


def _begun(session: Session, moment: datetime) -> bool:
    if session.starts_at is not None and not session.all_day:
        return session.starts_at <= moment
    return session.first_day <= moment.date()


def open_cohorts(person: Participant) -> list[Cohort]:
    """Planned and running cohorts of the person's organisation that they
    are not enrolled in, by start."""
    enrolled = {e.cohort_id for e in person.enrolments if e.status is EnrolmentStatus.ENROLLED}
    cohorts = db.session.scalars(
        select(Cohort)
        .where(Cohort.organisation_id == person.organisation_id, Cohort.state.in_(OPEN_STATES))
        .order_by(Cohort.start_date, Cohort.id)
    )
    return [c for c in cohorts if c.id not in enrolled]


def warnings(cohort: Cohort, person: Participant) -> list[EnrolmentWarning]:
    """What speaks against enrolling `person` in `cohort`, though it is allowed
    (see `warnings_of`)."""
    return warnings_of(cohort, [person]).get(person.id, [])


def warnings_of(
    cohort: Cohort, people: Sequence[Participant]
) -> dict[int, list[EnrolmentWarning]]:
    """Per person id, what speaks against enrolling them in `cohort`, though
    it is allowed; people without warnings are left out. The same statements
    for one person or a thousand.

    The same curriculum is any version of the cohort's curriculum and of every
    curriculum of the same lineage (a fork and the standard it was forked
    from, and the standard's other forks): they lead to the same qualification.
    A certificate counts while it is in force (not revoked, not superseded);
    the newest one is named, and the first open cohort by start.
    """
    if not people:
        return {}
    family = same_curriculum(cohort.version.curriculum)
    by_id = {p.id: p for p in people}
    found: dict[int, list[EnrolmentWarning]] = {}
    certificates = db.session.execute(
        select(Certificate.participant_id, Certificate.serial, Certificate.issued_on, Cohort.name)
        .join(Cohort, Cohort.id == Certificate.cohort_id)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .where(
            Certificate.participant_id.in_(by_id),
            Certificate.in_force,
            CurriculumVersion.curriculum_id.in_(family),
        )
        .order_by(Certificate.participant_id, Certificate.issued_on.desc(), Certificate.id.desc())
    )
    for person_id, serial, issued_on, cohort_name in certificates:
        if person_id in found:
            continue
        found[person_id] = [
            EnrolmentWarning(
                "already_certified",
                msg(
                    "{name} already holds a certificate in force for this curriculum "
                    "(no. {serial} of {day}, cohort '{cohort}')",
                    name=by_id[person_id].name,
                    serial=serial_label(serial),
                    day=issued_on,
                    cohort=cohort_name,
                ),
            )
        ]
    elsewhere = db.session.execute(
        select(Enrolment.participant_id, Cohort.name)
        .join(Cohort, Enrolment.cohort_id == Cohort.id)
        .join(CurriculumVersion, CurriculumVersion.id == Cohort.version_id)
        .where(
            Enrolment.participant_id.in_(by_id),
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Cohort.id != cohort.id,
            Cohort.state.in_(OPEN_STATES),
            CurriculumVersion.curriculum_id.in_(family),
        )
        .order_by(Enrolment.participant_id, Cohort.start_date, Cohort.id)
    )
    named: set[int] = set()
    for person_id, cohort_name in elsewhere:
        if person_id in named:
            continue
        named.add(person_id)
        found.setdefault(person_id, []).append(
            EnrolmentWarning(
                "enrolled_elsewhere",
                msg(
                    "{name} is enrolled in the cohort '{cohort}' of this curriculum already",
                    name=by_id[person_id].name,
                    cohort=cohort_name,
                ),
            )
        )
    for person_id, warning in _manager_lines(cohort, people):
        found.setdefault(person_id, []).append(warning)
    return found


def _manager_lines(
    cohort: Cohort, people: Sequence[Participant]
) -> Iterator[tuple[int, EnrolmentWarning]]:
    """People who would be in `cohort` with their manager, or with someone
    whose manager they are: a tandem cannot pair them, and a manager in the
    room changes what people say. The manager is whoever has the e-mail
    address the person names as their manager's (as app.services.tandems)."""
    addresses = {p.email.strip().lower() for p in people} | {
        p.manager_email.strip().lower() for p in people if p.manager_email.strip()
    }
    addresses.discard("")
    if not addresses:
        return
    others = db.session.execute(
        select(
            Participant.id,
            Participant.first_name,
            Participant.last_name,
            func.lower(func.trim(Participant.email)),
            func.lower(func.trim(Participant.manager_email)),
        )
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            or_(
                func.lower(func.trim(Participant.email)).in_(addresses),
                func.lower(func.trim(Participant.manager_email)).in_(addresses),
            ),
        )
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    for person in people:
        email = person.email.strip().lower()
        manager = person.manager_email.strip().lower()
        for other_id, first, last, other_email, other_manager in others:
            if other_id == person.id:
                continue
            other = f"{first} {last}".strip()
            if manager and other_email == manager:
                text = msg(
                    "{name} would be in this cohort with their manager {manager}",
                    name=person.name,
                    manager=other,
                )
            elif email and other_manager == email:
                text = msg(
                    "{name} would be in this cohort with {other}, whose manager they are",
                    name=person.name,
                    other=other,
                )
            else:
                continue
            yield person.id, EnrolmentWarning("with_manager", text)
            break


@dataclass(frozen=True)
class Prospect:
    """What enrolling one person would do: `code` is "enrolled",
    "already_enrolled", a warning's code (WARNINGS: enrolled once the warning
    is acknowledged) or a refusal's; `message` says why where it is not plain."""

    participant_id: int
    code: str
    message: Message | None = None


def prospects(cohort: Cohort, people: Sequence[Participant]) -> list[Prospect]:
    """What enrolling `people` in `cohort` one after another, each warning
    acknowledged, would do, changing nothing: the rules of
    `enrol_participant` and `enrol` (a refusal goes before a warning, and
    each person enrolled takes one of the places left), checked for all of
    them at once in a few statements whatever their number. Permission and
    visibility are the caller's."""
    ids = [p.id for p in people]
    active = set(
        db.session.scalars(
            select(Enrolment.participant_id).where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Enrolment.participant_id.in_(ids),
            )
        )
    )
    taken = (
        enrolled_count(cohort) + waiting_lists.held_by_others(cohort)
        if cohort.capacity is not None
        else 0
    )
    found = warnings_of(cohort, [p for p in people if p.id not in active])
    outcomes = []
    for person in people:
        if person.id in active:
            outcomes.append(Prospect(person.id, "already_enrolled"))
            continue
        refused = closed_to(cohort, person) or full(cohort, taken)
        if refused is not None:
            outcomes.append(Prospect(person.id, refused.code, refused.message))
            continue
        taken += 1
        warned = found.get(person.id)
        outcomes.append(
            Prospect(person.id, warned[0].code, warned[0].message)
            if warned
            else Prospect(person.id, "enrolled")
        )
    return outcomes


def closed_to(cohort: Cohort, participant: Participant) -> EnrolmentError | None:
    """Why the cohort takes nobody of the person's kind: another
    organisation's person, or the cohort is over or cancelled."""
    if participant.organisation_id != cohort.organisation_id:
        return EnrolmentError(
            msg("the person belongs to another organisation"), code="other_organisation"
        )
    if cohort.state in (CohortState.COMPLETED, CohortState.CANCELLED):
        return EnrolmentError(
            msg("the cohort '{name}' is closed", name=cohort.name), code="cohort_closed"
        )
    return None


def full(cohort: Cohort, enrolled: int) -> EnrolmentError | None:
    """The refusal when `enrolled` people take all of the cohort's places."""
    if cohort.capacity is not None and enrolled >= cohort.capacity:
        return EnrolmentError(
            msg(
                "the cohort '{name}' is full ({capacity} places)",
                name=cohort.name,
                capacity=cohort.capacity,
            ),
            code="cohort_full",
        )
    return None


def same_curriculum(record: CurriculumRecord) -> set[int]:
    """The ids of every curriculum of `record`'s lineage: those with the same
    first upstream curriculum."""
    rows = db.session.execute(select(CurriculumRecord.id, CurriculumRecord.upstream_id))
    upstream: dict[int, int | None] = {i: parent for i, parent in rows}

    def root(curriculum_id: int) -> int:
        seen = {curriculum_id}
        while (parent := upstream.get(curriculum_id)) is not None and parent not in seen:
            seen.add(parent)
            curriculum_id = parent
        return curriculum_id

    mine = root(record.id)
    return {i for i in upstream if root(i) == mine}


def enrol(cohort: Cohort, participant: Participant, actor: User | None) -> Enrolment:
    """The enrolment step (see the module's text)."""
    if (closed := closed_to(cohort, participant)) is not None:
        raise closed
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.participant_id == participant.id
        )
    )
    if enrolment is not None and enrolment.status is EnrolmentStatus.ENROLLED:
        return enrolment
    # Open offers of the waiting list hold places too (but the person's own).
    if cohort.capacity is not None and (
        taken := full(
            cohort, enrolled_count(cohort) + waiting_lists.held_by_others(cohort, participant)
        )
    ):
        raise taken
    # Enrolled again after a withdrawal: invited again beside the first invitations.
    again = None
    if enrolment is None:
        enrolment = Enrolment(cohort=cohort, participant=participant)
        db.session.add(enrolment)
    else:
        again = withdrawal_stamp(enrolment.withdrawn_at) if enrolment.withdrawn_at else None
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.withdrawn_at = None
    db.session.flush()
    _record(enrolment, actor, "enrolled")
    announcements.enrolled(cohort, [(participant, again)])
    waiting_lists.enrolled(cohort, participant)
    return enrolment


def withdraw(enrolment: Enrolment, actor: User | None) -> None:
    """The withdrawal step (see the module's text)."""
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        return
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_at = datetime.now(UTC)
    _record(enrolment, actor, "withdrawn")
    announcements.withdrawn(enrolment, withdrawal_stamp(enrolment.withdrawn_at))
    # Make-ups booked elsewhere for this cohort end with it (imported here:
    # the make-ups service builds on this one).
    from app.services import make_ups

    make_ups.end_with_withdrawal(
        Actor.of_user(actor) if actor is not None else Actor.system(), enrolment
    )
    # The freed place goes to the waiting list, in this transaction.
    waiting_lists.enrolment_withdrawn(enrolment)


def _active(cohort: Cohort, person: Participant) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.participant_id == person.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    )


def _record(enrolment: Enrolment, actor: User | None, action: str) -> None:
    history.record(
        user=actor,
        organisation_id=enrolment.cohort.organisation_id,
        cohort_id=enrolment.cohort_id,
        subject="enrolment",
        subject_id=enrolment.participant_id,
        action=action,
        after={"participant": enrolment.participant.name},
    )
