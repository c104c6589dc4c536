"""Forms of the settings area: accounts and organisations."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from zoneinfo import available_timezones

from babel import Locale
from babel.dates import get_timezone_location
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.forms import CheckboxListField
from app.forms.fields import DayField, RegionField
from app.i18n import current_language, translations

ROLE_NAMES = {
    "admin": _l("Administration"),
    "trainer": _l("Trainer"),
    "consultant": _l("Consultant"),
    "hr": _l("HR"),
}
DEFAULT_TIMEZONE = "Europe/Berlin"
TIMEZONE_MESSAGE = _l("Please choose a time zone from the list.")

# Offered first, after the organisation's own: where the clients are.
COMMON_TIMEZONES = (
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Luxembourg",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Paris",
    "Europe/Rome",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
)


@cache
def _zone_countries() -> dict[str, str]:
    """Every time zone people choose from, with its country: the zone table
    of the time zone database, one name per place, without the old aliases
    kept for compatibility (Africa/Asmera, America/Buenos_Aires, US/Eastern)."""
    table = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    known = available_timezones()
    zones: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            if zone in known:
                zones.setdefault(zone, country)
    return zones


def timezone_choices() -> list[str]:
    """The time zones offered, by their database names (UTC last)."""
    return [*sorted(_zone_countries()), "UTC"]


def _sort_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=8192)
def timezone_label(zone: str, language: str) -> str:
    """A time zone as people know it: its city and country ("Wien
    (Österreich)", "Vienna (Austria)"); UTC as world time."""
    if zone == "UTC":
        return translations(language).gettext("Coordinated Universal Time (UTC)")
    try:
        city = get_timezone_location(zone, locale=language, return_city=True)
    except LookupError:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
    country = _zone_countries().get(zone)
    if country is None:
        return f"{city} ({zone})"
    return f"{city} ({Locale(language).territories.get(country, country)})"


@lru_cache(maxsize=64)
def _timezone_choices(language: str, first: tuple[str, ...]) -> tuple[SelectChoice, ...]:
    tr = translations(language)
    common_group = tr.gettext("Frequently chosen")
    rest_group = tr.gettext("All time zones")
    known = set(timezone_choices())
    leading = [z for z in dict.fromkeys((*first, *COMMON_TIMEZONES)) if z]
    choices = [
        SelectChoice(z, timezone_label(z, language) if z in known else z, optgroup=common_group)
        for z in leading
    ]
    rest = [z for z in timezone_choices() if z not in leading]
    rest.sort(key=lambda z: (z == "UTC", _sort_key(timezone_label(z, language))))
    choices += [SelectChoice(z, timezone_label(z, language), optgroup=rest_group) for z in rest]
    return tuple(choices)


class TimezoneField(SelectField):  # type: ignore[misc]
    """A time zone chosen by its city and country: the ones given first
    (an organisation's), then the frequently chosen European ones, then all
    of the time zone database without its old aliases. A zone stored before
    that the list lacks stays choosable, so that saving again keeps it."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.pop("choices", None)
        kwargs.setdefault("invalid_choice_message", TIMEZONE_MESSAGE)
        super().__init__(label, validators, choices=[], **kwargs)
        self.first: tuple[str, ...] = ()

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)
        stored = self.object_data if isinstance(self.object_data, str) else ""
        self.offer_first((stored,) if stored else ())

    def offer_first(self, zones: Iterable[str]) -> None:
        """Offer `zones` before the others (an organisation's own)."""
        self.first = tuple(dict.fromkeys((*zones, *self.first)))
        self.choices = list(_timezone_choices(current_language(), self.first))


REMINDER_DAY_CHOICES = (1, 2, 3, 7, 14)
REMINDER_DAYS_MESSAGE = _l("Please tick days from the list.")


class ReminderDaysField(CheckboxListField):
    """Days before each session, ticked; anything else is refused with a
    sentence (not the library's)."""

    def process_formdata(self, valuelist: Any) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = []
            raise ValueError(str(REMINDER_DAYS_MESSAGE)) from None

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(str(REMINDER_DAYS_MESSAGE)) from None


class AccountForm(FlaskForm):  # type: ignore[misc]
    """Role and organisations of an account; the choices are the view's."""

    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(value, name) for value, name in ROLE_NAMES.items()],
        validators=[InputRequired()],
    )
    organisations = CheckboxListField(_l("Organisations"), coerce=int)
    version = HiddenField(validators=[InputRequired()])


class InviteForm(AccountForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    version = None  # a new account has no earlier state


class OrganisationForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region = RegionField(_l("Region"), validators=[InputRequired()])
    timezone = TimezoneField(
        _l("Time zone"), default=DEFAULT_TIMEZONE, validators=[InputRequired()]
    )
    version = HiddenField()


class OrganisationSettingsForm(OrganisationForm):
    """An organisation's page: also its sender address and reminders (their
    rules are app.services.reminders')."""

    mail_from = EmailField(_l("Sender address of its e-mails"), validators=[Length(max=320)])
    # The choices are the view's: REMINDER_DAY_CHOICES and any stored before.
    reminder_days = ReminderDaysField(_l("Reminder e-mails before each session"), coerce=int)
    study_reminders = BooleanField(_l("Reminders when a self-study phase starts and ends"))


class ClosureForm(FlaskForm):  # type: ignore[misc]
    first = DayField(_l("Closed on (or from)"), validators=[InputRequired()])
    last = DayField(_l("Until (for several days)"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
