"""Forms of the settings area: accounts and organisations."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import CheckboxListField
from app.forms.fields import DayField, RegionField

ROLE_NAMES = {
    "admin": _l("Administration"),
    "trainer": _l("Trainer"),
    "consultant": _l("Consultant"),
    "hr": _l("HR"),
}
DEFAULT_TIMEZONE = "Europe/Berlin"


def timezone_choices() -> list[str]:
    return sorted(available_timezones())


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
    timezone = SelectField(
        _l("Time zone"),
        choices=[SelectChoice(z, z) for z in timezone_choices()],
        default=DEFAULT_TIMEZONE,
        validators=[InputRequired()],
    )
    version = HiddenField()


class OrganisationSettingsForm(OrganisationForm):
    """An organisation's page: also its sender address and reminders (their
    rules are app.services.reminders')."""

    mail_from = EmailField(_l("Sender address of its e-mails"), validators=[Length(max=320)])
    reminder_days = StringField(_l("Reminders … days before"), validators=[Length(max=100)])
    study_reminders = BooleanField(_l("Reminders when a self-study phase starts and ends"))


class ClosureForm(FlaskForm):  # type: ignore[misc]
    first = DayField(_l("Closed on (or from)"), validators=[InputRequired()])
    last = DayField(_l("Until (for several days)"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
