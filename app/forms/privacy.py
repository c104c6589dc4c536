"""Forms for data protection: erasing a person, the organisation's settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional


class EraseForm(FlaskForm):  # type: ignore[misc]
    confirm = StringField(
        _l("Type the person's full name to confirm"), validators=[DataRequired()]
    )


class PrivacyForm(FlaskForm):  # type: ignore[misc]
    attendance_retention_years = IntegerField(
        _l("Delete attendance details of completed cohorts after (years)"),
        validators=[Optional(), NumberRange(min=1, max=30)],
    )
    keep_certificates_after_erasure = BooleanField(
        _l("Certificates of erased people stay verifiable (without the name)")
    )
    version = HiddenField(validators=[InputRequired()])
