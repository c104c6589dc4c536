"""Command groups of the `qualiplan` command."""

from __future__ import annotations

import os

import click

from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from curricula.messages import Message, msg


class CommandFailed(Exception):
    """Bad input or a refused action on the command line; `qualiplan` prints
    each message as one line in the user's language and exits with 2."""

    def __init__(self, *messages: Message) -> None:
        self.messages = messages
        super().__init__("; ".join(str(m) for m in messages))


def language_option(command: click.Command) -> click.Command:
    return click.option(
        "--lang",
        default=None,
        metavar="de|en",
        help="Language of texts and messages (default: QUALIPLAN_LANGUAGE or de).",
    )(command)


def translator(lang: str | None) -> Translator:
    chosen = lang or os.environ.get("QUALIPLAN_LANGUAGE") or DEFAULT_LANGUAGE
    if chosen not in LANGUAGES:
        raise CommandFailed(
            msg(
                "--lang: '{value}' is not a supported language; use {known}",
                value=chosen,
                known=list(LANGUAGES),
            )
        )
    return Translator(chosen)
