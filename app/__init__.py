"""The Flask shell around the planning core."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, Response, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.api import errors
from app.routing import RecordId
from config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Everything is served from this host; no inline scripts or styles, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config_class: type[Config] = Config) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RecordId
    app.config.from_object(config_class)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = Path(app.instance_path) / "qualiplan.db"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("SECRET_KEY"):
        if app.config.get("PRODUCTION"):
            raise MissingSecretKey(
                "SECRET_KEY is not set. In production every process needs the same secret "
                "key: set SECRET_KEY in the environment, for example to the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from app import api, database, filters, i18n, logs, throttle
    from app.extensions import csrf, db, login, migrate
    from app.views import (
        access,
        api_tokens,
        attendance,
        auth,
        calendars,
        certificates,
        cohorts,
        curricula,
        dashboard,
        participants,
        privacy,
        sessions,
        start,
        tandems,
    )

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    throttle.init_app(app)
    auth.init_login(app, login)
    i18n.init_app(app)
    logs.init_app(app)
    filters.init_app(app)

    access.init_app(app)
    app.register_blueprint(start.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(cohorts.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(participants.bp)
    app.register_blueprint(calendars.bp)
    app.register_blueprint(tandems.bp)
    app.register_blueprint(curricula.bp)
    app.register_blueprint(attendance.bp)
    app.register_blueprint(certificates.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(api_tokens.bp)
    api.init_app(app)

    app.after_request(_security_headers)
    for status in (400, 401, 403, 404, 405, 409, 410, 413, 422, 429):
        app.register_error_handler(status, _error_page(status))
    app.after_request(_retry_after_throttling)
    app.before_request(_refuse_nul_characters)
    # A value the database cannot store (PostgreSQL: NUL bytes, numbers out of
    # range) is bad input, not a server error; nothing was saved.
    app.register_error_handler(DataError, _unstorable_value)
    app.register_error_handler(500, _server_error)
    # The database is down or restarting: say so and let the client retry.
    # SQLAlchemy drops the broken connections, so the app recovers by itself.
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)
    return app


class MissingSecretKey(RuntimeError):
    """Production without SECRET_KEY: sessions would not survive a restart
    and would not work across processes."""


def _instance_secret(folder: Path) -> str:
    """A secret kept in the instance folder, so `make run` needs no set-up.
    Deployments with several machines set SECRET_KEY instead."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _error_page(status: int):  # type: ignore[no-untyped-def]
    def handler(error: HTTPException) -> ResponseReturnValue:
        if errors.wants_json():
            return errors.from_http_exception(error)
        # A missing or expired CSRF token is a 400 like any other bad request,
        # but its cause is one the user can act on.
        expired = isinstance(error, CSRFError)
        return render_template("error.html", status=status, expired=expired), status

    return handler


def _retry_after_throttling(response: Response) -> Response:
    if response.status_code == 429:
        response.headers.setdefault("Retry-After", "60")
    return response


def _refuse_nul_characters() -> None:
    """NUL is never part of a text people type, and PostgreSQL cannot store it."""
    if request.method in ("GET", "HEAD") and b"%00" not in request.query_string:
        return  # the common case, checked without parsing anything
    values = [*request.args.values(), *request.form.values()]
    if request.is_json:
        body = request.get_data(as_text=True)
        values.append(body.replace("\\u0000", "\0"))
    if any("\0" in value for value in values):
        abort(400, description="The request contains a NUL character (\\0), which no field takes.")


def _unstorable_value(error: Exception) -> ResponseReturnValue:
    from app.extensions import db

    db.session.rollback()
    if errors.wants_json():
        return errors.error_response(400, "A value cannot be stored; nothing was saved.")
    return render_template("error.html", status=400), 400


def _server_error(error: Exception) -> ResponseReturnValue:
    if errors.wants_json():
        return errors.error_response(500, "The request could not be completed.")
    return render_template("error.html", status=500), 500


def _database_unavailable(error: Exception) -> ResponseReturnValue:
    from app.extensions import db, login

    logging.getLogger(__name__).warning("database unavailable: %s", type(error).__name__)
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.remove()
    if errors.wants_json():
        response = errors.error_response(503, "The database cannot be reached; try again.")
        response.headers["Retry-After"] = "30"
        return response
    # Nobody can be looked up now: every template would try (Flask-Login's
    # current_user), so this request goes on as anonymous, on a page of its own.
    g._login_user = login.anonymous_user()
    page = render_template("unavailable.html")
    return page, 503, {"Retry-After": "30"}
