from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
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
    """A button that changes something: only the CSRF token."""


class ConfirmWithdrawalForm(FlaskForm):  # type: ignore[misc]
    """The withdrawal's confirmation page: without `confirmed` (a button on
    an older page) the page only shows what would happen."""

    confirmed = HiddenField()
    back = HiddenField()


class UndoWithdrawalForm(FlaskForm):  # type: ignore[misc]
    # Which withdrawal to take back: another one since makes it outdated. Not
    # required here: the service checks the record first (another's answers
    # "not found"), then refuses a missing or other stamp as outdated.
    withdrawn_at = HiddenField()
    back = HiddenField()


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


class ListForm(FlaskForm):  # type: ignore[misc]
    """The list's search and filters, read from the address (GET, no CSRF):
    a value that is not one of the choices is left out, never an error."""

    class Meta:
        csrf = False

    q = SearchField(_l("Name, e-mail address, department, site or employee number"))
    organisation = SelectField(_l("Organisation"))
    cohort = SelectField(_l("Cohort"))
    department = SelectField(_l("Department"))
    site = SelectField(_l("Site"))
    certificate = SelectField(
        _l("Certificate"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("in_force", _l("Holds a certificate in force")),
            SelectChoice("none", _l("Holds no certificate in force")),
            SelectChoice("revoked", _l("Had a certificate revoked")),
        ],
    )
    sort = SelectField(
        _l("Order"),
        default="name",
        choices=[
            SelectChoice("name", _l("Name, A to Z")),
            SelectChoice("-name", _l("Name, Z to A")),
            SelectChoice("newest", _l("Added, newest first")),
            SelectChoice("oldest", _l("Added, oldest first")),
        ],
    )


BULK_ACTIONS = [
    SelectChoice("enrol", _l("Enrol in a cohort")),
    SelectChoice("withdraw", _l("Withdraw from a cohort")),
    SelectChoice("links", _l("Send personal links by e-mail")),
]


class BulkForm(FlaskForm):  # type: ignore[misc]
    """An action for the people ticked in the list, all the list's matches,
    or those a pasted list names; the next page asks for confirmation."""

    action = SelectField(_l("Action"), choices=BULK_ACTIONS)
    cohort = SelectField(_l("Cohort"), validate_choice=False)
    all_matching = BooleanField(_l("All matches of the list, not only those ticked"))
    pasted = TextAreaField(
        _l("E-mail addresses or employee numbers"),
        validators=[Optional(), Length(max=100_000)],
    )


class ConfirmBulkForm(FlaskForm):  # type: ignore[misc]
    action = HiddenField(validators=[InputRequired()])
    cohort = HiddenField()
    # Whom to enrol (or withdraw, or send links), and whom to put on the
    # cohort's waiting list: ids separated by commas.
    people = HiddenField()
    wait = HiddenField()
    acknowledge = BooleanField(_l("Enrol them all the same"))
    # The list as it was filtered, to return to.
    back = HiddenField()


class BulkUndoForm(FlaskForm):  # type: ignore[misc]
    """Undoing a withdrawal of many: each enrolment with the stamp of its
    withdrawal ("id:stamp", separated by commas)."""

    cohort = HiddenField(validators=[InputRequired()])
    withdrawals = HiddenField(validators=[InputRequired()])
    back = HiddenField()
