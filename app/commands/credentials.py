"""`qualiplan credentials rotate-key`: a new signing key for an organisation;
`qualiplan credentials issue-missing`: credentials for certificates issued
before Qualiplan signed them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import credentials as signed_credentials
from app import transactions
from app.commands import CommandFailed, language_option, translator
from app.credentials import keys
from app.extensions import db
from app.models import Organisation
from curricula.messages import msg


@click.group()
def credentials() -> None:
    """Signed credentials (Open Badges 3.0) and their keys."""


@credentials.command("rotate-key")
@click.option("--organisation", "name", required=True, help="The organisation's name.")
@language_option
@with_appcontext
@transactions.cli
def rotate_key(name: str, lang: str | None) -> None:
    """Make a new signing key the organisation's current one. Earlier keys
    stay published, so the credentials they signed still verify."""
    tr = translator(lang)
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise CommandFailed(msg("there is no organisation called '{name}'", name=name))
    key = keys.rotate(organisation.id)
    click.echo(
        tr.gettext(
            "%(organisation)s signs with key %(kid)s from now on; %(count)d earlier keys "
            "stay published.",
            organisation=organisation.name,
            kid=key.kid,
            count=len(keys.published(organisation.id)) - 1,
        )
    )


@credentials.command("issue-missing")
@click.option("--organisation", "name", help="Only this organisation's certificates.")
@language_option
@with_appcontext
@transactions.cli
def issue_missing(name: str | None, lang: str | None) -> None:
    """Sign a credential for every certificate in force that has none (issued
    before this version of Qualiplan). Safe to run again: a certificate with
    a credential is left as it is."""
    tr = translator(lang)
    organisation_id = None
    if name is not None:
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if organisation is None:
            raise CommandFailed(msg("there is no organisation called '{name}'", name=name))
        organisation_id = organisation.id
    signed, left_out = signed_credentials.issue_missing(organisation_id)
    click.echo(tr.ngettext("%(num)d credential signed.", "%(num)d credentials signed.", signed))
    if left_out:
        click.echo(
            tr.ngettext(
                "%(num)d certificate has none and gets none: its cohort was deleted "
                "or its person erased.",
                "%(num)d certificates have none and get none: their cohort was deleted "
                "or their person erased.",
                left_out,
            )
        )
