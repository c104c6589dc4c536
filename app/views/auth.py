"""Login and logout, the user's own password, and using a link to set it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from app import login_devices, throttle, transactions
from app.forms.auth import ChangePasswordForm, LoginForm, NewPasswordForm
from app.i18n import sentence, translator
from app.services import accounts, password_resets
from app.services.accounts import (
    MIN_PASSWORD_LENGTH,
    LoginPolicy,
    end_all_sessions,
    log_in,
    session_user,
)
from app.views.access import actor

bp = Blueprint("auth", __name__)

# Failed logins per client address (any accounts).
CLIENT_SCOPE = "login"


def init_login(app: Flask, login: LoginManager) -> None:
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = _l("Please log in to see this page.")
    login.login_message_category = "info"
    login.session_protection = "strong"
    login.user_loader(session_user)


@bp.route("/login", methods=["GET", "POST"])
@transactions.web
def login() -> ResponseReturnValue:
    """A refused login answers 200 with the form again, not 4xx: the failed
    attempt that counts towards pausing the account must be kept, and the
    commit point keeps what a handler answering below 400 did. It is the one
    refusal that changes something, so the service reports it as an outcome
    (`Login.refusal`), not as an error that undoes the work.

    A client address that failed too often answers 429 before anything is
    checked (it says nothing about any account)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        if throttle.used_up(CLIENT_SCOPE, config["LOGIN_RATE_LIMIT"]):
            abort(429)
        policy = LoginPolicy(
            attempts=config["LOGIN_ATTEMPTS"],
            first_lock=timedelta(seconds=config["LOGIN_FIRST_LOCK_SECONDS"]),
            longest_lock=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]),
        )
        device = login_devices.presented()
        attempt = log_in(
            form.email.data,
            form.password.data,
            datetime.now(UTC),
            policy,
            known_browser_of=login_devices.known_browser_of(device),
        )
        if attempt.user is None:
            throttle.spend(CLIENT_SCOPE, config["LOGIN_RATE_LIMIT"])
            if attempt.from_known_browser and device is not None:
                login_devices.count_failure(device)
            if attempt.refusal is not None:
                flash(sentence(translator().localize(attempt.refusal)), "error")
            return render_template("auth/login.html", form=form)
        # A new session on login: nothing from before survives.
        session.clear()
        login_user(attempt.user)
        response = redirect(_safe_next(request.args.get("next")))
        login_devices.remember(response, attempt.user.id)
        return response
    return render_template("auth/login.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@transactions.web(back=lambda **_: url_for("auth.change_password"))
def change_password() -> ResponseReturnValue:
    """The user's own new password, with the current one. Guessing the
    current one from an open session spends the client's login budget."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        limit = current_app.config["LOGIN_RATE_LIMIT"]
        if throttle.used_up(CLIENT_SCOPE, limit):
            abort(429)
        try:
            user = accounts.change_own_password(
                actor(), form.current_password.data, form.new_password.data
            )
        except accounts.WrongPassword:
            throttle.spend(CLIENT_SCOPE, limit)
            raise
        # Every other session has ended with the old session token; this one
        # goes on under the new one.
        login_user(user)
        flash(_("Your password is changed. Your sessions elsewhere have ended."), "success")
        return redirect(url_for("dashboard.index"), 303)
    return render_template("auth/password.html", form=form, min_length=MIN_PASSWORD_LENGTH)


def _reset_page(token: str, **_: object) -> str:
    return url_for("auth.reset_password", token=token)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@transactions.web(back=_reset_page)
def reset_password(token: str) -> ResponseReturnValue:
    """A reset link an admin sent: set a new password, then log in with it.
    The browser counts as the account's own afterwards (it held the link)."""
    now = datetime.now(UTC)
    if password_resets.holder(token, now) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        user = password_resets.use(token, form.new_password.data, now)
        if user is None:
            return render_template("auth/reset_invalid.html"), 404
        session.clear()
        flash(_("Your new password is set. Please log in with it."), "success")
        response = redirect(url_for("auth.login"), 303)
        login_devices.remember(response, user.id)
        return response
    return render_template("auth/reset.html", form=form, min_length=MIN_PASSWORD_LENGTH)


@bp.get("/accounts")
def accounts_index() -> ResponseReturnValue:
    """The accounts list lives in the settings area now; bookmarks still work."""
    return redirect(url_for("settings.users"), 301)


@bp.post("/logout")
@login_required
@transactions.web
def logout() -> ResponseReturnValue:
    end_all_sessions(current_user)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only paths on this site, never another host, and nothing that could
    break out of the Location header (control characters such as CR/LF)."""
    if target and not any(ord(c) < 32 or ord(c) == 127 for c in target):
        parts = urlsplit(target)
        local = not parts.scheme and not parts.netloc and "\\" not in target
        if local and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.index")
