"""Organisations: the client companies whose people, cohorts and curricula
Qualiplan keeps apart."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Organisation
from app.services import policy
from app.services.errors import DomainError, InvalidInput
from app.services.policy import Actor
from app.services.text import one_line
from cohorts.calendar import Region
from curricula.messages import msg


class OrganisationExists(DomainError):
    code = "organisation_exists"


def create_organisation(actor: Actor, name: str, region: str) -> Organisation:
    """Add an organisation; its name is unique. Only the command line (the
    installation's operator) creates organisations."""
    if actor.role is not None:
        raise policy.NotPermitted()
    Region.parse(region)  # an unknown region is bad input like any other
    # The name is the sender's name on every e-mail: one line, never empty.
    name = one_line(name, "name", msg("name of the organisation"))
    if not name:
        raise InvalidInput(msg("the organisation needs a name"), code="empty_name", field="name")
    if db.session.scalar(select(Organisation.id).where(Organisation.name == name)):
        raise OrganisationExists(msg("an organisation called '{name}' exists already", name=name))
    organisation = Organisation(name=name, default_region=region.upper())
    db.session.add(organisation)
    db.session.flush()
    return organisation
