"""The tandem page of a cohort: propose, swap, lock, confirm; the list as
CSV and as a page to print for the practice day."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app import transactions
from app.downloads import content_disposition
from app.exports.tandems import render_tandems
from app.forms.tandems import NotTogetherForm, SwapForm, TandemActionForm
from app.i18n import current_language, sentence, translator
from app.models import Cohort, TandemState
from app.services import enrolments, jobs, policy
from app.services import tandems as service
from app.views.access import actor, owned_or_404
from cohorts.pairing import Pairing

bp = Blueprint("tandems", __name__, url_prefix="/cohorts")


@bp.get("/<int:cohort_id>/tandems")
def show(cohort_id: int) -> str:
    cohort = owned_or_404(Cohort, cohort_id)
    enrolled = service.enrolled(cohort)
    proposal = service.tandems(cohort, TandemState.PROPOSED)
    confirmed = service.tandems(cohort, TandemState.CONFIRMED)
    swap_form = SwapForm()
    choices = [(p.id, p.name) for t in proposal for p in t.people]
    swap_form.first.choices = swap_form.second.choices = sorted(choices, key=lambda c: c[1])
    exclusion_form = NotTogetherForm()
    people = [(p.id, p.name) for p in enrolled]
    exclusion_form.first.choices = exclusion_form.second.choices = people
    if len(people) >= 2 and not exclusion_form.is_submitted():
        exclusion_form.second.data = people[1][0]
    return render_template(
        "tandems/show.html",
        cohort=cohort,
        enrolled=enrolled,
        proposal=proposal,
        confirmed=confirmed,
        withdrawn=service.withdrawn_members(confirmed, enrolled),
        unpaired=service.unpaired(confirmed, enrolled),
        not_together=service.not_together(cohort),
        can_plan=policy.may(actor(), policy.Action.FORM_TANDEMS, cohort.organisation_id),
        action_form=TandemActionForm(version=cohort.lock_version),
        swap_form=swap_form,
        exclusion_form=exclusion_form,
        reasons=service.reasons,
        job=jobs.of_cohort(actor(), cohort.id, jobs.TANDEMS),
    )


def _version(cohort_id: int, form: FlaskForm) -> str | None:
    """The cohort's version the page was loaded with, or None (with a
    message) when the form is incomplete or has expired. A role that may not
    form tandems is refused first, whatever it sent."""
    _may_form(cohort_id)
    if form.validate_on_submit() and form.version.data.isdigit():
        return str(form.version.data)
    flash(
        translator().gettext("The form was incomplete or has expired; please try again."), "error"
    )
    return None


def _may_form(cohort_id: int) -> None:
    cohort = owned_or_404(Cohort, cohort_id)
    policy.require(actor(), policy.Action.FORM_TANDEMS, cohort.organisation_id)


def _page(cohort_id: int, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("tandems.show", cohort_id=cohort_id, _anchor=anchor))


def _proposed(cohort_id: int, result: Pairing) -> ResponseReturnValue:
    tr = translator()
    for warning in result.warnings:
        flash(sentence(tr.localize(warning)), "info")
    flash(
        tr.ngettext(
            "A proposal with %(num)d tandem is ready; check it and confirm.",
            "A proposal with %(num)d tandems is ready; check it and confirm.",
            len(result.tandems),
        ),
        "success",
    )
    return _page(cohort_id)


@bp.post("/<int:cohort_id>/tandems/propose")
@transactions.web
def propose(cohort_id: int) -> ResponseReturnValue:
    return _propose(cohort_id, shuffle=False)


@bp.post("/<int:cohort_id>/tandems/shuffle")
@transactions.web
def shuffle(cohort_id: int) -> ResponseReturnValue:
    return _propose(cohort_id, shuffle=True)


def _propose(cohort_id: int, *, shuffle: bool) -> ResponseReturnValue:
    version = _version(cohort_id, TandemActionForm())
    if version is None:
        return _page(cohort_id)
    cohort = owned_or_404(Cohort, cohort_id)
    if enrolments.enrolled_count(cohort) >= jobs.TANDEMS_FROM:
        return _propose_as_job(cohort, version, shuffle=shuffle)
    result = service.propose_tandems(actor(), cohort_id, version=version, shuffle=shuffle)
    return _proposed(cohort_id, result)


def _propose_as_job(cohort: Cohort, version: str, *, shuffle: bool) -> ResponseReturnValue:
    """A large pool takes seconds: the worker forms it, the job's page shows
    how far it is and links the proposal. One such job per cohort at a time."""
    running = jobs.of_cohort(actor(), cohort.id, jobs.TANDEMS)
    if running is None:
        service.check_version(cohort, version)
        running = jobs.start(
            jobs.TANDEMS,
            actor(),
            organisation_id=cohort.organisation_id,
            cohort_id=cohort.id,
            language=current_language(),
            params={"version": version, "shuffle": shuffle},
            total=3,
        )
    return redirect(url_for("jobs.show", public_id=running.public_id))


@bp.post("/<int:cohort_id>/tandems/replace")
@transactions.web
def replace(cohort_id: int) -> ResponseReturnValue:
    version = _version(cohort_id, TandemActionForm())
    if version is None:
        return _page(cohort_id)
    return _proposed(
        cohort_id, service.replace_withdrawn_partners(actor(), cohort_id, version=version)
    )


@bp.post("/<int:cohort_id>/tandems/swap")
@transactions.web
def swap(cohort_id: int) -> ResponseReturnValue:
    form = SwapForm()
    # The choices are the proposal's people; the service checks them again.
    form.first.choices = form.second.choices = None
    form.first.validate_choice = form.second.validate_choice = False
    version = _version(cohort_id, form)
    if version is None:
        return _page(cohort_id)
    service.swap_places(actor(), cohort_id, form.first.data, form.second.data, version=version)
    flash(translator().gettext("The two people swapped places."), "success")
    return _page(cohort_id)


@bp.post("/<int:cohort_id>/tandems/<int:tandem_id>/lock")
@transactions.web
def lock(cohort_id: int, tandem_id: int) -> ResponseReturnValue:
    return _lock(cohort_id, tandem_id, True)


@bp.post("/<int:cohort_id>/tandems/<int:tandem_id>/unlock")
@transactions.web
def unlock(cohort_id: int, tandem_id: int) -> ResponseReturnValue:
    return _lock(cohort_id, tandem_id, False)


def _lock(cohort_id: int, tandem_id: int, locked: bool) -> ResponseReturnValue:
    service.find_tandem(actor(), cohort_id, tandem_id)  # another cohort's: not found
    version = _version(cohort_id, TandemActionForm())
    if version is not None:
        service.lock_tandem(actor(), cohort_id, tandem_id, locked, version=version)
    return _page(cohort_id)


@bp.post("/<int:cohort_id>/tandems/confirm")
@transactions.web
def confirm(cohort_id: int) -> ResponseReturnValue:
    version = _version(cohort_id, TandemActionForm())
    if version is None:
        return _page(cohort_id)
    confirmed = service.confirm_tandems(actor(), cohort_id, version=version)
    flash(
        translator().ngettext(
            "%(num)d tandem confirmed; participants see their partners now.",
            "%(num)d tandems confirmed; participants see their partners now.",
            len(confirmed),
        ),
        "success",
    )
    return _page(cohort_id)


@bp.post("/<int:cohort_id>/tandems/discard")
@transactions.web
def discard(cohort_id: int) -> ResponseReturnValue:
    version = _version(cohort_id, TandemActionForm())
    if version is None:
        return _page(cohort_id)
    service.discard_proposal(actor(), cohort_id, version=version)
    flash(translator().gettext("The proposal was discarded."), "success")
    return _page(cohort_id)


@bp.post("/<int:cohort_id>/not-together")
@transactions.web
def add_not_together(cohort_id: int) -> ResponseReturnValue:
    tr = translator()
    form = NotTogetherForm()
    form.first.choices = form.second.choices = None
    form.first.validate_choice = form.second.validate_choice = False
    _may_form(cohort_id)
    if not form.validate_on_submit():
        flash(tr.gettext("Choose two people."), "error")
        return _page(cohort_id, "not-together")
    first, second = service.keep_apart(actor(), cohort_id, form.first.data, form.second.data)
    flash(
        tr.gettext(
            "%(first)s and %(second)s will never be proposed as a tandem.",
            first=first.name,
            second=second.name,
        ),
        "success",
    )
    return _page(cohort_id, "not-together")


@bp.post("/<int:cohort_id>/not-together/<int:entry_id>/remove")
@transactions.web
def remove_not_together(cohort_id: int, entry_id: int) -> ResponseReturnValue:
    _may_form(cohort_id)
    if FlaskForm().validate_on_submit():
        service.allow_together(actor(), cohort_id, entry_id)
    return _page(cohort_id, "not-together")


@bp.get("/<int:cohort_id>/tandems.csv")
def export(cohort_id: int) -> Response:
    cohort = owned_or_404(Cohort, cohort_id)
    tr = translator()
    rendered = render_tandems(
        service.tandems(cohort, TandemState.CONFIRMED),
        language=tr.language,
        filename=f"tandems-gruppe-{cohort.id}.csv",
    )
    response = Response(rendered.content, content_type=rendered.mimetype)
    response.headers["Content-Disposition"] = content_disposition(rendered.filename, "attachment")
    return response


@bp.get("/<int:cohort_id>/tandems/print")
def printable(cohort_id: int) -> str:
    cohort = owned_or_404(Cohort, cohort_id)
    return render_template(
        "tandems/print.html",
        cohort=cohort,
        confirmed=service.tandems(cohort, TandemState.CONFIRMED),
    )
