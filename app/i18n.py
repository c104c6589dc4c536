"""Languages: German first, English second, from the message catalogs in
`app/translations` (source strings are English; the build compiles them).

Web requests pick the language with Flask-Babel; the command line uses the
same catalogs through Babel directly, outside any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.support import NullTranslations, Translations
from flask import Flask, Response, current_app, request
from flask_babel import Babel, get_locale

from curricula.messages import Message
from curricula.model import Offset, Text, Unit

LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}
DEFAULT_LANGUAGE = "de"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_COOKIE = "qualiplan_lang"

babel = Babel()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_select_language)
    app.after_request(_remember_language)

    @app.context_processor
    def _language_context() -> dict[str, object]:
        return {"current_language": current_language(), "languages": list(LANGUAGES.items())}


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def translator() -> Translator:
    return Translator(current_language())


def sentence(text: str) -> str:
    """A core message (lower-case, no full stop) as a sentence."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def refusal(text: str) -> str:
    """A refusal as a flash message: the core's message as a sentence, then
    the reassurance that nothing changed."""
    return sentence(text) + " " + translator().gettext("Nothing was saved.")


def _select_language() -> str:
    chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    default = current_app.config.get("DEFAULT_LANGUAGE", DEFAULT_LANGUAGE)
    return request.accept_languages.best_match(list(LANGUAGES), default=default) or default


def _remember_language(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", True),
        )
    return response


@cache
def translations(language: str) -> NullTranslations:
    """The catalog for `language` outside a request (the command line)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    return Translations.load(str(TRANSLATIONS_DIR), [language], "messages")


DATE_PATTERNS = {"de": "EEE dd.MM.yyyy", "en": "EEE d MMM yyyy"}


@dataclass(frozen=True)
class Translator:
    """Texts, dates and core messages in one language."""

    language: str

    def gettext(self, text: str, /, **values: Any) -> str:
        translated = translations(self.language).gettext(text)
        return translated % values if values else translated

    def ngettext(self, singular: str, plural: str, num: int, /, **values: Any) -> str:
        translated = translations(self.language).ngettext(singular, plural, num)
        return translated % {"num": num, **values}

    def date(self, day: date) -> str:
        return format_date(day, DATE_PATTERNS[self.language], locale=self.language)

    def offset(self, offset: Offset) -> str:
        if offset.unit is Unit.WEEKS:
            return self.ngettext("%(num)d week", "%(num)d weeks", offset.amount)
        if offset.unit is Unit.MONTHS:
            return self.ngettext("%(num)d month", "%(num)d months", offset.amount)
        return self.ngettext("%(num)d day", "%(num)d days", offset.amount)

    def localize(self, message: Message) -> str:
        template = translations(self.language).gettext(message.template)
        return template.format(**{k: self._value(v) for k, v in message.values})

    def _value(self, value: Any) -> str:
        if isinstance(value, Message):
            return self.localize(value)
        if isinstance(value, datetime):
            return f"{self.date(value.date())} {value:%H:%M}"
        if isinstance(value, date):
            return self.date(value)
        if isinstance(value, Offset):
            return self.offset(value)
        if isinstance(value, Text):
            return value.get(self.language)
        if isinstance(value, list | tuple):
            separator = "; " if any(isinstance(v, Message) for v in value) else ", "
            return separator.join(self._value(v) for v in value)
        return str(value)
