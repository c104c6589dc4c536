from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import CheckboxListField
from app.forms.fields import DayField, RegionField
from app.forms.settings import DEFAULT_TIMEZONE, TimezoneField


class CohortForm(FlaskForm):  # type: ignore[misc]
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    version = SelectField(_l("Curriculum"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name of the cohort"), validators=[DataRequired(), Length(max=200)])
    # InputRequired, so that "26.13.2027" says how to write a date, not "required".
    start = DayField(_l("Start date"), validators=[InputRequired()])
    # Public holidays follow the region; region and time zone start as the
    # organisation's and follow it while left at its values.
    region = RegionField(_l("Region"), validators=[DataRequired()])
    timezone = TimezoneField(
        _l("Time zone"), default=DEFAULT_TIMEZONE, validators=[DataRequired()]
    )
    # The organisation whose region and time zone the form showed.
    defaults_of = HiddenField()
    delivery = SelectField(
        _l("Delivery where the curriculum leaves it open"),
        choices=[
            SelectChoice("", _l("decide later")),
            SelectChoice("in_person", _l("In person")),
            SelectChoice("online", _l("Online")),
        ],
        default="",
    )
    venue = TextAreaField(_l("Venue (address)"), validators=[Optional(), Length(max=1000)])
    online_link = URLField(
        _l("Online meeting link"),
        validators=[Optional(), URL(require_tld=False), Length(max=500)],
    )
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=500)])
    trainers = CheckboxListField(_l("Trainers"), coerce=int)
    closures = TextAreaField(
        _l(
            "Closure days of this cohort (one per line: 24.12.2027 or 24.12.2027–31.12.2027, "
            "then a reason)"
        ),
        validators=[Optional(), Length(max=5000)],
    )


class StateForm(FlaskForm):  # type: ignore[misc]
    state = HiddenField(validators=[InputRequired()])
    # Sent by the confirmation page: a cancellation or an early start without
    # it leads to that page first.
    confirmed = HiddenField()


class CohortVersionForm(FlaskForm):  # type: ignore[misc]
    """A step confirmed on a page (taking a cancellation back, moving onto a
    fork): the cohort's version when the page was loaded, so that a change
    made since is refused instead of acted on unseen."""

    version = HiddenField(validators=[InputRequired()])


class ReopenForm(FlaskForm):  # type: ignore[misc]
    # Checked by the service (required, its length) so that every door says the same.
    reason = TextAreaField(_l("Why is the cohort reopened?"), validators=[Optional()])


class ReplanForm(FlaskForm):  # type: ignore[misc]
    # The cohort's version when the page was loaded.
    version = HiddenField(validators=[InputRequired()])
    start = DayField(_l("New start"), validators=[InputRequired()])
    # Sent by the preview: without it the re-plan is shown, not saved.
    confirmed = HiddenField()


class ForkMoveForm(CohortVersionForm):
    # The fork's version the preview showed: a newer one published since
    # would move the cohort onto dates nobody has seen.
    target = HiddenField(validators=[InputRequired()])


class ChangeCohortForm(CohortVersionForm):
    name = StringField(_l("Name of the cohort"), validators=[DataRequired(), Length(max=200)])
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=500)])
    venue = TextAreaField(_l("Venue (address)"), validators=[Optional(), Length(max=1000)])
    online_link = URLField(
        _l("Online meeting link"),
        validators=[Optional(), URL(require_tld=False), Length(max=500)],
    )
