"""The dashboard: what is coming up in the user's organisations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Cohort, CohortState, Session, SessionStatus
from app.services.overview import needs_attention
from app.views.access import organisation_ids

bp = Blueprint("dashboard", __name__)

# Sessions of the coming weeks; cohorts that are open or started recently.
UPCOMING = timedelta(weeks=6)
RECENT = timedelta(days=120)


@bp.get("/dashboard")
def index() -> str:
    today = datetime.now(UTC).date()
    orgs = organisation_ids()
    sessions = db.session.scalars(
        select(Session)
        .join(Session.cohort)
        .where(
            Cohort.organisation_id.in_(orgs),
            Session.last_day >= today,
            Session.first_day <= today + UPCOMING,
            Session.status == SessionStatus.SCHEDULED,
            Cohort.state.in_([CohortState.PLANNED, CohortState.RUNNING]),
        )
        .options(joinedload(Session.cohort), joinedload(Session.element))
        .order_by(Session.first_day, Session.starts_at)
        .limit(50)
    ).all()
    cohorts = db.session.scalars(
        select(Cohort)
        .where(
            Cohort.organisation_id.in_(orgs),
            or_(
                Cohort.state.in_([CohortState.PLANNED, CohortState.RUNNING]),
                Cohort.start_date >= today - RECENT,
            ),
        )
        .options(joinedload(Cohort.organisation))
        .order_by(Cohort.start_date)
        .limit(100)
    ).all()
    return render_template(
        "dashboard.html",
        sessions=sessions,
        cohorts=cohorts,
        attention=needs_attention(orgs, today),
        today=today,
    )
