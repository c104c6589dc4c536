"""Cohorts: create one from a curriculum, see its schedule, people and history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from app import transactions
from app.closures import parse_closures
from app.forms.cohorts import (
    ChangeCohortForm,
    CohortForm,
    CohortVersionForm,
    ForkMoveForm,
    ReopenForm,
    ReplanForm,
    StateForm,
)
from app.forms.registrations import CohortRegistrationFields
from app.i18n import sentence, translator
from app.models import CohortState
from app.services import cohorts, delivery_log, registrations, sessions
from app.services.curricula import choice_label, version_label
from app.services.errors import DomainError, InvalidInput
from app.services.timelines import cohort_timeline
from app.views.access import actor, refused_here
from curricula.messages import msg
from curricula.model import Mode

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")


@bp.route("/new", methods=["GET", "POST"])
@transactions.web
def new() -> ResponseReturnValue:
    choices = cohorts.new_cohort_choices(actor())
    tr = translator()
    defaults = {o.id: (o.default_region, o.default_timezone) for o in choices.organisations}
    first = choices.organisations[0] if choices.organisations else None
    form = CohortForm(
        region=first.default_region if first else None,
        timezone=first.default_timezone if first else None,
        defaults_of=str(first.id) if first else "",
    )
    form.organisation.choices = [
        SelectChoice(
            o.id,
            o.name,
            render_kw={"data-region": o.default_region, "data-timezone": o.default_timezone},
        )
        for o in choices.organisations
    ]
    # A fork is offered for its client only: the page's script hides the others.
    form.version.choices = [
        SelectChoice(
            v.id,
            version_label(v, tr.language),
            render_kw={"data-organisation": str(v.curriculum.organisation_id or "")},
        )
        for v in choices.versions
    ]
    form.trainers.choices = [SelectChoice(t.id, t.name) for t in choices.trainers]
    form.timezone.offer_first(dict.fromkeys(z for _, z in defaults.values()))
    for region, _ in defaults.values():
        form.region.offer(region)
    if form.is_submitted():
        _follow_organisation(form, defaults)
    closures = _checked(form, choices) if form.is_submitted() else None
    if closures is not None:
        try:
            cohort, notes = cohorts.plan_cohort(actor(), _wish(form, closures))
        except DomainError as error:
            if error.status in (403, 404):
                raise
            _show_at_field(form, error)
        else:
            flash(tr.gettext("The cohort was planned."), "success")
            for note in notes:
                flash(sentence(tr.localize(note.message)), "info")
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    # A refused form answers 400, so that nothing it did is kept.
    status = 400 if form.is_submitted() else 200
    region_names = {c.value: c.label for c in form.region.choices}
    zone_names = {c.value: c.label for c in form.timezone.choices}
    organisation_defaults = [
        (o.name, region_names.get(r, r), zone_names.get(z, z))
        for o in choices.organisations
        for r, z in [defaults[o.id]]
    ]
    return render_template(
        "cohorts/new.html", form=form, organisation_defaults=organisation_defaults
    ), status


def _follow_organisation(form: CohortForm, defaults: dict[int, tuple[str, str]]) -> None:
    """Region and time zone left at the values of the organisation the form
    showed become those of the organisation chosen (without the page's
    script, which does the same as the choice changes); a value the person
    chose stays."""
    try:
        shown = int(form.defaults_of.data or "")
    except ValueError:
        return
    chosen = form.organisation.data if isinstance(form.organisation.data, int) else None
    if shown not in defaults or chosen not in defaults or shown == chosen:
        return
    (old_region, old_zone), (region, zone) = defaults[shown], defaults[chosen]
    if form.region.data == old_region:
        form.region.data = region
        form.region.offer(region)
    if form.timezone.data == old_zone:
        form.timezone.data = zone
    form.defaults_of.data = str(chosen)


def _checked(form: CohortForm, choices: cohorts.NewCohortChoices) -> dict[date, str] | None:
    """Every problem of the form at its field at once: the fields' own, the
    closure days', the place's and the curriculum's (another client's fork). The
    closure days when there is none."""
    valid = form.validate_on_submit()
    chosen = next((o for o in choices.organisations if o.id == form.organisation.data), None)
    refused = cohorts.curriculum_problem(form.version.data, chosen) if chosen else None
    if refused is not None and not form.version.errors:
        valid = False
        form.version.errors = [sentence(translator().localize(refused.message))]
    closures = None
    try:
        closures = _closures(form)
    except InvalidInput as error:
        _show_at_field(form, error)
    for problem in cohorts.place_problems(form.region.data or "", form.timezone.data or ""):
        valid = False
        if not form._fields[problem.field or "start"].errors:  # said once per field
            _show_at_field(form, problem)
    return closures if valid else None


def _show_at_field(form: CohortForm | ChangeCohortForm, error: DomainError) -> None:
    # A refusal without a field of its own is about the dates (the plan).
    field = form._fields.get(error.field or "") or form._fields["start"]
    field.errors = [*field.errors, translator().localize(error.message)]


def _closures(form: CohortForm) -> dict[date, str]:
    try:
        return parse_closures(
            translator().gettext("Closure days"),
            (form.closures.data or "").splitlines(),
            typed=True,
        )
    except InvalidInput as error:
        error.field = "closures"
        raise


def _wish(form: CohortForm, closures: dict[date, str]) -> cohorts.CohortWish:
    return cohorts.CohortWish(
        organisation_id=form.organisation.data,
        version_id=form.version.data,
        name=form.name.data,
        start=form.start.data,
        region=form.region.data,
        timezone=form.timezone.data,
        delivery=Mode(form.delivery.data) if form.delivery.data else None,
        venue=form.venue.data,
        online_link=form.online_link.data,
        capacity=form.capacity.data,
        trainer_ids=form.trainers.data or [],
        closures=closures,
    )


@bp.get("/<int:cohort_id>")
def show(cohort_id: int) -> str:
    page = cohorts.cohort_page(actor(), cohort_id, now=datetime.now(UTC))
    replan_form = ReplanForm(prefix="replan")
    replan_form.version.data = str(page.cohort.lock_version)
    replan_form.start.data = page.cohort.start_date
    return render_template(
        "cohorts/show.html",
        cohort=page.cohort,
        sessions=page.sessions,
        enrolments=page.enrolments,
        changes=page.changes,
        conflicts=page.conflicts,
        can_plan=page.can_plan,
        can_change_sessions=page.can_change_sessions,
        can_reopen=page.can_reopen,
        next_states=page.next_states,
        state_form=StateForm(),
        reopen_form=ReopenForm(prefix="reopen"),
        replan_form=replan_form,
        cohort_feed=page.cohort_feed,
        tandem_count=page.tandem_count,
        first_day=page.first_day,
        today=page.today,
        undo=page.undo,
        undo_form=CohortVersionForm(version=page.cohort.lock_version),
        forks=[
            (v, choice_label(v.curriculum, translator().language))
            for v in sessions.fork_targets(actor(), page.cohort)
        ],
        timeline=cohort_timeline(page.cohort, page.sessions, translator(), date.today()),
        deliveries=delivery_log.newest_of_cohort(page.cohort.id),
    )


class _EditForm(CohortRegistrationFields, ChangeCohortForm):  # type: ignore[misc]
    """The cohort's fields and whether it is open for registration."""


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@transactions.web
def edit(cohort_id: int) -> ResponseReturnValue:
    """Name, capacity, venue and link of a cohort, every problem at its field."""
    cohort = cohorts.cohort_to_change(actor(), cohort_id)
    form = _EditForm(
        data={
            "registration_open": cohort.registration_open,
            "registration_closes_on": cohort.registration_closes_on,
            "name": cohort.name,
            "capacity": cohort.capacity,
            "venue": cohort.venue or "",
            "online_link": cohort.online_link or "",
            "version": str(cohort.lock_version),
        }
    )
    if form.is_submitted():
        valid = form.validate_on_submit()
        if form.csrf_token.errors or form.version.errors:
            raise _unreadable()
        if valid:
            try:
                changed = cohorts.change_cohort(
                    actor(),
                    cohort_id,
                    name=form.name.data,
                    capacity=form.capacity.data,
                    venue=form.venue.data,
                    online_link=form.online_link.data,
                    version=form.version.data,
                )
                changed = (
                    registrations.change_cohort_registration(
                        actor(),
                        cohort_id,
                        open_=bool(form.registration_open.data),
                        closes_on=form.registration_closes_on.data,
                        today=date.today(),
                    )
                    or changed
                )
            except DomainError as error:
                if error.field not in form._fields:
                    raise
                _show_at_field(form, error)
            else:
                tr = translator()
                done = (
                    tr.gettext("The cohort was changed.")
                    if changed
                    else tr.gettext("Nothing changed.")
                )
                flash(done, "success")
                return redirect(url_for("cohorts.show", cohort_id=cohort_id))
    # A refused form answers 400, so that nothing it did is kept.
    status = 400 if form.is_submitted() else 200
    return render_template("cohorts/edit.html", cohort=cohort, form=form), status


