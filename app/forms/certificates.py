"""Forms of the certificate pages: field shapes only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class ReissueForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name as printed"), validators=[DataRequired(), Length(max=200)])


class RevokeForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class LetterheadForm(FlaskForm):  # type: ignore[misc]
    signatory_name = StringField(_l("Signed by"), validators=[Optional(), Length(max=200)])
    signatory_role = StringField(_l("Their role"), validators=[Optional(), Length(max=200)])
    logo = FileField(_l("Logo (PNG, JPEG, GIF or WebP)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    version = HiddenField(validators=[InputRequired()])


class VerifyForm(FlaskForm):  # type: ignore[misc]
    # A GET form: nothing changes, so no CSRF token is needed.
    class Meta:
        csrf = False

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=40)])
