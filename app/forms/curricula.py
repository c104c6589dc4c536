"""Forms of the workbench. Values are checked by the curriculum loader, so a
form reports exactly what a file with the same content would."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import CheckboxListField
from app.forms.fields import GapField
from curricula.durations import file_duration, file_minutes
from curricula.model import Unit

DURATION_MESSAGE = _l("Please enter a duration such as 8 h, 90 min or 7 h 30 min.")
# One part of a duration as people type it: a number and a unit word,
# German or English, abbreviated or not; parts may be joined by a comma.
_PART = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*([a-zäöü]+)\.?\s*,?")
_HOURS = {"h", "std", "stunde", "stunden", "hour", "hours", "hr", "hrs"}
_MINUTES = {"min", "mins", "minute", "minuten", "minutes"}


def read_duration(text: str) -> str:
    """A duration as people write it ("8 Std.", "90 Min.", "1,5 h",
    "7 Std. 30 Min.", or the file's "7h30min") in the file's way, whole
    hours first ("1,5 Std. 30 Min." is "2h", "90 Min." "1h30min"); "" for
    nothing. ValueError with what to write instead."""
    rest = text.strip().lower()
    if not rest:
        return ""
    hours: Decimal | None = None
    minutes: Decimal | None = None
    while rest:
        match = _PART.match(rest)
        if match is None:
            raise ValueError(str(DURATION_MESSAGE))
        amount, unit = Decimal(match.group(1).replace(",", ".")), match.group(2)
        if unit in _HOURS and hours is None:
            hours = amount
        elif unit in _MINUTES and minutes is None and amount == amount.to_integral_value():
            minutes = amount
        else:
            raise ValueError(str(DURATION_MESSAGE))
        rest = rest[match.end() :].strip()
    # "1,5 Std." is 90 minutes; a fraction of a minute is no time.
    total = (hours or Decimal(0)) * 60 + (minutes or Decimal(0))
    if total != total.to_integral_value():
        raise ValueError(str(DURATION_MESSAGE))
    return file_duration(int(total))


def duration_text(value: str) -> str:
    """The file's "7h30min" as the reader writes it: 7 Std. 30 Min. (7 h 30 min)."""
    total = file_minutes(value)
    if total is None:
        return value
    hours, minutes = divmod(total, 60)
    if hours and minutes:
        return gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    if hours or not minutes:
        return gettext("%(hours)s h", hours=hours)
    return gettext("%(minutes)s min", minutes=minutes)


class DurationField(StringField):  # type: ignore[misc]
    """A duration typed as people write it, in German or English; its data
    is the curriculum file's way of writing it ("8h", "90min").

    A text that is no duration is not refused here: it goes on as typed to
    the curriculum's own check, which refuses it together with every other
    problem of the element; `unreadable` tells the page to say how to write
    one instead of how the file writes it."""

    unreadable = False

    def _value(self) -> str:
        # What was typed stays as typed while the page is sent back.
        if self.raw_data:
            return str(self.raw_data[0])
        return duration_text(self.data or "")

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        text = valuelist[0] if valuelist else ""
        try:
            self.data = read_duration(text)
        except ValueError:
            self.data, self.unreadable = text.strip(), True


class DraftForm(FlaskForm):  # type: ignore[misc]
    # The draft's version when the page was loaded.
    version = HiddenField(validators=[InputRequired()])


class ElementForm(DraftForm):
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    title_de = StringField(_l("Title (German)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=300)])
    mode = SelectField(_l("Mode"), validators=[DataRequired()])
    start = StringField(
        _l("Start time (e.g. 09:00), for a day or session"), validators=[Optional()]
    )
    duration = DurationField(_l("Duration (e.g. 8 h, 90 min)"), validators=[Optional()])
    span = GapField(_l("Or: length of a phase"), validators=[Optional()])
    after = SelectField(_l("After"), validators=[Optional()])
    gap_min = GapField(_l("Gap at least"), validators=[Optional()])
    gap_preferred = GapField(_l("Gap preferably"), validators=[Optional()])
    gap_max = GapField(_l("Gap at most"), validators=[Optional()], default_unit=Unit.MONTHS)
    # Labelled with the curriculum's unit length by the view.
    teaching_units = StringField(_l("Teaching units"), validators=[Optional()])
    counts_for_certificate = BooleanField(_l("Counts for the certificate"))
    # Line by line the same topic in both languages, as the titles above.
    topics_de = TextAreaField(
        _l("Topics in German, one per line"), validators=[Optional(), Length(max=5000)]
    )
    topics_en = TextAreaField(
        _l("Topics in English, in the same order (an empty line: as in German)"),
        validators=[Optional(), Length(max=5000)],
    )


class NewElementForm(DraftForm):
    title_de = StringField(_l("Title (German)"), validators=[DataRequired(), Length(max=300)])
    # Left empty, the element has its German title in English too; it can be
    # given one of its own later, on the element's page.
    title_en = StringField(
        _l("Title (English; empty: as in German)"), validators=[Optional(), Length(max=300)]
    )


class RenameForm(FlaskForm):  # type: ignore[misc]
    # What the titles were when the page was loaded (see `title_version`).
    version = HiddenField(validators=[InputRequired()])
    title_de = StringField(_l("Title (German)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=300)])


class PublishForm(DraftForm):
    # "yes" once the page saying what publishing does was shown.
    confirmed = HiddenField()


class ForkForm(FlaskForm):  # type: ignore[misc]
    # Which organisations the user may fork into is the workbench's rule, not
    # the choice list's: a value outside it is refused (as not found) there.
    organisation = SelectField(
        _l("For the organisation"),
        coerce=int,
        validators=[DataRequired()],
        validate_choice=False,
    )


class ImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("Curriculum file (.toml)"), validators=[FileRequired()])


class TakeForm(DraftForm):
    change = HiddenField(validators=[DataRequired()])
    overwrite = HiddenField()


class AtLeastForm(Form):  # type: ignore[misc]
    """One rule "at least n of these elements"; left empty, there is none."""

    count = IntegerField(_l("At least"), validators=[Optional(), NumberRange(min=1, max=100)])
    of = CheckboxListField(_l("of these elements"), validators=[Optional()])


class CertificateForm(DraftForm):
    required = CheckboxListField(_l("Required elements"), validators=[Optional()])
    # The rules there are and one empty one to add; the view gives the choices.
    at_least = FieldList(FormField(AtLeastForm), max_entries=20)
    min_hours_percent = IntegerField(
        _l("Teaching units to attend at least, in % (empty: no such rule)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
