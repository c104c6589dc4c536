"""The admin's settings: accounts (invite, role, organisations, deactivate)
and organisations (name, region, time zone, closure days), with links to the
letterhead and data protection settings of each organisation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app import transactions
from app.forms.auth import ButtonForm
from app.forms.settings import (
    REMINDER_DAY_CHOICES,
    ROLE_NAMES,
    AccountForm,
    ClosureForm,
    InviteForm,
    OrganisationForm,
    OrganisationSettingsForm,
)
from app.i18n import sentence, translator
from app.models import User
from app.public_url import external_url
from app.services import accounts, organisations, password_resets, policy, reminders
from app.services.errors import DomainError, StaleEdit
from app.services.organisations import InvalidFields, OrganisationWish
from app.services.policy import Action
from app.views.access import actor

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("")
def index() -> str:
    return render_template(
        "settings/index.html",
        organisations=organisations.organisations_of(actor()),
        year=date.today().year,
    )


# Accounts.


def _users_page(**_: object) -> str:
    return url_for("settings.users")


def _mail_set_up() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def _link_valid() -> timedelta:
    return timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"])


def _password_link(token: str) -> str:
    return external_url("auth.reset_password", token=token)


def _checked_button() -> None:
    if not ButtonForm().validate_on_submit():
        abort(400)


def _organisation_choices(form: AccountForm) -> None:
    form.organisations.choices = [
        SelectChoice(o.id, o.name) for o in organisations.organisations_of(actor())
    ]


def _sent(form: FlaskForm) -> bool:
    """Whether the form was sent with its CSRF token. Its fields' shape is
    checked here, with the errors at the fields, yet the service is asked
    all the same: so a page shows every problem at once, the shape's and
    the rules' (a refused form answers 400, and nothing is kept)."""
    if not form.is_submitted():
        return False
    form.validate()
    return "csrf_token" not in form.errors


def _at_fields(form: FlaskForm, error: DomainError) -> None:
    """Every problem of a refused form at its field (unless the field's
    shape is wrong already); one without a field of the form on top of the
    page. Refusals of access and stale edits go to the commit point's answer."""
    if error.status in (403, 404) or isinstance(error, StaleEdit):
        raise error
    tr = translator()
    problems = error.problems if isinstance(error, InvalidFields) else (error,)
    for problem in problems:
        text = sentence(tr.localize(problem.message))
        field = form._fields.get(problem.field or "")
        if field is None:
            flash(text, "error")
        elif not field.errors:
            field.errors = [text]


def _refused_status(form: FlaskForm) -> int:
    # A refused form answers 400, so that nothing it did is kept.
    return 400 if form.is_submitted() else 200


