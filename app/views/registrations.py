"""Registering for a cohort (app.services.registrations).

Without an account: the organisation's registration page and its form, the
link that confirms the address (or answers HR's invitation), the manager's
page and the employee's status page; each checks its secret, and an
unknown, used or expired link answers 404. The links' GET only shows: what
changes something is a button (POST), so that a mail scanner opening the
link uses nothing up.

For staff: the cohort's registrations (to accept, decline or invite; the
waiting list with positions and open offers), and the organisation's
registration settings (the manager step, the address).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app import throttle, transactions
from app.forms.registrations import (
    AcceptForm,
    AddressForm,
    ConfirmForm,
    DeclineForm,
    InvitationForm,
    InviteForm,
    ManagerConfirmForm,
    ManagerRefuseForm,
    RegisterForm,
    RegistrationSettingsForm,
    WithdrawForm,
    minutes_of,
)
from app.i18n import sentence, translator
from app.models.registrations import Registration
from app.public_url import external_url
from app.services import enrolments, registrations, waiting_lists
from app.services.errors import DomainError, InvalidInput, NotFound
from app.views.access import actor

bp = Blueprint("registrations", __name__)

# Registrations sent from one client address: enough for a shared office
# computer, too few to flood an organisation's people with messages.
REGISTER_LIMIT = "20 per 10 minutes"


def _at_fields(form: FlaskForm, error: DomainError, fallback: str) -> None:
    """The refusal at its field (or at `fallback`)."""
    field = form._fields.get(error.field or "") or form._fields[fallback]
    field.errors = [*field.errors, sentence(translator().localize(error.message))]


# --- without an account -----------------------------------------------------------


def _gone() -> ResponseReturnValue:
    """A link unknown, used or expired: 404, with what the person can do."""
    return render_template("registrations/gone.html"), 404


@bp.route("/register/<token>", methods=["GET", "POST"])
@transactions.web(back=lambda token, **_: url_for("registrations.page", token=token))
def page(token: str) -> ResponseReturnValue:
    organisation = registrations.organisation_of_address(token)
    if organisation is None:
        abort(404)
    cohorts = registrations.open_cohorts(organisation, date.today())
    form = RegisterForm()
    form.manager_required = organisation.manager_step
    tr = translator()
    form.cohort.choices = [
        SelectChoice(
            c.id, tr.gettext("%(name)s, starting %(day)s", name=c.name, day=tr.date(c.start_date))
        )
        for c in cohorts
    ]
    if request.method == "GET":
        wanted = request.args.get("cohort", type=int)
        if wanted in {c.id for c in cohorts}:
            form.cohort.data = wanted
        elif len(cohorts) == 1:
            form.cohort.data = cohorts[0].id
    if request.method == "POST":
        throttle.check("register", current_app.config.get("REGISTER_RATE_LIMIT", REGISTER_LIMIT))
        valid = form.validate_on_submit()
        if "csrf_token" in form.errors:
            abort(400)
        if valid:
            application = registrations.Application(
                cohort_id=form.cohort.data,
                first_name=form.first_name.data or "",
                last_name=form.last_name.data or "",
                email=form.email.data or "",
                department=form.department.data or "",
                manager_name=form.manager_name.data or "",
                manager_email=form.manager_email.data or "",
            )
            try:
                registrations.register(token, application)
            except InvalidInput as error:
                _at_fields(form, error, "cohort")
            else:
                return render_template(
                    "registrations/registered.html",
                    organisation=organisation,
                    email=application.email,
                )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "registrations/page.html", organisation=organisation, cohorts=cohorts, form=form
    ), status


@bp.route("/registration/confirm/<token>", methods=["GET", "POST"])
@transactions.web(back=lambda token, **_: url_for("registrations.confirm", token=token))
def confirm(token: str) -> ResponseReturnValue:
    registration = registrations.confirmation_of(token)
    if registration is None:
        return _gone()
    organisation = registration.cohort.organisation
    form: FlaskForm
    if registration.invited:
        form = InvitationForm(
            data={
                "manager_name": registration.manager_name,
                "manager_email": registration.manager_email,
            }
            if request.method == "GET"
            else None
        )
        form.manager_required = organisation.manager_step
    else:
        form = ConfirmForm()
    if request.method == "POST":
        valid = form.validate_on_submit()
        if "csrf_token" in form.errors:
            abort(400)
        if valid:
            more = (
                {
                    "manager_name": form.manager_name.data or "",
                    "manager_email": form.manager_email.data or "",
                }
                if registration.invited
                else {}
            )
            try:
                confirmed = registrations.confirm_email(token, **more)
            except InvalidInput as error:
                _at_fields(form, error, "manager_email")
            else:
                # The status page as its own link shows it, withdrawal included.
                beside = registrations.status_beside(token, confirmed)
                return _status_page(confirmed, just_confirmed=True, token=beside)
    status = 400 if request.method == "POST" else 200
    # Changed one's mind before confirming: the status page's withdrawal.
    beside = registrations.status_beside(token, registration)
    return render_template(
        "registrations/confirm.html",
        registration=registration,
        form=form,
        token=token,
        status_token=beside,
        withdrawal=registrations.withdrawal(registration) if beside else None,
    ), status


@bp.get("/registration/manager/<token>")
def manager(token: str) -> ResponseReturnValue:
    registration = registrations.manager_request_of(token)
    if registration is None:
        return _gone()
    return _manager_page(registration, token, ManagerConfirmForm(), ManagerRefuseForm())


def _manager_page(
    registration: Registration,
    token: str,
    confirm_form: ManagerConfirmForm,
    refuse_form: ManagerRefuseForm,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "registrations/manager.html",
        registration=registration,
        token=token,
        confirm_form=confirm_form,
        refuse_form=refuse_form,
    ), status


@bp.post("/registration/manager/<token>/confirm")
@transactions.web(back=lambda token, **_: url_for("registrations.manager", token=token))
def manager_confirm(token: str) -> ResponseReturnValue:
    registration = registrations.manager_request_of(token)
    if registration is None:
        return _gone()
    form = ManagerConfirmForm()
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    if valid:
        try:
            done = registrations.manager_confirms(token, minutes_of(form.weekly_hours.data) or 0)
        except InvalidInput as error:
            _at_fields(form, error, "weekly_hours")
        else:
            return render_template("registrations/manager_done.html", registration=done)
    return _manager_page(registration, token, form, ManagerRefuseForm(formdata=None), 400)


@bp.post("/registration/manager/<token>/refuse")
@transactions.web(back=lambda token, **_: url_for("registrations.manager", token=token))
def manager_refuse(token: str) -> ResponseReturnValue:
    registration = registrations.manager_request_of(token)
    if registration is None:
        return _gone()
    form = ManagerRefuseForm()
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    if valid:
        try:
            done = registrations.manager_refuses(token, form.reason.data or "")
        except InvalidInput as error:
            _at_fields(form, error, "reason")
        else:
            return render_template("registrations/manager_done.html", registration=done)
    return _manager_page(registration, token, ManagerConfirmForm(formdata=None), form, 400)


@bp.route("/registration/<token>", methods=["GET", "POST"])
@transactions.web(back=lambda token, **_: url_for("registrations.status", token=token))
def status(token: str) -> ResponseReturnValue:
    """The status page; with ?withdraw the page that says what withdrawing
    will do, whose button (a POST here) does it."""
    registration = registrations.status_of(token)
    if registration is None:
        return _gone()
    if request.method == "POST":
        return _withdraw(registration, token)
    if "withdraw" in request.args:
        withdrawal = registrations.withdrawal(registration)
        if withdrawal.what is None:
            return _withdraw_refused(registration, token, None, begun=withdrawal.begun)
        form = WithdrawForm(formdata=None, what=withdrawal.what)
        return render_template(
            "registrations/withdraw.html",
            registration=registration,
            withdrawal=withdrawal,
            form=form,
            token=token,
            back=_confirmation_page_left() or url_for("registrations.status", token=token),
        )
    return _status_page(registration, token=token)


def _confirmation_page_left() -> str | None:
    """The confirmation page the person came from to the withdrawal, if they
    did: "back without changes" leads there, where they may still confirm."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    # Every confirmation page's address begins with this.
    prefix = url_for("registrations.confirm", token="-").removesuffix("-")  # noqa: S106
    token = parts.path.removeprefix(prefix)
    if parts.netloc != request.host or token == parts.path or not token or "/" in token:
        return None
    return parts.path


