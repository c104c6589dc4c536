"""The dashboard: what is coming up in the user's organisations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.filters import translator
from app.models import Cohort, CohortState, Organisation, Session, SessionStatus
from app.services.overview import needs_attention
from app.services.timelines import year_timeline
from app.views.access import organisation_ids, owned_or_404

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
        progress=_progress([c.id for c in cohorts], today),
        attention=needs_attention(orgs, today),
        today=today,
        organisations=sorted(current_user.organisations, key=lambda o: o.name),
    )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    next_session: Session | None


def _progress(cohort_ids: list[int], today: date) -> dict[int, Progress]:
    """Per cohort: sessions over, sessions in all, and the next one; one query."""
    found: dict[int, Progress] = {}
    rows = db.session.scalars(
        select(Session)
        .where(Session.cohort_id.in_(cohort_ids), Session.status == SessionStatus.SCHEDULED)
        .options(joinedload(Session.element))
        .order_by(Session.first_day, Session.starts_at)
    ).all()
    by_cohort: dict[int, list[Session]] = {}
    for session in rows:
        by_cohort.setdefault(session.cohort_id, []).append(session)
    for cohort_id, sessions in by_cohort.items():
        upcoming = [s for s in sessions if s.last_day >= today]
        found[cohort_id] = Progress(
            done=len(sessions) - len(upcoming),
            total=len(sessions),
            next_session=upcoming[0] if upcoming else None,
        )
    return found


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