@bp.get("/<int:cohort_id>/cancel")
def confirm_cancel(cohort_id: int) -> ResponseReturnValue:
    """What cancelling the cohort will do, to confirm or leave."""
    return _confirm(cohort_id, CohortState.CANCELLED)


@bp.get("/<int:cohort_id>/start")
def confirm_start(cohort_id: int) -> ResponseReturnValue:
    """What starting the cohort will do (before its first session), to confirm or leave."""
    return _confirm(cohort_id, CohortState.RUNNING)


def _confirm(cohort_id: int, wanted: CohortState) -> ResponseReturnValue:
    try:
        preview = cohorts.preview_state_change(actor(), cohort_id, wanted, now=datetime.now(UTC))
    except DomainError as error:
        if error.status in (403, 404) or not refused_here():
            raise
        return redirect(url_for("cohorts.show", cohort_id=cohort_id))
    form = StateForm(state=wanted.value, confirmed="yes")
    return render_template(
        "cohorts/confirm_state.html",
        cohort=preview.cohort,
        preview=preview,
        form=form,
        undo_minutes=cohorts.UNDO_MINUTES,
    )


@bp.post("/<int:cohort_id>/state")
@transactions.web
def change_state(cohort_id: int) -> ResponseReturnValue:
    cohorts.cohort_of(actor(), cohort_id)  # a cohort not seen is not found
    form = StateForm()
    if not form.validate_on_submit():
        raise _unreadable()
    try:
        wanted = CohortState(form.state.data)
    except ValueError:
        raise InvalidInput(msg("unknown state '{state}'", state=form.state.data)) from None
    now = datetime.now(UTC)
    confirmed = form.confirmed.data == "yes"
    if (
        not confirmed
        and cohorts.preview_state_change(actor(), cohort_id, wanted, now=now).needs_confirmation
    ):
        # Nothing changes before the planner has seen what will happen.
        page = (
            "cohorts.confirm_cancel"
            if wanted is CohortState.CANCELLED
            else "cohorts.confirm_start"
        )
        return redirect(url_for(page, cohort_id=cohort_id), 303)
    cohort = cohorts.change_cohort_state(actor(), cohort_id, wanted, now=now, early=confirmed)
    tr = translator()
    # The names of the states are in the catalogs with the page filters.
    flash(tr.gettext("The cohort is now %(state)s.", state=tr.gettext(wanted.value)), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.post("/<int:cohort_id>/undo-cancellation")
@transactions.web
def undo_cancellation(cohort_id: int) -> ResponseReturnValue:
    cohorts.cohort_of(actor(), cohort_id)  # a cohort not seen is not found
    form = CohortVersionForm()
    if not form.validate_on_submit():
        raise _unreadable()
    cohort = cohorts.undo_cancellation(
        actor(), cohort_id, version=form.version.data, now=datetime.now(UTC)
    )
    tr = translator()
    flash(
        tr.gettext(
            "The cancellation was taken back: the cohort is %(state)s again.",
            state=tr.gettext(cohort.state.value),
        ),
        "success",
    )
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.post("/<int:cohort_id>/reopen")
@transactions.web
def reopen(cohort_id: int) -> ResponseReturnValue:
    cohorts.cohort_of(actor(), cohort_id)  # a cohort not seen is not found
    form = ReopenForm(prefix="reopen")
    if not form.validate_on_submit():
        raise _unreadable()
    cohorts.reopen_cohort(actor(), cohort_id, form.reason.data or "")
    tr = translator()
    flash(tr.gettext("The cohort runs again; its attendance can be corrected."), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort_id))


