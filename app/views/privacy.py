"""Data protection: a person's data as a file, erasure, retention settings."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app import transactions
from app.downloads import file_response
from app.forms.privacy import EraseForm, PrivacyForm
from app.i18n import translator
from app.models import Organisation
from app.services import privacy
from app.views.access import actor, owned_or_404

bp = Blueprint("privacy", __name__)


@bp.get("/participants/<int:participant_id>/export.json")
def export(participant_id: int) -> Response:
    person, data = privacy.export(actor(), participant_id)
    content = json.dumps(data, ensure_ascii=False, indent=2)
    response = file_response(
        content.encode("utf-8"), "application/json", f"qualiplan-{person.id}.json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/participants/<int:participant_id>/erase")
@transactions.web
def erase(participant_id: int) -> ResponseReturnValue:
    # An empty or wrong name is refused by the service, after the role.
    result = privacy.erase(actor(), participant_id, EraseForm().confirm.data or "")
    tr = translator()
    flash(
        tr.gettext(
            "The person and their data are erased. Certificates: %(kept)d kept without "
            "the name, %(deleted)d deleted.",
            kept=result.certificates_kept,
            deleted=result.certificates_deleted,
        )
        + " "
        + tr.ngettext(
            "%(num)d other record named them and now says “[erased]” instead.",
            "%(num)d other records named them and now say “[erased]” instead.",
            result.mentions_replaced,
        ),
        "success",
    )
    return redirect(url_for("participants.index"))


@bp.route("/organisations/<int:organisation_id>/privacy", methods=["GET", "POST"])
@transactions.web
def settings(organisation_id: int) -> ResponseReturnValue:
    organisation = owned_or_404(Organisation, organisation_id, "id")
    # Only who may change the settings sees them.
    privacy.require_settings(actor(), organisation.id)
    form = PrivacyForm(obj=organisation if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(organisation.lock_version)
    if form.validate_on_submit():
        privacy.change_settings(
            actor(),
            organisation.id,
            retention_years=form.attendance_retention_years.data,
            keep_certificates=form.keep_certificates_after_erasure.data,
            version=form.version.data,
        )
        flash(translator().gettext("Saved."), "success")
        return redirect(url_for("privacy.settings", organisation_id=organisation.id))
    return render_template("privacy/settings.html", organisation=organisation, form=form), (
        400 if form.is_submitted() else 200
    )
