"""Languages: German first, English second, from the message catalogs in
`app/translations` (source strings are English; the build compiles them).

Web requests pick the language with Flask-Babel; the command line uses the
same catalogs through Babel directly, outside any request.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import holidays
from babel import Locale
from babel.dates import format_date
from babel.support import NullTranslations, Translations
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app import lists
from curricula.messages import Message
from curricula.model import Offset, Text, Unit

LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}
DEFAULT_LANGUAGE = "de"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_COOKIE = "qualiplan_lang"

babel = Babel()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_select_language)
    # Flask-Babel's template callables look the catalog up through several
    # context look-ups for every text (about 10 µs each, hundreds per page);
    # these find it once per request and keep each text's result.
    app.jinja_env.globals.update(
        gettext=_template_gettext, _=_template_gettext, ngettext=_template_ngettext
    )
    app.after_request(_remember_language)

    @app.context_processor
    def _language_context() -> dict[str, object]:
        return {"current_language": current_language(), "languages": list(LANGUAGES.items())}


_CATALOG = "qualiplan.catalog"
_LANGUAGE = "qualiplan.language"


def request_catalog() -> NullTranslations:
    """The catalog of the current request's language, looked up once per
    request (Flask-Babel chooses the language once per request too)."""
    if not has_request_context():
        return get_translations()
    environ = request.environ
    catalog = environ.get(_CATALOG)
    if catalog is None:
        catalog = environ[_CATALOG] = get_translations()
    return catalog


# Per catalog (Flask-Babel keeps one per language for the process) and
# escaping, each text without values as a template shows it.
_shown: dict[tuple[NullTranslations, bool], dict[str, str]] = {}


@pass_context
def _template_gettext(context: Context, text: str, /, **values: Any) -> str:
    """`_()` and `gettext()` in templates, as Jinja's new-style gettext: the
    translation is marked safe where the template escapes, then formatted
    with the values (escaped), always, so `%%` reads as `%` everywhere."""
    catalog = request_catalog()
    autoescape = context.eval_ctx.autoescape
    if not values:
        shown = _shown.get((catalog, autoescape))
        if shown is None:
            shown = _shown[(catalog, autoescape)] = {}
        found = shown.get(text)
        if found is None:
            found = shown[text] = _as_shown(catalog.gettext(text), autoescape) % {}
        return found
    return _as_shown(catalog.gettext(text), autoescape) % values


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, num: int, /, **values: Any
) -> str:
    translated = request_catalog().ngettext(singular, plural, num)
    return _as_shown(translated, context.eval_ctx.autoescape) % {"num": num, **values}


def _as_shown(translated: str, autoescape: bool) -> str:
    # The catalog's texts are the application's own, trusted as Jinja's
    # gettext trusts them; only the values formatted in are escaped.
    return Markup(translated) if autoescape else translated  # noqa: S704


def current_language() -> str:
    """The language of the current request (chosen once per request, kept
    in its environ: filters ask for it for every date and number)."""
    if has_request_context():
        environ = request.environ
        language = environ.get(_LANGUAGE)
        if language is None:
            locale = get_locale()
            language = environ[_LANGUAGE] = (
                locale.language if locale is not None else DEFAULT_LANGUAGE
            )
        return language
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

# Countries whose subdivisions a region list offers, in this order; any other
# region the holiday data knows is still valid where it is typed or stored.
REGION_COUNTRIES = ("DE", "AT", "CH")
# ISO 3166-2 subdivision codes; the holidays package also knows a few
# city-level regions (DE "Augsburg") that have no ISO code.
_ISO_SUBDIVISION = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@cache
def subdivision_names(country: str) -> dict[str, str]:
    """A country's subdivisions by code with their own names, from the
    holidays package ("BY" → "Bayern", AT "9" → "Wien")."""
    try:
        calendar = holidays.country_holidays(country)
    except NotImplementedError:
        return {}
    names: dict[str, str] = {}
    # The first alias of a code is its full name ("Burgenland" before "Bgld").
    for name, code in getattr(calendar, "subdivisions_aliases", {}).items():
        names.setdefault(code, name)
    return {
        code: names.get(code, code)
        for code in calendar.subdivisions
        if len(code) <= 3 and set(code) <= _ISO_SUBDIVISION
    }


# Region names in the reader's language. The holiday data names each
# subdivision once, in its own language (Genève, Ticino beside Freiburg):
# the three countries the list offers are named here in both languages.
REGION_NAMES = {
    "de": {
        "CH-AG": "Aargau",
        "CH-AI": "Appenzell Innerrhoden",
        "CH-AR": "Appenzell Ausserrhoden",
        "CH-BE": "Bern",
        "CH-BL": "Basel-Landschaft",
        "CH-BS": "Basel-Stadt",
        "CH-FR": "Freiburg",
        "CH-GE": "Genf",
        "CH-GL": "Glarus",
        "CH-GR": "Graubünden",
        "CH-JU": "Jura",
        "CH-LU": "Luzern",
        "CH-NE": "Neuenburg",
        "CH-NW": "Nidwalden",
        "CH-OW": "Obwalden",
        "CH-SG": "St. Gallen",
        "CH-SH": "Schaffhausen",
        "CH-SO": "Solothurn",
        "CH-SZ": "Schwyz",
        "CH-TG": "Thurgau",
        "CH-TI": "Tessin",
        "CH-UR": "Uri",
        "CH-VD": "Waadt",
        "CH-VS": "Wallis",
        "CH-ZG": "Zug",
        "CH-ZH": "Zürich",
    },
    "en": {
        "DE-BW": "Baden-Württemberg",
        "DE-BY": "Bavaria",
        "DE-BE": "Berlin",
        "DE-BB": "Brandenburg",
        "DE-HB": "Bremen",
        "DE-HH": "Hamburg",
        "DE-HE": "Hesse",
        "DE-MV": "Mecklenburg-Western Pomerania",
        "DE-NI": "Lower Saxony",
        "DE-NW": "North Rhine-Westphalia",
        "DE-RP": "Rhineland-Palatinate",
        "DE-SL": "Saarland",
        "DE-SN": "Saxony",
        "DE-ST": "Saxony-Anhalt",
        "DE-SH": "Schleswig-Holstein",
        "DE-TH": "Thuringia",
        "AT-1": "Burgenland",
        "AT-2": "Carinthia",
        "AT-3": "Lower Austria",
        "AT-4": "Upper Austria",
        "AT-5": "Salzburg",
        "AT-6": "Styria",
        "AT-7": "Tyrol",
        "AT-8": "Vorarlberg",
        "AT-9": "Vienna",
        "CH-AG": "Aargau",
        "CH-AI": "Appenzell Innerrhoden",
        "CH-AR": "Appenzell Ausserrhoden",
        "CH-BE": "Bern",
        "CH-BL": "Basel-Landschaft",
        "CH-BS": "Basel-Stadt",
        "CH-FR": "Fribourg",
        "CH-GE": "Geneva",
        "CH-GL": "Glarus",
        "CH-GR": "Graubünden",
        "CH-JU": "Jura",
        "CH-LU": "Lucerne",
        "CH-NE": "Neuchâtel",
        "CH-NW": "Nidwalden",
        "CH-OW": "Obwalden",
        "CH-SG": "St. Gallen",
        "CH-SH": "Schaffhausen",
        "CH-SO": "Solothurn",
        "CH-SZ": "Schwyz",
        "CH-TG": "Thurgau",
        "CH-TI": "Ticino",
        "CH-UR": "Uri",
        "CH-VD": "Vaud",
        "CH-VS": "Valais",
        "CH-ZG": "Zug",
        "CH-ZH": "Zurich",
    },
}


def region_name(code: str, language: str | None = None) -> str:
    """A region's name for people in the reader's language ("DE-BY" →
    "Bayern", "Bavaria"); a whole country by its name; the code where no
    name is known."""
    return _region_name(code, language or current_language())


@lru_cache(maxsize=512)
def _region_name(code: str, language: str) -> str:
    country, _, subdivision = code.strip().upper().partition("-")
    if subdivision:
        own = subdivision_names(country).get(subdivision, code.strip())
        return REGION_NAMES.get(language, {}).get(f"{country}-{subdivision}", own)
    return country_name(country, language) if country else code


def country_name(country: str, language: str) -> str:
    return str(Locale(language).territories.get(country, country))


def _sort_key(name: str) -> str:
    # "Thüringen" between "Sachsen-Anhalt" and "Wien", not after "Z".
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=16)
def _region_choices(language: str, extra: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    choices: list[tuple[str, str, str]] = []
    for country in REGION_COUNTRIES:
        group = country_name(country, language)
        names = {
            code: region_name(f"{country}-{code}", language) for code in subdivision_names(country)
        }
        for code in sorted(names, key=lambda c: _sort_key(names[c])):
            choices.append((f"{country}-{code}", names[code], group))
        whole = translations(language).gettext("%(country)s, nationwide holidays only")
        choices.append((country, whole % {"country": group}, group))
    known = {value for value, _, _ in choices}
    other = translations(language).gettext("Other regions")
    for code in extra:
        if code and code not in known:
            choices.append(
                (
                    code,
                    f"{region_name(code, language)} ({code})"
                    if region_name(code, language) != code
                    else code,
                    other,
                )
            )
    return tuple(choices)


def region_choices(
    language: str | None = None, extra: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """Regions to choose from as (code, name, country): the German states
    first, then Austria's and Switzerland's, each country also as a whole;
    `extra` (a region stored before) is kept under "Other regions"."""
    return list(_region_choices(language or current_language(), tuple(extra)))


@lru_cache(maxsize=4096)
def _long_date(day: date, language: str) -> str:
    # Babel parses the locale and the pattern on every call (tens of µs);
    # pages show the same few hundred days over and over.
    return format_date(day, DATE_PATTERNS[language], locale=language)


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
        return _long_date(day, self.language)

    def short_date(self, day: date) -> str:
        """16.03.2026 (16 Mar 2026): a date without its weekday."""
        return lists.short_day(day, self.language)

    def number(self, value: float | Decimal | int) -> str:
        """18 (not 18.0), 1,5 and 1.234 in German; 1.5 and 1,234 in English."""
        return lists.number(value, self.language)

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
        if isinstance(value, float | Decimal):
            return self.number(value)
        if isinstance(value, list | tuple):
            separator = "; " if any(isinstance(v, Message) for v in value) else ", "
            return separator.join(self._value(v) for v in value)
        return str(value)