def _status_page(
    registration: Registration, just_confirmed: bool = False, token: str | None = None
) -> str:
    return render_template(
        "registrations/status.html",
        registration=registration,
        position=waiting_lists.position_of(registration),
        manager_step=registration.cohort.organisation.manager_step,
        just_confirmed=just_confirmed,
        withdrawal=registrations.withdrawal(registration) if token else None,
        token=token,
    )


def _withdraw(registration: Registration, token: str) -> ResponseReturnValue:
    """The person withdraws what the page asked them to confirm."""
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        done = registrations.withdraw(token, form.what.data or "")
    except NotFound:
        return _gone()  # renewed meanwhile by a message about a decision
    except registrations.RegistrationRefused as error:
        return _withdraw_refused(registration, token, error)
    flash(_withdrawn_text(done.cohort.name, form.what.data or ""), "success")
    return redirect(url_for("registrations.status", token=token), 303)


def _withdraw_refused(
    registration: Registration,
    token: str,
    error: DomainError | None,
    *,
    begun: bool = False,
) -> ResponseReturnValue:
    """Nothing to withdraw (ended, decided meanwhile, the cohort has begun):
    a page that says why, and the way back to the status."""
    tr = translator()
    if error is not None:
        reason = sentence(tr.localize(error.message))
    elif begun:
        reason = tr.gettext("The cohort has begun: to leave it, please ask your HR department.")
    else:
        reason = tr.gettext("Your registration has ended already.")
    page = render_template(
        "registrations/withdraw_refused.html",
        registration=registration,
        reason=reason,
        token=token,
    )
    return page, 409


