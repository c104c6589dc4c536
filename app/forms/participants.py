from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional


class ParticipantForm(FlaskForm):  # type: ignore[misc]
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    # No umlauts before the @: many mail servers refuse such addresses (SMTPUTF8).
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(allow_smtputf8=False), Length(max=254)],
    )
    department = StringField(_l("Department"), validators=[Optional(), Length(max=200)])
    site = StringField(_l("Site"), validators=[Optional(), Length(max=200)])
    manager_name = StringField(_l("Manager"), validators=[Optional(), Length(max=200)])
    manager_email = EmailField(
        _l("Manager's e-mail address"),
        validators=[Optional(), Email(allow_smtputf8=False), Length(max=254)],
    )
    employee_number = StringField(_l("Employee number"), validators=[Optional(), Length(max=50)])
    version = HiddenField()


class EnrolForm(FlaskForm):  # type: ignore[misc]
    cohort = SelectField(_l("Cohort"), coerce=int, validators=[DataRequired()])
    # Ticked on the page that shows what speaks against the enrolment.
    acknowledge = BooleanField(_l("Enrol all the same"))


class WithdrawForm(FlaskForm):  # type: ignore[misc]
    pass


class UploadForm(FlaskForm):  # type: ignore[misc]
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired()])


class MappingForm(FlaskForm):  # type: ignore[misc]
    """The second step: which column is which field; the file travels along."""

    organisation = HiddenField(validators=[InputRequired()])
    filename = HiddenField(validators=[InputRequired()])
    content = HiddenField(validators=[InputRequired()])
    # The file's row that holds the column headers (title rows may stand above it).
    header_row = StringField(_l("Header row"), validators=[Optional()])
    reread = SubmitField(_l("Read the header from this row"))
    acknowledge = BooleanField(
        _l(
            "Enrol all the same people who already hold a certificate for the curriculum "
            "or are enrolled in another of its cohorts"
        )
    )
