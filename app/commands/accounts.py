"""`qualiplan organisations ...` and `qualiplan users ...`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app import transactions
from app.commands import CommandFailed
from app.extensions import db
from app.models import Organisation, Role, User
from app.public_url import external_url
from app.services import accounts, password_resets
from app.services.accounts import AccountError, create_user, normalise_email
from app.services.organisations import DEFAULT_TIMEZONE
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
@click.option(
    "--timezone", default=DEFAULT_TIMEZONE, show_default=True, help="Time zone of new cohorts."
)
@with_appcontext
@transactions.cli
def create_organisation(name: str, region: str, timezone: str) -> None:
    """Add an organisation called NAME (as the settings page does)."""
    organisation = create(Actor.system(), name, region, timezone)
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
    chosen = [_organisation(n) for n in organisation_names]
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Passwort / password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, name, Role(role), password, chosen)
    except AccountError as error:
        raise CommandFailed(error.message) from None
    click.echo(f"{user.email} ({user.role.value})")


@users.command("invite")
@click.argument("email")
@click.option("--role", required=True, metavar="|".join(ROLES))
@click.option("--name", required=True, help="Full name.")
@click.option("--organisation", "organisation_names", multiple=True, required=True)
@with_appcontext
@transactions.cli
def invite_account(email: str, role: str, name: str, organisation_names: tuple[str, ...]) -> None:
    """Make an account for EMAIL as the settings page does, and print the
    one-time link with which the person sets their own password."""
    ids = frozenset(_organisation(n).id for n in organisation_names)
    wish = accounts.AccountWish(name=name, email=email, role=role, organisation_ids=ids)
    user = accounts.invite(Actor.system(), wish)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    _, token = password_resets.issue(
        Actor.system(), user.id, datetime.now(UTC), timedelta(hours=hours)
    )
    click.echo(external_url("auth.reset_password", token=token))


def _organisation(name: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise CommandFailed(msg("there is no organisation called '{name}'", name=name))
    return organisation


def _account(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise CommandFailed(msg("there is no account for {email}", email=email))
    return user


@users.command("deactivate")
@click.argument("email")
@with_appcontext
@transactions.cli
def deactivate_account(email: str) -> None:
    """The account of EMAIL can no longer log in; its sessions, API tokens
    and calendar feed end at once."""
    user = accounts.deactivate(Actor.system(), _account(email).id)
    click.echo(f"{user.email}: deactivated")


@users.command("activate")
@click.argument("email")
@with_appcontext
@transactions.cli
def activate_account(email: str) -> None:
    """The account of EMAIL can log in again (tokens and feeds stay ended)."""
    user = accounts.reactivate(Actor.system(), _account(email).id)
    click.echo(f"{user.email}: active")


@users.command("reset-link")
@click.argument("email")
@with_appcontext
@transactions.cli
def reset_link(email: str) -> None:
    """Print a one-time link to set a new password for EMAIL (an admin who
    lost theirs). Built on QUALIPLAN_PUBLIC_URL; without it, only the path."""
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    _, token = password_resets.issue(
        Actor.system(), _account(email).id, datetime.now(UTC), timedelta(hours=hours)
    )
    click.echo(external_url("auth.reset_password", token=token))
