"""Forms of the tandem page; each carries the cohort's version as loaded."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired


class TandemActionForm(FlaskForm):  # type: ignore[misc]
    # The cohort's version when the page was loaded: a change made by
    # someone else in between is refused instead of overwritten.
    version = HiddenField(validators=[InputRequired()])


class SwapForm(TandemActionForm):
    first = SelectField(_l("Person"), coerce=int, validators=[DataRequired()])
    second = SelectField(_l("swaps places with"), coerce=int, validators=[DataRequired()])


class NotTogetherForm(FlaskForm):  # type: ignore[misc]
    first = SelectField(_l("Person"), coerce=int, validators=[DataRequired()])
    second = SelectField(_l("never in a tandem with"), coerce=int, validators=[DataRequired()])
