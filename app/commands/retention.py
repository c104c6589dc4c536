"""`qualiplan retention run`: delete what the retention period says is due."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from app import transactions
from app.closures import parse_day
from app.commands import language_option, translator
from app.services import privacy


@click.group()
def retention() -> None:
    """Retention of personal data."""


@retention.command("run")
@click.option("--today", metavar="YYYY-MM-DD", help="Act as if it were this day (default: today).")
@language_option
@with_appcontext
@transactions.cli
def run(today: str | None, lang: str | None) -> None:
    """Delete the attendance details of completed cohorts older than their
    organisation's retention period. Safe to run daily: what is deleted once
    is not looked at again; issued certificates stay."""
    tr = translator(lang)
    day = parse_day("--today", today) if today else date.today()
    deleted = privacy.apply_retention(day)
    for item in deleted:
        click.echo(
            tr.gettext(
                "%(cohort)s (%(organisation)s): %(count)d attendance records deleted",
                cohort=item.cohort.name,
                organisation=item.cohort.organisation.name,
                count=item.records,
            )
        )
    click.echo(tr.ngettext("%(num)d cohort done.", "%(num)d cohorts done.", len(deleted)))
