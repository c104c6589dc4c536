"""Login and logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from app import transactions
from app.forms.auth import LoginForm
from app.i18n import translator
from app.services.accounts import LoginPolicy, end_all_sessions, log_in, session_user

bp = Blueprint("auth", __name__)


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
    attempt that counts towards locking the account must be kept, and the
    commit point keeps what a handler answering below 400 did. It is the one
    refusal that changes something, so the service reports it as an outcome
    (`Login.refusal`), not as an error that undoes the work."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        policy = LoginPolicy(
            attempts=current_app.config["LOGIN_ATTEMPTS"],
            lock=timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"]),
        )
        attempt = log_in(form.email.data, form.password.data, datetime.now(UTC), policy)
        if attempt.user is None:
            if attempt.refusal is not None:
                flash(translator().localize(attempt.refusal), "error")
            return render_template("auth/login.html", form=form)
        # A new session on login: nothing from before survives.
        session.clear()
        login_user(attempt.user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


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
