"""Who may do what, in one place: role × action × the record's organisation.

Every door (pages, the API, the personal page, the command line) asks here,
through the services that carry out the use case. Deny by default: an action
not listed for a role is refused, and a record of an organisation the actor
does not belong to is reported as not found, exactly like one that does not
exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from app.extensions import db
from app.models import Role, User
from app.services.errors import NotFound, NotPermitted

T = TypeVar("T")

__all__ = ["Action", "Actor", "NotFound", "NotPermitted", "get", "may", "require", "visible"]


class Action(StrEnum):
    PLAN = "plan"  # plan cohorts, change their state, move and change sessions
    FORM_TANDEMS = "form_tandems"
    TAKE_ATTENDANCE = "take_attendance"
    REOPEN_COHORT = "reopen_cohort"  # record attendance in a completed cohort
    EDIT_CURRICULA = "edit_curricula"  # fork, edit, publish, move cohorts to a version
    KEEP_PEOPLE = "keep_people"  # add, edit, import, enrol, withdraw participants
    SHARE_LINKS = "share_links"  # personal links and calendar feeds of others
    ISSUE_CERTIFICATES = "issue_certificates"  # issue, re-issue, revoke
    PRINT_CERTIFICATES = "print_certificates"
    CERTIFICATE_SETTINGS = "certificate_settings"  # signatory and logo
    EXPORT_PERSON = "export_person"  # GDPR Art. 15
    ERASE_PERSON = "erase_person"  # GDPR Art. 17
    PRIVACY_SETTINGS = "privacy_settings"
    MANAGE_ACCOUNTS = "manage_accounts"  # invite, role, organisations, reset links, deactivate
    MANAGE_ORGANISATIONS = "manage_organisations"  # create, name, region, time zone, closure days
    # accept or decline registrations, invite people, the registration address
    DECIDE_REGISTRATIONS = "decide_registrations"


PLANNERS = frozenset({Role.ADMIN, Role.TRAINER, Role.CONSULTANT})
CERTIFIERS = frozenset({Role.ADMIN, Role.HR})
STAFF = frozenset(Role)

RULES: dict[Action, frozenset[Role]] = {
    Action.PLAN: PLANNERS,
    Action.FORM_TANDEMS: PLANNERS,
    Action.TAKE_ATTENDANCE: PLANNERS,
    Action.REOPEN_COHORT: frozenset({Role.ADMIN}),
    Action.EDIT_CURRICULA: PLANNERS,
    Action.KEEP_PEOPLE: STAFF,
    Action.SHARE_LINKS: STAFF,
    Action.ISSUE_CERTIFICATES: CERTIFIERS,
    Action.PRINT_CERTIFICATES: STAFF,
    Action.CERTIFICATE_SETTINGS: CERTIFIERS,
    Action.EXPORT_PERSON: CERTIFIERS,
    Action.ERASE_PERSON: frozenset({Role.ADMIN}),
    Action.PRIVACY_SETTINGS: frozenset({Role.ADMIN}),
    Action.MANAGE_ACCOUNTS: frozenset({Role.ADMIN}),
    Action.MANAGE_ORGANISATIONS: frozenset({Role.ADMIN}),
    Action.DECIDE_REGISTRATIONS: CERTIFIERS,
}


@dataclass(frozen=True)
class Actor:
    """Who acts, and in which organisations: a logged-in user in all of
    theirs, an API token in its one organisation, the command line (no user)
    in every organisation with every right."""

    user: User | None
    role: Role | None
    organisation_ids: frozenset[int] | None

    @classmethod
    def of_user(cls, user: User, organisation_id: int | None = None) -> Actor:
        scope = user.organisation_ids
        if organisation_id is not None:
            scope = scope & {organisation_id}
        return cls(user, user.role, frozenset(scope))

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None, None)

    def belongs_to(self, organisation_id: int | None) -> bool:
        if self.organisation_ids is None:
            return True
        return organisation_id in self.organisation_ids


def may(actor: Actor, action: Action, organisation_id: int | None = None) -> bool:
    """Whether `actor` may do `action` (in `organisation_id`, when given)."""
    if organisation_id is not None and not actor.belongs_to(organisation_id):
        return False
    return actor.role is None or actor.role in RULES[action]


def require(actor: Actor, action: Action, organisation_id: int | None = None) -> None:
    """Refuse unless `actor` may do `action`; a record of another organisation
    is not found rather than forbidden (it must not even be seen to exist)."""
    if organisation_id is not None and not actor.belongs_to(organisation_id):
        raise NotFound()
    if not may(actor, action):
        raise NotPermitted()


def visible(actor: Actor, record: Any, organisation_attribute: str = "organisation_id") -> bool:
    return record is not None and actor.belongs_to(getattr(record, organisation_attribute))


def get(
    actor: Actor, model: type[T], record_id: int, organisation_attribute: str = "organisation_id"
) -> T:
    """The record if `actor` may see it, else NotFound."""
    record = db.session.get(model, record_id)
    if not visible(actor, record, organisation_attribute):
        raise NotFound()
    return record  # type: ignore[return-value]


def scope(actor: Actor, all_ids: Iterable[int]) -> set[int]:
    """The ids among `all_ids` of organisations the actor works in."""
    return {i for i in all_ids if actor.belongs_to(i)}
