"""`qualiplan organisations ...` and `qualiplan users ...`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import transactions
from app.commands import CommandFailed
from app.extensions import db
from app.models import Organisation, Role
from app.services.accounts import AccountError, create_user
from app.services.organisations import create_organisation as create
from app.services.policy import Actor
from curricula.messages import msg

ROLES = [r.value for r in Role]


@click.group()
def organisations() -> None:
    """Organisations (client companies)."""


@organisations.command("create")
@click.argument("name")
@click.option("--region", default="DE-BW", show_default=True, help="Default region of cohorts.")
@with_appcontext
@transactions.cli
def create_organisation(name: str, region: str) -> None:
    """Add an organisation called NAME."""
    organisation = create(Actor.system(), name, region)
    click.echo(organisation.name)


@click.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, metavar="|".join(ROLES))
@click.option("--name", default="", help="Full name (default: the e-mail address).")
@click.option("--organisation", "organisation_names", multiple=True, help="May be repeated.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@transactions.cli
def create_account(
    email: str, role: str, name: str, organisation_names: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a staff account for EMAIL (the first one: --role admin)."""
    if role not in ROLES:
        raise CommandFailed(
            msg("--role: '{value}' is not a role; use {known}", value=role, known=ROLES)
        )
    chosen = []
    for organisation_name in organisation_names:
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.name == organisation_name)
        )
        if organisation is None:
            raise CommandFailed(
                msg("there is no organisation called '{name}'", name=organisation_name)
            )
        chosen.append(organisation)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Passwort / password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, name, Role(role), password, chosen)
    except AccountError as error:
        raise CommandFailed(error.message) from None
    click.echo(f"{user.email} ({user.role.value})")
