"""`qualiplan demo`: demo data for a first look at Qualiplan."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from app import transactions
from app.commands import CommandFailed
from app.services.demo import DEMO_PASSWORD, is_empty, load_demo
from curricula.messages import msg


@click.command()
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has data.")
@with_appcontext
@transactions.cli
def demo(if_empty: bool) -> None:
    """Load demo data into an empty database and print the demo logins."""
    if not is_empty():
        if if_empty:
            return
        raise CommandFailed(msg("the database has data already; demo data needs an empty one"))
    logins = load_demo(date.today())
    width = max(len(login.email) for login in logins)
    click.echo("Demo-Zugänge / demo logins (Passwort / password: " + DEMO_PASSWORD + ")")
    for login in logins:
        click.echo(f"  {login.email.ljust(width)}  {login.role.value:<10}  {login.name}")
