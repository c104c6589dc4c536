"""The `qualiplan` command: Flask's own commands (run, routes, shell) and ours.

Every problem with the user's input ends in one clear line per problem in
the chosen language (`--lang`, or QUALIPLAN_LANGUAGE, default German) and
a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import FlaskGroup

from app import create_app
from app.closures import parse_closures, parse_day
from app.commands import CommandFailed, language_option, translator
from app.commands.accounts import organisations, users
from app.commands.credentials import credentials
from app.commands.demo import demo
from app.commands.retention import retention
from app.commands.serve import serve
from app.commands.tandems import tandems
from app.commands.worker import worker
from app.exports.schedule import as_calendar, as_json, as_table
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from app.services.errors import DomainError, InvalidInput
from cohorts.calendar import WorkingCalendar
from cohorts.errors import CoreError
from cohorts.scheduling import DEFAULT_TIMEZONE, plan
from curricula.loader import CurriculumError, load_file
from curricula.messages import msg
from curricula.model import Curriculum, Mode
from curricula.shipped import shipped
from curricula.timeline import nominal_days

FORMATS = ("table", "json", "ics")
DELIVERIES = (Mode.IN_PERSON.value, Mode.ONLINE.value)

cli = FlaskGroup(
    create_app=create_app,
    help="Qualiplan: plan and run qualification programmes for learning companions.",
)


cli.add_command(organisations)
cli.add_command(users)
cli.add_command(demo)
cli.add_command(retention)
cli.add_command(serve)
cli.add_command(tandems)
cli.add_command(worker)
cli.add_command(credentials)


@cli.group()
def curricula() -> None:
    """The shipped curricula and curriculum files."""


@curricula.command("list")
@language_option
def list_curricula(lang: str | None) -> None:
    """List the shipped curricula with key, version, length and title."""
    tr = translator(lang)
    header = (tr.gettext("Key"), tr.gettext("Version"), tr.gettext("Length"), tr.gettext("Title"))
    rows = [
        (c.key, str(c.version), _approximate_length(c, tr), c.title.get(tr.language))
        for c in sorted(shipped().values(), key=lambda c: c.key)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@curricula.command("check")
@click.argument("file")
@language_option
def check_curriculum(file: str, lang: str | None) -> None:
    """Validate a curriculum FILE (TOML) and summarise it."""
    tr = translator(lang)
    curriculum = _load_file(file)
    click.echo(
        tr.gettext(
            "%(file)s is valid: %(key)s version %(version)s, %(title)s",
            file=file,
            key=curriculum.key,
            version=curriculum.version,
            title=curriculum.title.get(tr.language),
        )
    )
    click.echo(
        tr.gettext(
            "%(elements)s elements, %(units)s teaching units, %(length)s",
            elements=len(curriculum.elements),
            units=tr.number(curriculum.teaching_units),
            length=_approximate_length(curriculum, tr),
        )
    )


@cli.command()
@click.option("--curriculum", "curriculum_ref", metavar="KEY_OR_FILE", help="Shipped key or file.")
@click.option("--start", metavar="YYYY-MM-DD", help="The cohort's first day.")
@click.option("--region", metavar="CODE", help="ISO 3166-2 region, e.g. DE-BW.")
@click.option(
    "--closed",
    multiple=True,
    metavar="DATE[..DATE]",
    help="A closure day or range of the organisation; may be repeated.",
)
@click.option(
    "--tz", default=DEFAULT_TIMEZONE, show_default=True, help="Time zone such as Europe/Berlin."
)
@click.option("--delivery", metavar="in_person|online", help="For elements the cohort decides.")
@click.option("--venue", help="Address of in-person sessions (ics).")
@click.option("--link", help="Meeting link of online sessions (ics).")
@click.option("--format", "output_format", default="table", metavar="table|json|ics")
@language_option
def schedule(
    curriculum_ref: str | None,
    start: str | None,
    region: str | None,
    closed: Sequence[str],
    tz: str,
    delivery: str | None,
    venue: str | None,
    link: str | None,
    output_format: str,
    lang: str | None,
) -> None:
    """Plan the dated schedule of a cohort."""
    tr = translator(lang)
    if not (curriculum_ref and start and region):
        given = {"--curriculum": curriculum_ref, "--start": start, "--region": region}
        missing = [name for name, value in given.items() if not value]
        raise CommandFailed(*(msg("{option} is missing", option=name) for name in missing))
    if output_format not in FORMATS:
        raise CommandFailed(
            msg(
                "--format: '{value}' is not a format; use {known}",
                value=output_format,
                known=list(FORMATS),
            )
        )
    if delivery is not None and delivery not in DELIVERIES:
        raise CommandFailed(
            msg(
                "--delivery: '{value}' is not a delivery; use {known}",
                value=delivery,
                known=list(DELIVERIES),
            )
        )
    first_day = parse_day("--start", start)
    closure_days = parse_closures("--closed", closed)
    curriculum = _curriculum(curriculum_ref)
    calendar = WorkingCalendar(region, closure_days)
    result = plan(
        curriculum,
        first_day,
        calendar,
        tz=tz,
        delivery=Mode(delivery) if delivery else None,
    )

    if output_format == "json":
        click.echo(json.dumps(as_json(result, first_day, tr), ensure_ascii=False, indent=2))
    elif output_format == "ics":
        rendered = as_calendar(
            result, first_day, tr, dtstamp=datetime.now(UTC), venue=venue, link=link
        )
        sys.stdout.buffer.write(rendered.content)
        sys.stdout.buffer.flush()
        for note in result.notes:
            click.echo(tr.gettext("Note: %(note)s", note=tr.localize(note.message)), err=True)
    else:
        click.echo(as_table(result, tr), nl=False)


def _curriculum(reference: str) -> Curriculum:
    known = shipped()
    if reference in known:
        return known[reference]
    if reference.endswith(".toml") or Path(reference).exists():
        return _load_file(reference)
    raise CommandFailed(
        msg(
            "--curriculum: no shipped curriculum has the key '{key}' (shipped: {known}); "
            "or give a .toml file",
            key=reference,
            known=sorted(known),
        )
    )


def _load_file(path: str) -> Curriculum:
    try:
        return load_file(path)
    except CurriculumError as exc:
        raise CommandFailed(*(p.describe() for p in exc.problems)) from None


def _approximate_length(curriculum: Curriculum, tr: Translator) -> str:
    days = nominal_days(curriculum)
    if days <= 13 * 7:
        return tr.ngettext("about %(num)d week", "about %(num)d weeks", round(days / 7))
    return tr.ngettext("about %(num)d month", "about %(num)d months", round(days / 30.44))


def _fail(lines: Sequence[str], tr: Translator, code: int) -> NoReturn:
    for line in lines:
        click.echo(tr.gettext("Error: %(message)s", message=line), err=True)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `qualiplan` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    tr = Translator(_language_from(args))
    try:
        result = cli.main(args=args, prog_name="qualiplan", standalone_mode=False)
    except CommandFailed as exc:
        _fail([tr.localize(m) for m in exc.messages], tr, 2)
    except CoreError as exc:
        # Unknown regions and time zones are bad input; a plan that cannot be made is not.
        _fail([tr.localize(exc.message)], tr, 2 if isinstance(exc, ValueError) else 1)
    except DomainError as exc:
        # Bad input exits with 2 like a usage error; a refused action with 1.
        _fail([tr.localize(exc.message)], tr, 2 if isinstance(exc, InvalidInput) else 1)
    except click.UsageError as exc:
        hint = f" ({exc.ctx.command_path} --help)" if exc.ctx else ""
        _fail([exc.format_message() + hint], tr, 2)
    except click.ClickException as exc:
        _fail([exc.format_message()], tr, exc.exit_code)
    except click.Abort:
        _fail([tr.gettext("aborted")], tr, 1)
    except Exception as exc:  # a last line of defence: no traceback reaches a user
        if os.environ.get("QUALIPLAN_DEBUG"):
            raise
        _fail(
            [
                tr.gettext(
                    "unexpected failure (%(kind)s); nothing was changed. "
                    "Set QUALIPLAN_DEBUG=1 to see the details.",
                    kind=type(exc).__name__,
                )
            ],
            tr,
            70,
        )
    sys.exit(result if isinstance(result, int) else 0)


def _language_from(args: Sequence[str]) -> str:
    """The language for messages, read before click parses anything."""
    chosen = os.environ.get("QUALIPLAN_LANGUAGE") or DEFAULT_LANGUAGE
    for index, arg in enumerate(args):
        if arg == "--lang" and index + 1 < len(args):
            chosen = args[index + 1]
        elif arg.startswith("--lang="):
            chosen = arg.partition("=")[2]
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