def _withdrawn_text(cohort: str, what: str) -> str:
    tr = translator()
    if what == registrations.COHORT:
        return tr.gettext(
            "You are withdrawn from the cohort %(cohort)s. A confirmation is on its way.",
            cohort=cohort,
        )
    if what == registrations.LIST:
        return tr.gettext(
            "You have left the waiting list of %(cohort)s. A confirmation is on its way.",
            cohort=cohort,
        )
    return tr.gettext(
        "Your registration for %(cohort)s is withdrawn. A confirmation is on its way.",
        cohort=cohort,
    )


# --- staff ------------------------------------------------------------------------


def _cohort_page(cohort_id: int, **_: object) -> str:
    return url_for("registrations.of_cohort", cohort_id=cohort_id)


@bp.get("/cohorts/<int:cohort_id>/registrations")
def of_cohort(cohort_id: int) -> ResponseReturnValue:
    return _staff_page(cohort_id)


def _staff_page(
    cohort_id: int,
    *,
    warned: tuple[int, str, str] | None = None,
    declining: tuple[int, DeclineForm] | None = None,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    overview = registrations.of_cohort(actor(), cohort_id, date.today())
    form = invite_form or InviteForm(formdata=None)
    form.participant.choices = [
        SelectChoice(p.id, f"{p.name} ({p.email})") for p in overview.invitable
    ]
    return render_template(
        "registrations/cohort.html",
        overview=overview,
        cohort=overview.cohort,
        manager_step=overview.cohort.organisation.manager_step,
        accept_form=AcceptForm(formdata=None),
        decline_form=DeclineForm(formdata=None),
        invite_form=form,
        warned=warned,
        declining=declining,
        now=datetime.now(UTC),
    ), status


@bp.post("/cohorts/<int:cohort_id>/registrations/accept")
@transactions.web(back=_cohort_page)
def accept(cohort_id: int) -> ResponseReturnValue:
    registrations.staff_cohort(actor(), cohort_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    registration_id = form.registration.data
    try:
        done = registrations.accept(
            actor(), cohort_id, registration_id, acknowledge=bool(form.acknowledge.data)
        )
    except enrolments.EnrolmentError as error:
        if error.code not in enrolments.WARNINGS:
            raise
        text = sentence(translator().localize(error.message))
        return _staff_page(cohort_id, warned=(registration_id, text, error.code), status=409)
    tr = translator()
    position = waiting_lists.position_of(done)
    if done.state.value == "accepted":
        flash(
            tr.gettext(
                "%(name)s is accepted and enrolled in %(cohort)s.",
                name=done.participant.name,
                cohort=done.cohort.name,
            ),
            "success",
        )
    elif position is not None:
        flash(
            tr.gettext(
                "The cohort is full: %(name)s is on its waiting list, position %(position)s.",
                name=done.participant.name,
                position=position,
            ),
            "success",
        )
    else:
        flash(
            tr.gettext(
                "The cohort is full: %(name)s is on its waiting list "
                "and has been offered a place.",
                name=done.participant.name,
            ),
            "success",
        )
    return redirect(_cohort_page(cohort_id), 303)


@bp.post("/cohorts/<int:cohort_id>/registrations/decline")
@transactions.web(back=_cohort_page)
def decline(cohort_id: int) -> ResponseReturnValue:
    registrations.staff_cohort(actor(), cohort_id)
    form = DeclineForm()
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors or "registration" in form.errors:
        abort(400)
    registration_id = form.registration.data
    if valid:
        try:
            done = registrations.decline(
                actor(), cohort_id, registration_id, form.reason.data or ""
            )
        except InvalidInput as error:
            _at_fields(form, error, "reason")
        else:
            flash(
                translator().gettext(
                    "The registration of %(name)s is declined.", name=done.participant.name
                ),
                "success",
            )
            return redirect(_cohort_page(cohort_id), 303)
    return _staff_page(cohort_id, declining=(registration_id, form), status=400)


@bp.post("/cohorts/<int:cohort_id>/registrations/invite")
@transactions.web(back=_cohort_page)
def invite(cohort_id: int) -> ResponseReturnValue:
    overview = registrations.of_cohort(actor(), cohort_id, date.today())
    form = InviteForm()
    form.participant.choices = [SelectChoice(p.id, p.name) for p in overview.invitable]
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    if valid:
        try:
            done = registrations.invite(actor(), cohort_id, form.participant.data)
        except InvalidInput as error:
            _at_fields(form, error, "participant")
        else:
            flash(
                translator().gettext(
                    "%(name)s is invited to register; the message is on its way.",
                    name=done.participant.name,
                ),
                "success",
            )
            return redirect(_cohort_page(cohort_id), 303)
    return _staff_page(cohort_id, invite_form=form, status=400)


def _settings_page(organisation_id: int, **_: object) -> str:
    return url_for("registrations.settings", organisation_id=organisation_id)


@bp.route("/organisations/<int:organisation_id>/registration", methods=["GET", "POST"])
@transactions.web(back=_settings_page)
def settings(organisation_id: int) -> ResponseReturnValue:
    organisation = registrations.settings_of(actor(), organisation_id)
    form = RegistrationSettingsForm(
        data=_stored_settings(organisation) if request.method == "GET" else None
    )
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
            return _settings(organisation, form), 422
        try:
            registrations.change_waiting_lists(
                actor(),
                organisation.id,
                form.waiting_list_mode.data or "",
                form.offer_days.data,
                bool(form.share_make_ups.data),
            )
        except InvalidInput as error:
            _at_fields(form, error, "waiting_list_mode")
            return _settings(organisation, form), 422
        registrations.change_manager_step(actor(), organisation.id, bool(form.manager_step.data))
        flash(translator().gettext("Saved."), "success")
        return redirect(_settings_page(organisation.id), 303)
    return _settings(organisation, form)


def _stored_settings(organisation) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "manager_step": organisation.manager_step,
        "waiting_list_mode": organisation.waiting_list_mode,
        "offer_days": organisation.offer_days,
        "share_make_ups": organisation.share_make_ups,
    }


def _settings(organisation, form, address: str | None = None) -> str:  # type: ignore[no-untyped-def]
    return render_template(
        "registrations/settings.html",
        organisation=organisation,
        form=form,
        address_form=AddressForm(formdata=None),
        address=address,
    )


@bp.post("/organisations/<int:organisation_id>/registration/address")
@transactions.web(back=_settings_page)
def renew_address(organisation_id: int) -> ResponseReturnValue:
    if not AddressForm().validate_on_submit():
        abort(400)
    token = registrations.renew_address(actor(), organisation_id)
    organisation = registrations.settings_of(actor(), organisation_id)
    address = external_url("registrations.page", token=token)
    form = RegistrationSettingsForm(formdata=None, data=_stored_settings(organisation))
    return _settings(organisation, form, address)


@bp.post("/organisations/<int:organisation_id>/registration/address/close")
@transactions.web(back=_settings_page)
def close_address(organisation_id: int) -> ResponseReturnValue:
    if not AddressForm().validate_on_submit():
        abort(400)
    registrations.close_address(actor(), organisation_id)
    flash(translator().gettext("The registration address no longer works."), "success")
    return redirect(_settings_page(organisation_id), 303)
