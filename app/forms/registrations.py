"""The forms of registering (app.views.registrations) and the registration
fields of the cohort's edit form."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app.forms.fields import DayField

_HOURS = re.compile(r"^\s*(\d{1,2})(?:[.,](\d{1,2}))?\s*$")
HOURS_MESSAGE = _l("Please enter hours such as 2 or 2,5.")


def minutes_of(text: str | None) -> int | None:
    """Hours typed as 2, 2,5 or 2.5, in whole minutes; None when not a number."""
    match = _HOURS.match(text or "")
    if not match:
        return None
    whole, fraction = match.groups()
    return round((int(whole) + float(f"0.{fraction or 0}")) * 60)


def _email(label: Any, required: bool) -> EmailField:
    first = DataRequired() if required else Optional()
    # No umlauts before the @: many mail servers refuse such addresses (SMTPUTF8).
    return EmailField(label, validators=[first, Email(allow_smtputf8=False), Length(max=254)])


class ManagerFields:
    """The manager's name and address; the address is required where the
    organisation asks the manager (`manager_required`)."""

    manager_name = StringField(_l("Your manager"), validators=[Optional(), Length(max=200)])
    manager_email = _email(_l("Your manager's e-mail address"), required=False)
    manager_required = True

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)  # type: ignore[misc]
        field = self.manager_email  # type: ignore[attr-defined]
        own = getattr(self, "email", None)
        if self.manager_required and not (field.data or "").strip():
            field.errors = [*field.errors, _l("Please name your manager's e-mail address.")]
            return False
        if own is not None and field.data and field.data.lower() == (own.data or "").lower():
            field.errors = [*field.errors, _l("Your manager's address must not be your own.")]
            return False
        return valid


class RegisterForm(ManagerFields, FlaskForm):  # type: ignore[misc]
    cohort = RadioField(_l("Cohort"), coerce=int, validators=[InputRequired()])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = _email(_l("Your work e-mail address"), required=True)
    department = StringField(_l("Department"), validators=[Optional(), Length(max=200)])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """Confirming the address: only the CSRF token."""


class InvitationForm(ManagerFields, FlaskForm):  # type: ignore[misc]
    """Answering HR's invitation: the manager, filled in from the record."""


class ManagerConfirmForm(FlaskForm):  # type: ignore[misc]
    weekly_hours = StringField(
        _l("Time granted for the role, hours a week"), validators=[DataRequired()]
    )

    def validate_weekly_hours(self, field: Field) -> None:
        if minutes_of(field.data) is None:
            raise ValidationError(HOURS_MESSAGE)


class ManagerRefuseForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=1000)])


class AcceptForm(FlaskForm):  # type: ignore[misc]
    registration = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    # Ticked on the page that shows what speaks against the enrolment.
    acknowledge = BooleanField(_l("Accept all the same"))


class DeclineForm(FlaskForm):  # type: ignore[misc]
    registration = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    reason = TextAreaField(
        _l("Reason for the person"), validators=[DataRequired(), Length(max=1000)]
    )


class InviteForm(FlaskForm):  # type: ignore[misc]
    participant = SelectField(_l("Person"), coerce=int, validators=[DataRequired()])


class WithdrawForm(FlaskForm):  # type: ignore[misc]
    """Withdrawing from the status page: what the page asked to confirm
    (the application, the waiting list or the cohort)."""

    what = StringField(
        validators=[InputRequired(), AnyOf(["application", "list", "cohort"])],
        widget=HiddenInput(),
    )


class RegistrationSettingsForm(FlaskForm):  # type: ignore[misc]
    manager_step = BooleanField(_l("The manager confirms before HR decides"))
    waiting_list_mode = RadioField(
        _l("When a place frees in a full cohort"),
        choices=[
            SelectChoice(
                "offer",
                _l("the first on the waiting list is offered it and has a few days to accept"),
            ),
            SelectChoice("move_up", _l("the first on the waiting list gets it at once")),
        ],
        validators=[InputRequired()],
    )
    offer_days = IntegerField(
        _l("Days to accept an offer"), validators=[Optional()], render_kw={"min": 1, "max": 14}
    )
    share_make_ups = BooleanField(
        _l(
            "Other organisations served by the same consultants may use our cohorts' sessions "
            "for make-ups, and our people theirs"
        )
    )


class AddressForm(FlaskForm):  # type: ignore[misc]
    """Renewing or closing the registration address: only the CSRF token."""


class CohortRegistrationFields:
    """The registration fields of the cohort's edit form."""

    registration_open = BooleanField(_l("Open for registration"))
    registration_closes_on = DayField(_l("Registration closes on"), validators=[Optional()])
