"""Cohorts: create one from a curriculum, see its schedule, people and history."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app.closures import parse_closures
from app.commands import CommandFailed
from app.extensions import db
from app.filters import state_title
from app.forms.cohorts import CohortForm, StateForm
from app.i18n import translator
from app.models import (
    Change,
    Cohort,
    CohortState,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    Organisation,
    Role,
    Session,
    TandemState,
    User,
)
from app.models.cohorts import ALLOWED_MOVES, InvalidStateChange
from app.models.tokens import Purpose
from app.services import history, tandems, tokens
from app.services.cohorts import (
    NewCohort,
    TrainerConflict,
    create_cohort,
    trainer_conflicts,
)
from app.services.timelines import cohort_timeline
from app.views.access import organisation_ids, owned_or_404
from cohorts.errors import PlanningError, UnknownRegion, UnknownTimezone
from curricula.model import Mode

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")

PLANNERS = frozenset({Role.ADMIN, Role.TRAINER, Role.CONSULTANT})


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    if current_user.role not in PLANNERS:
        abort(403)
    form = CohortForm()
    _fill_choices(form)
    if not form.is_submitted() and current_user.organisations:
        form.region.data = current_user.organisations[0].default_region
    if form.validate_on_submit():
        cohort = _create(form)
        if cohort is not None:
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    status = 400 if form.is_submitted() else 200
    return render_template("cohorts/new.html", form=form), status


def _fill_choices(form: CohortForm) -> None:
    tr = translator()
    orgs = sorted(current_user.organisations, key=lambda o: o.name)
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in orgs]
    versions = db.session.scalars(
        select(CurriculumVersion)
        .join(CurriculumVersion.curriculum)
        .where(
            CurriculumVersion.published_at.is_not(None),
            or_(
                CurriculumRecord.organisation_id.is_(None),
                CurriculumRecord.organisation_id.in_(organisation_ids()),
            ),
        )
        .options(selectinload(CurriculumVersion.curriculum))
        .order_by(CurriculumRecord.organisation_id.is_not(None), CurriculumRecord.key)
    ).all()
    form.version.choices = [
        SelectChoice(v.id, f"{v.curriculum.title(tr.language)} (v{v.number})") for v in versions
    ]
    trainers = db.session.scalars(
        select(User)
        .where(User.role == Role.TRAINER, User.active.is_(True))
        .where(User.organisations.any(Organisation.id.in_(organisation_ids())))
        .order_by(User.name)
    ).all()
    form.trainers.choices = [SelectChoice(t.id, t.name) for t in trainers]


def _create(form: CohortForm) -> Cohort | None:
    tr = translator()
    organisation = owned_or_404(Organisation, form.organisation.data, "id")
    version = db.session.get(CurriculumVersion, form.version.data)
    owner = version.curriculum.organisation_id if version is not None else None
    if version is None or (owner is not None and owner != organisation.id):
        form.version.errors = [tr.gettext("This curriculum does not belong to the organisation.")]
        return None
    try:
        closures = parse_closures(
            tr.gettext("Closure days"), (form.closures.data or "").splitlines()
        )
    except CommandFailed as error:
        form.closures.errors = [tr.localize(m) for m in error.messages]
        return None
    trainers = [
        t
        for t in db.session.scalars(select(User).where(User.id.in_(form.trainers.data or [])))
        if organisation in t.organisations
    ]
    data = NewCohort(
        organisation=organisation,
        version=version,
        name=form.name.data,
        start=form.start.data,
        region=form.region.data,
        timezone=form.timezone.data.strip(),
        delivery=Mode(form.delivery.data) if form.delivery.data else None,
        venue=form.venue.data,
        online_link=form.online_link.data,
        capacity=form.capacity.data,
        trainers=trainers,
        closures=closures,
    )
    try:
        cohort, notes = create_cohort(data, current_user)
    except UnknownRegion as error:
        form.region.errors = [tr.localize(error.message)]
    except UnknownTimezone as error:
        form.timezone.errors = [tr.localize(error.message)]
    except TrainerConflict as error:
        form.trainers.errors = [tr.localize(error.message)]
    except PlanningError as error:
        form.start.errors = [tr.localize(error.message)]
    else:
        db.session.commit()
        flash(tr.gettext("The cohort was planned."), "success")
        for note in notes:
            flash(tr.localize(note.message), "info")
        return cohort
    db.session.rollback()
    return None


@bp.get("/<int:cohort_id>")
def show(cohort_id: int) -> str:
    cohort = owned_or_404(Cohort, cohort_id)
    sessions = db.session.scalars(
        select(Session)
        .where(Session.cohort_id == cohort.id)
        .options(selectinload(Session.trainers), selectinload(Session.element))
        .order_by(Session.first_day, Session.starts_at, Session.id)
    ).all()
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .options(selectinload(Enrolment.participant))
    ).all()
    enrolments = sorted(enrolments, key=lambda e: e.participant.sort_key)
    changes = db.session.scalars(
        select(Change)
        .where(Change.cohort_id == cohort.id)
        .options(selectinload(Change.user))
        .order_by(Change.at.desc())
        .limit(50)
    ).all()
    return render_template(
        "cohorts/show.html",
        cohort=cohort,
        sessions=sessions,
        enrolments=enrolments,
        changes=changes,
        conflicts=trainer_conflicts(sessions),
        can_plan=current_user.role in PLANNERS,
        # Onward moves first, cancelling last.
        next_states=sorted(ALLOWED_MOVES[cohort.state], key=lambda s: s is CohortState.CANCELLED),
        state_form=StateForm(),
        cohort_feed=tokens.current(Purpose.COHORT_FEED, cohort.id),
        tandem_count=len(tandems.tandems(cohort, TandemState.CONFIRMED)),
        timeline=cohort_timeline(cohort, sessions, translator(), date.today()),
    )


@bp.post("/<int:cohort_id>/state")
def change_state(cohort_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    if current_user.role not in PLANNERS:
        abort(403)
    tr = translator()
    form = StateForm()
    if form.validate_on_submit():
        try:
            wanted = CohortState(form.state.data)
            before = cohort.state
            cohort.change_state(wanted)
        except (ValueError, InvalidStateChange):
            flash(tr.gettext("This change of state is not possible."), "error")
        else:
            history.record(
                user=current_user,
                organisation_id=cohort.organisation_id,
                cohort_id=cohort.id,
                subject="cohort",
                subject_id=cohort.id,
                action="state",
                before={"state": before.value},
                after={"state": wanted.value},
            )
            db.session.commit()
            flash(tr.gettext("The cohort is now %(state)s.", state=state_title(wanted)), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))
