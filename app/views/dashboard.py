"""The dashboard: what is coming up in the user's organisations."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, render_template

from app.i18n import translator
from app.models import Organisation
from app.services.overview import overview
from app.services.timelines import year_timeline
from app.views.access import actor, owned_or_404

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
def index() -> str:
    today = datetime.now(UTC).date()
    found = overview(actor(), today)
    return render_template(
        "dashboard.html",
        sessions=found.sessions,
        cohorts=found.cohorts,
        progress=found.progress,
        attention=found.attention,
        today=today,
        organisations=found.organisations,
        can_plan=found.can_plan,
    )


@bp.get("/organisations/<int:organisation_id>/year/<int:year>")
def year(organisation_id: int, year: int) -> str:
    """All cohorts of an organisation in one year, on one timeline."""
    organisation = owned_or_404(Organisation, organisation_id, "id")
    if not 2000 <= year <= 2100:
        abort(404)
    picture, cohorts = year_timeline(organisation, year, translator(), datetime.now(UTC).date())
    return render_template(
        "year.html", organisation=organisation, year=year, picture=picture, cohorts=cohorts
    )
