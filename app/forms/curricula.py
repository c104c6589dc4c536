"""Forms of the workbench. Values are checked by the curriculum loader, so a
form reports exactly what a file with the same content would."""

from __future__ import annotations

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
from curricula.model import Unit


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
    duration = StringField(_l("Duration (e.g. 8h, 90min)"), validators=[Optional()])
    span = GapField(_l("Or: length of a phase"), validators=[Optional()])
    after = SelectField(_l("After"), validators=[Optional()])
    gap_min = GapField(_l("Gap at least"), validators=[Optional()])
    gap_preferred = GapField(_l("Gap preferably"), validators=[Optional()])
    gap_max = GapField(_l("Gap at most"), validators=[Optional()], default_unit=Unit.MONTHS)
    # Labelled with the curriculum's unit length by the view.
    teaching_units = StringField(_l("Teaching units"), validators=[Optional()])
    counts_for_certificate = BooleanField(_l("Counts for the certificate"))
    topics = TextAreaField(
        _l("Topics, one per line: German | English"), validators=[Optional(), Length(max=5000)]
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
