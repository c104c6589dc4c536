"""The dashboard: what is coming up in the user's organisations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.i18n import translator
from app.models import (
    Cohort,
    CohortState,
    CurriculumElement,
    Organisation,
    Session,
    SessionStatus,
)
from app.services.overview import needs_attention
from app.services.timelines import year_timeline
from app.views.access import organisation_ids, owned_or_404
from curricula.model import Text

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
    next_title: Text | None
    next_day: date | None


def _progress(cohort_ids: list[int], today: date) -> dict[int, Progress]:
    """Per cohort: sessions over, sessions in all, and the next one; one
    query of plain columns (the overview lists up to 100 cohorts)."""
    rows = db.session.execute(
        select(
            Session.cohort_id,
            Session.first_day,
            Session.last_day,
            CurriculumElement.title_de,
            CurriculumElement.title_en,
        )
        .join(CurriculumElement, CurriculumElement.id == Session.element_id)
        .where(Session.cohort_id.in_(cohort_ids), Session.status == SessionStatus.SCHEDULED)
        .order_by(Session.cohort_id, Session.first_day, Session.starts_at)
    ).all()
    found: dict[int, Progress] = {}
    for cohort_id, first_day, last_day, title_de, title_en in rows:
        seen = found.get(cohort_id, Progress(0, 0, None, None))
        over = last_day < today
        upcoming = not over and seen.next_day is None
        found[cohort_id] = Progress(
            done=seen.done + over,
            total=seen.total + 1,
            next_title=Text(title_de, title_en) if upcoming else seen.next_title,
            next_day=first_day if upcoming else seen.next_day,
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