@bp.post("/<int:cohort_id>/replan")
@transactions.web
def replan(cohort_id: int) -> ResponseReturnValue:
    cohorts.cohort_of(actor(), cohort_id)  # a cohort not seen is not found
    form = ReplanForm(prefix="replan")
    if not form.validate_on_submit():
        raise _unreadable()
    if form.confirmed.data != "yes":
        preview = sessions.preview_replan(
            actor(), cohort_id, form.start.data, version=form.version.data, now=datetime.now(UTC)
        )
        form.confirmed.data = "yes"
        return render_template(
            "cohorts/confirm_replan.html", cohort=preview.cohort, preview=preview, form=form
        )
    moved, notes = sessions.replan(
        actor(), cohort_id, form.start.data, version=form.version.data, now=datetime.now(UTC)
    )
    tr = translator()
    flash(
        tr.ngettext(
            "The cohort was planned again: %(num)d session moved.",
            "The cohort was planned again: %(num)d sessions moved.",
            len(moved),
        ),
        "success",
    )
    for note in notes:
        flash(sentence(tr.localize(note.message)), "info")
    return redirect(url_for("cohorts.show", cohort_id=cohort_id))


@bp.route("/<int:cohort_id>/fork/<int:curriculum_id>", methods=["GET", "POST"])
@transactions.web
def move_to_fork(cohort_id: int, curriculum_id: int) -> ResponseReturnValue:
    """Preview the cohort's dates on the organisation's fork, then move it."""
    tr = translator()
    now = datetime.now(UTC)
    form = ForkMoveForm()
    if form.is_submitted():
        if not form.validate_on_submit():
            raise _unreadable()
        moved = sessions.move_to_fork(
            actor(),
            cohort_id,
            curriculum_id,
            expected_version=form.version.data,
            expected_target=form.target.data,
            now=now,
            language=tr.language,
        )
        flash(
            tr.gettext(
                "%(name)s now follows %(curriculum)s.",
                name=moved.cohort.name,
                curriculum=choice_label(moved.version.curriculum, tr.language),
            ),
            "success",
        )
        return redirect(url_for("cohorts.show", cohort_id=cohort_id), 303)
    try:
        preview = sessions.preview_fork_move(
            actor(), cohort_id, curriculum_id, now=now, language=tr.language
        )
    except DomainError as error:
        if error.status in (403, 404) or not refused_here():
            raise
        return redirect(url_for("cohorts.show", cohort_id=cohort_id))
    return render_template(
        "cohorts/fork_move.html",
        cohort=preview.cohort,
        version=preview.version,
        label=choice_label(preview.version.curriculum, tr.language),
        rows=preview.rows,
        already=preview.already,
        form=ForkMoveForm(version=preview.cohort.lock_version, target=preview.version.id),
    )


def _unreadable() -> InvalidInput:
    return InvalidInput(msg("the form could not be read; please load the page and try again"))