@bp.get("/users")
def users() -> str:
    return render_template(
        "settings/users.html",
        users=accounts.accounts_of(actor()),
        form=ButtonForm(),
        role_names=ROLE_NAMES,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@transactions.web(back=_users_page)
def invite() -> ResponseReturnValue:
    form = InviteForm()
    _organisation_choices(form)
    if not form.is_submitted() and len(form.organisations.choices) == 1:
        form.organisations.data = [form.organisations.choices[0].value]
    if _sent(form):
        wish = accounts.AccountWish(
            name=form.name.data or "",
            email=form.email.data or "",
            role=form.role.data or "",
            organisation_ids=frozenset(form.organisations.data or ()),
        )
        try:
            user = accounts.invite(actor(), wish)
        except DomainError as error:
            _at_fields(form, error)
        else:
            if not form.errors:
                return _invited(user)
    return render_template(
        "settings/invite.html", form=form, mail_set_up=_mail_set_up()
    ), _refused_status(form)


def _invited(user: User) -> ResponseReturnValue:
    now = datetime.now(UTC)
    if _mail_set_up():
        password_resets.send(actor(), user.id, now, _link_valid(), _password_link, invitation=True)
        flash(
            _(
                "%(name)s is invited: a link to set their password was sent to %(email)s.",
                name=user.name,
                email=user.email,
            ),
            "success",
        )
        return redirect(url_for("settings.users"), 303)
    token = password_resets.issue(actor(), user.id, now, _link_valid())[1]
    return _link_page(user, token, invitation=True)


def _link_page(user: User, token: str, *, invitation: bool) -> str:
    return render_template(
        "settings/link.html",
        user=user,
        link=_password_link(token),
        hours=current_app.config["PASSWORD_RESET_HOURS"],
        invitation=invitation,
    )


def _user_page(user_id: int, **_: object) -> str:
    return url_for("settings.user", user_id=user_id)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@transactions.web(back=_user_page)
def user(user_id: int) -> ResponseReturnValue:
    account = accounts.managed(actor(), user_id)
    form = AccountForm()
    _organisation_choices(form)
    if not form.is_submitted():
        form.role.data = account.role.value
        form.organisations.data = sorted(account.organisation_ids)
        form.version.data = accounts.account_version(account)
    if _sent(form):
        try:
            accounts.change_account(
                actor(),
                account.id,
                form.role.data or "",
                form.organisations.data or (),
                form.version.data or "",
            )
        except DomainError as error:
            _at_fields(form, error)
        if not form.errors:
            flash(_("Saved."), "success")
            if policy.may(actor(), Action.MANAGE_ACCOUNTS):
                return redirect(url_for("settings.user", user_id=account.id), 303)
            # An admin who made themself something else has left this page's audience.
            return redirect(url_for("dashboard.index"), 303)
    return render_template(
        "settings/user.html",
        account=account,
        form=form,
        button=ButtonForm(),
        mail_set_up=_mail_set_up(),
    ), _refused_status(form)


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@transactions.web(back=_user_page)
def deactivate(user_id: int) -> ResponseReturnValue:
    """Asked first on a page of its own: what ends (for good, the calendar
    address), and the cohorts whose sessions still to come the person
    trains; the confirmed form deactivates."""
    account = accounts.deactivatable(actor(), user_id)
    if request.method == "POST":
        _checked_button()
        if request.form.get("confirmed") == "yes":
            account = accounts.deactivate(actor(), user_id)
            flash(
                _(
                    "%(name)s can no longer log in; every session, API token and calendar "
                    "address of the account has ended.",
                    name=account.name,
                ),
                "success",
            )
            return redirect(url_for("settings.user", user_id=account.id), 303)
    if not account.active:
        return redirect(url_for("settings.user", user_id=account.id), 303)
    return render_template(
        "settings/deactivate.html",
        account=account,
        trained=organisations.trained_ahead(actor(), account.id, date.today()),
        button=ButtonForm(),
    )


@bp.post("/users/<int:user_id>/reactivate")
@transactions.web(back=_user_page)
def reactivate(user_id: int) -> ResponseReturnValue:
    _checked_button()
    account = accounts.reactivate(actor(), user_id)
    flash(_("%(name)s can log in again.", name=account.name), "success")
    return redirect(url_for("settings.user", user_id=account.id), 303)


@bp.post("/users/<int:user_id>/reset-link")
@transactions.web(back=_user_page)
def show_reset_link(user_id: int) -> ResponseReturnValue:
    _checked_button()
    account, token = password_resets.issue(actor(), user_id, datetime.now(UTC), _link_valid())
    return _link_page(account, token, invitation=False)


@bp.post("/users/<int:user_id>/reset-link/send")
@transactions.web(back=_user_page)
def send_reset_link(user_id: int) -> ResponseReturnValue:
    _checked_button()
    account = password_resets.send(
        actor(), user_id, datetime.now(UTC), _link_valid(), _password_link
    )
    flash(_("A link to set a new password was sent to %(email)s.", email=account.email), "success")
    return redirect(url_for("settings.user", user_id=account.id), 303)


# Organisations.


def _organisation_wish(form: OrganisationForm) -> OrganisationWish:
    return OrganisationWish(form.name.data or "", form.region.data or "", form.timezone.data or "")


@bp.route("/organisations/new", methods=["GET", "POST"])
@transactions.web(back=lambda **_: url_for("settings.new_organisation"))
def new_organisation() -> ResponseReturnValue:
    form = OrganisationForm()
    if not form.is_submitted():
        known = organisations.organisations_of(actor())
        form.region.data = known[0].default_region if known else "DE-BW"
    if _sent(form):
        try:
            wish = _organisation_wish(form)
            organisation = organisations.create_organisation(
                actor(), wish.name, wish.region, wish.timezone
            )
        except DomainError as error:
            _at_fields(form, error)
        if not form.errors:
            flash(_("The organisation %(name)s was added.", name=organisation.name), "success")
            return redirect(url_for("settings.organisation", organisation_id=organisation.id), 303)
    return render_template(
        "settings/organisation.html", form=form, organisation=None
    ), _refused_status(form)


def _organisation_page(organisation_id: int, **_: object) -> str:
    return url_for("settings.organisation", organisation_id=organisation_id)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@transactions.web(back=_organisation_page)
def organisation(organisation_id: int) -> ResponseReturnValue:
    record = organisations.managed(actor(), organisation_id)
    # The stored values, also under a post: a region the list lacks stays a choice.
    form = OrganisationSettingsForm(
        data={
            "name": record.name,
            "region": record.default_region,
            "timezone": record.default_timezone,
            "mail_from": record.mail_from,
            "reminder_days": list(record.reminder_days or ()),
            "study_reminders": record.study_reminders,
        }
    )
    form.reminder_days.choices = _reminder_day_choices(record.reminder_days or ())
    if request.method == "GET":
        form.version.data = str(record.lock_version)
    if _sent(form):
        # Both parts are asked, so that the page shows every problem at once.
        try:
            organisations.update_organisation(
                actor(), record.id, _organisation_wish(form), form.version.data or ""
            )
        except DomainError as error:
            _at_fields(form, error)
        try:
            reminders.change_settings(actor(), record.id, _reminder_wish(form))
        except DomainError as error:
            _at_fields(form, error)
        if not form.errors:
            flash(_("Saved."), "success")
            return redirect(url_for("settings.organisation", organisation_id=record.id), 303)
    return render_template(
        "settings/organisation.html",
        form=form,
        organisation=record,
        year=date.today().year,
    ), _refused_status(form)


def _reminder_day_choices(stored: object) -> list[SelectChoice]:
    """1, 2, 3, 7 and 14 days before, and any other number stored before."""
    days = sorted({*REMINDER_DAY_CHOICES, *(d for d in stored if isinstance(d, int))})  # type: ignore[attr-defined]
    tr = translator()
    return [
        SelectChoice(d, tr.ngettext("%(num)d day before", "%(num)d days before", d)) for d in days
    ]


def _reminder_wish(form: OrganisationSettingsForm) -> reminders.ReminderSettings:
    return reminders.ReminderSettings(
        mail_from=form.mail_from.data or "",
        reminder_days=reminders.days_text(sorted(form.reminder_days.data or (), reverse=True)),
        study_reminders=bool(form.study_reminders.data),
    )


def _closures_page(organisation_id: int, year: int, **_: object) -> str:
    return url_for("settings.closures", organisation_id=organisation_id, year=year)


@bp.route("/organisations/<int:organisation_id>/closures/<int:year>", methods=["GET", "POST"])
@transactions.web(back=_closures_page)
def closures(organisation_id: int, year: int) -> ResponseReturnValue:
    form = ClosureForm()
    if _sent(form) and form.first.data is not None:
        try:
            added = organisations.add_closure(
                actor(),
                organisation_id,
                year,
                form.first.data,
                form.last.data,
                form.reason.data or "",
            )
        except DomainError as error:
            _at_fields(form, error)
        if not form.errors:
            tr = translator()
            flash(
                tr.ngettext(
                    "%(num)d closure day was added.",
                    "%(num)d closure days were added.",
                    len(added),
                ),
                "success",
            )
            touched = organisations.sessions_on_days(
                actor(), organisation_id, [d.day for d in added]
            )
            if touched:
                flash(
                    tr.ngettext(
                        "%(num)d planned cohort has sessions on these days; it keeps its dates. "
                        "The cohorts and sessions are listed below.",
                        "%(num)d planned cohorts have sessions on these days; they keep their "
                        "dates. The cohorts and sessions are listed below.",
                        len(touched),
                    ),
                    "notice",
                )
            return redirect(_closures_page(organisation_id, year), 303)
    shown = organisations.closures_in(actor(), organisation_id, year)
    return render_template(
        "settings/closures.html",
        form=form,
        button=ButtonForm(),
        organisation=shown.organisation,
        year=year,
        days=shown.days,
        ranges=organisations.closure_ranges(shown.days),
        touched=organisations.sessions_on_days(
            actor(), organisation_id, [d.day for d in shown.days]
        ),
    ), _refused_status(form)


@bp.post("/organisations/<int:organisation_id>/closures/<int:year>/remove")
@transactions.web(back=_closures_page)
def remove_closures(organisation_id: int, year: int) -> ResponseReturnValue:
    """The ticked days, a range added together ("range"), or one ("remove")."""
    _checked_button()
    chosen = request.form.get("remove") or request.form.get("range")
    texts = chosen.split(",") if chosen else request.form.getlist("days")
    try:
        ids = [int(text) for text in texts]
    except ValueError:
        abort(400)
    try:
        removed = organisations.remove_closures(actor(), organisation_id, ids)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        flash(sentence(translator().localize(error.message)), "error")
        return redirect(_closures_page(organisation_id, year), 303)
    tr = translator()
    if len(removed) == 1:
        flash(
            tr.gettext("%(day)s is no longer a closure day.", day=tr.date(removed[0].day)),
            "success",
        )
    else:
        flash(
            tr.ngettext(
                "%(num)d day is no longer a closure day.",
                "%(num)d days are no longer closure days.",
                len(removed),
            ),
            "success",
        )
    return redirect(_closures_page(organisation_id, year), 303)


@bp.post("/organisations/<int:organisation_id>/closures/<int:year>/<int:closure_id>/remove")
@transactions.web(back=_closures_page)
def remove_closure(organisation_id: int, year: int, closure_id: int) -> ResponseReturnValue:
    _checked_button()
    removed = organisations.remove_closure(actor(), organisation_id, closure_id)
    flash(_("%(day)s is no longer a closure day.", day=translator().date(removed.day)), "success")
    return redirect(_closures_page(organisation_id, year), 303)
