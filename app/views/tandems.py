"""The tandem page of a cohort: propose, swap, lock, confirm; the list as
CSV and as a page to print for the practice day."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from app.exports.tandems import render_tandems
from app.extensions import db
from app.forms.tandems import NotTogetherForm, SwapForm, TandemActionForm
from app.i18n import refusal, translator
from app.models import Cohort, NotTogether, Participant, Tandem, TandemState
from app.services import tandems as service
from app.services.tandems import TandemError, TandemsChanged
from app.views.access import owned_or_404
from app.views.cohorts import PLANNERS
from cohorts.pairing import Pairing, PairingError

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
        can_plan=current_user.role in PLANNERS,
        action_form=TandemActionForm(version=cohort.lock_version),
        swap_form=swap_form,
        exclusion_form=exclusion_form,
        reasons=service.reasons,
    )


def _change(
    cohort_id: int, form: TandemActionForm, work: Callable[[Cohort, int], str]
) -> ResponseReturnValue:
    """Run one change of the tandems in a transaction; any refusal leaves
    everything as it was and says why."""
    cohort = owned_or_404(Cohort, cohort_id)
    if current_user.role not in PLANNERS:
        abort(403)
    tr = translator()
    if not form.validate_on_submit() or not form.version.data.isdigit():
        flash(tr.gettext("The form was incomplete or has expired; please try again."), "error")
        return redirect(url_for("tandems.show", cohort_id=cohort.id))
    try:
        done = work(cohort, int(form.version.data))
        db.session.commit()
    except (TandemError, PairingError) as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
    except StaleDataError:
        db.session.rollback()
        flash(refusal(tr.localize(TandemsChanged().message)), "error")
    else:
        if done:
            flash(done, "success")
    return redirect(url_for("tandems.show", cohort_id=cohort_id))


def _proposed(result: Pairing) -> str:
    tr = translator()
    for warning in result.warnings:
        flash(tr.localize(warning), "info")
    return tr.ngettext(
        "A proposal with %(num)d tandem is ready; check it and confirm.",
        "A proposal with %(num)d tandems is ready; check it and confirm.",
        len(result.tandems),
    )


@bp.post("/<int:cohort_id>/tandems/propose")
def propose(cohort_id: int) -> ResponseReturnValue:
    return _change(
        cohort_id,
        TandemActionForm(),
        lambda cohort, version: _proposed(
            service.propose(cohort, current_user, expected_version=version)
        ),
    )


@bp.post("/<int:cohort_id>/tandems/shuffle")
def shuffle(cohort_id: int) -> ResponseReturnValue:
    return _change(
        cohort_id,
        TandemActionForm(),
        lambda cohort, version: _proposed(
            service.propose(cohort, current_user, expected_version=version, shuffle=True)
        ),
    )


@bp.post("/<int:cohort_id>/tandems/replace")
def replace(cohort_id: int) -> ResponseReturnValue:
    return _change(
        cohort_id,
        TandemActionForm(),
        lambda cohort, version: _proposed(
            service.replace_after_withdrawal(cohort, current_user, expected_version=version)
        ),
    )


@bp.post("/<int:cohort_id>/tandems/swap")
def swap(cohort_id: int) -> ResponseReturnValue:
    form = SwapForm()
    # The choices are the proposal's people; the service checks them again.
    form.first.choices = form.second.choices = None
    form.first.validate_choice = form.second.validate_choice = False

    def work(cohort: Cohort, version: int) -> str:
        service.swap(cohort, form.first.data, form.second.data, expected_version=version)
        return translator().gettext("The two people swapped places.")

    return _change(cohort_id, form, work)


@bp.post("/<int:cohort_id>/tandems/<int:tandem_id>/lock")
def lock(cohort_id: int, tandem_id: int) -> ResponseReturnValue:
    return _lock(cohort_id, tandem_id, True)


@bp.post("/<int:cohort_id>/tandems/<int:tandem_id>/unlock")
def unlock(cohort_id: int, tandem_id: int) -> ResponseReturnValue:
    return _lock(cohort_id, tandem_id, False)


def _lock(cohort_id: int, tandem_id: int, locked: bool) -> ResponseReturnValue:
    tandem = db.session.get(Tandem, tandem_id)
    if tandem is None or tandem.cohort_id != owned_or_404(Cohort, cohort_id).id:
        abort(404)

    def work(cohort: Cohort, version: int) -> str:
        service.set_locked(cohort, tandem_id, locked, expected_version=version)
        return ""

    return _change(cohort_id, TandemActionForm(), work)


@bp.post("/<int:cohort_id>/tandems/confirm")
def confirm(cohort_id: int) -> ResponseReturnValue:
    def work(cohort: Cohort, version: int) -> str:
        confirmed = service.confirm(cohort, current_user, expected_version=version)
        return translator().ngettext(
            "%(num)d tandem confirmed; participants see their partners now.",
            "%(num)d tandems confirmed; participants see their partners now.",
            len(confirmed),
        )

    return _change(cohort_id, TandemActionForm(), work)


@bp.post("/<int:cohort_id>/tandems/discard")
def discard(cohort_id: int) -> ResponseReturnValue:
    def work(cohort: Cohort, version: int) -> str:
        service.discard(cohort, expected_version=version)
        return translator().gettext("The proposal was discarded.")

    return _change(cohort_id, TandemActionForm(), work)


@bp.post("/<int:cohort_id>/not-together")
def add_not_together(cohort_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    if current_user.role not in PLANNERS:
        abort(403)
    tr = translator()
    form = NotTogetherForm()
    form.first.choices = form.second.choices = None
    form.first.validate_choice = form.second.validate_choice = False
    if form.validate_on_submit():
        first = owned_or_404(Participant, form.first.data)
        second = owned_or_404(Participant, form.second.data)
        try:
            service.add_not_together(cohort, first, second, current_user)
            db.session.commit()
        except TandemError as error:
            db.session.rollback()
            flash(refusal(tr.localize(error.message)), "error")
        else:
            flash(
                tr.gettext(
                    "%(first)s and %(second)s will never be proposed as a tandem.",
                    first=first.name,
                    second=second.name,
                ),
                "success",
            )
    else:
        flash(tr.gettext("Choose two people."), "error")
    return redirect(url_for("tandems.show", cohort_id=cohort.id, _anchor="not-together"))


@bp.post("/<int:cohort_id>/not-together/<int:entry_id>/remove")
def remove_not_together(cohort_id: int, entry_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    entry = db.session.get(NotTogether, entry_id)
    if entry is None or entry.organisation_id != cohort.organisation_id:
        abort(404)
    if current_user.role not in PLANNERS:
        abort(403)
    tr = translator()
    if FlaskForm().validate_on_submit():
        try:
            service.remove_not_together(cohort, entry_id)
            db.session.commit()
        except TandemError as error:
            db.session.rollback()
            flash(tr.localize(error.message), "error")
    return redirect(url_for("tandems.show", cohort_id=cohort.id, _anchor="not-together"))


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
    response.headers["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return response


@bp.get("/<int:cohort_id>/tandems/print")
def printable(cohort_id: int) -> str:
    cohort = owned_or_404(Cohort, cohort_id)
    return render_template(
        "tandems/print.html",
        cohort=cohort,
        confirmed=service.tandems(cohort, TandemState.CONFIRMED),
    )
