from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, InputRequired, Length, Optional

from app.forms import CheckboxListField
from app.forms.fields import DayField


class VersionedForm(FlaskForm):  # type: ignore[misc]
    # The session's version when the form was loaded: a change made by someone
    # else in the meantime is refused instead of silently overwritten.
    version = HiddenField(validators=[InputRequired()])


class MoveForm(VersionedForm):
    day = DayField(_l("New date"), validators=[InputRequired()])
    start_time = TimeField(_l("New start time (optional)"), validators=[Optional()])
    pin = BooleanField(_l("Pin the session to this date"), default=True)
    earlier = BooleanField(_l("Also move the earlier sessions a rule ties to this one"))
    pinned_too = BooleanField(_l("Also move pinned sessions that have to move"))
    held = BooleanField(_l("The session took place on this day (record a past date)"))


class DetailsForm(VersionedForm):
    venue = TextAreaField(
        _l("Venue of this session (empty: the cohort's)"),
        validators=[Optional(), Length(max=1000)],
    )
    online_link = URLField(
        _l("Online link of this session (empty: the cohort's)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500)],
    )
    trainers = CheckboxListField(_l("Trainers"), coerce=int)


class StatusForm(VersionedForm):
    # Sent by the confirmation page of a cancellation.
    confirmed = HiddenField()
