"""Data protection: a person's data as a file, erasure, retention settings."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.forms.privacy import EraseForm, PrivacyForm
from app.i18n import refusal, translator
from app.models import Organisation, Participant, Role
from app.services import privacy
from app.views.access import owned_or_404
from app.views.versioned import changed_meanwhile, form_for, stale_settings

bp = Blueprint("privacy", __name__)

EXPORTERS = frozenset({Role.HR, Role.ADMIN})


@bp.get("/participants/<int:participant_id>/export.json")
def export(participant_id: int) -> Response:
    person = owned_or_404(Participant, participant_id)
    if current_user.role not in EXPORTERS:
        abort(403)
    content = json.dumps(privacy.export(person), ensure_ascii=False, indent=2)
    response = Response(content, mimetype="application/json")
    name = f"qualiplan-{person.id}.json"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/participants/<int:participant_id>/erase")
def erase(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    if current_user.role is not Role.ADMIN:
        abort(403)
    form = EraseForm()
    tr = translator()
    typed = " ".join((form.confirm.data or "").split())
    if not form.validate_on_submit() or typed != person.name:
        flash(refusal(tr.gettext("The name typed does not match; nobody was erased.")), "error")
        return redirect(url_for("participants.edit", participant_id=person.id))
    result = privacy.erase(person, current_user)
    db.session.commit()
    flash(
        tr.gettext(
            "The person and their data are erased. Certificates: %(kept)d kept without "
            "the name, %(deleted)d deleted.",
            kept=result.certificates_kept,
            deleted=result.certificates_deleted,
        ),
        "success",
    )
    return redirect(url_for("participants.index"))


@bp.route("/organisations/<int:organisation_id>/privacy", methods=["GET", "POST"])
def settings(organisation_id: int) -> ResponseReturnValue:
    organisation = owned_or_404(Organisation, organisation_id, "id")
    if current_user.role is not Role.ADMIN:
        abort(403)
    form = form_for(PrivacyForm, organisation)
    tr = translator()
    if form.validate_on_submit():
        stale = stale_settings()
        if changed_meanwhile(form, organisation):
            flash(stale, "error")
            return redirect(url_for("privacy.settings", organisation_id=organisation.id))
        organisation.attendance_retention_years = form.attendance_retention_years.data
        organisation.keep_certificates_after_erasure = form.keep_certificates_after_erasure.data
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            flash(stale, "error")
        else:
            flash(tr.gettext("Saved."), "success")
        return redirect(url_for("privacy.settings", organisation_id=organisation_id))
    return render_template("privacy/settings.html", organisation=organisation, form=form)
