"""The Flask shell around the planning core."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app import collection
from app.routing import RecordId
from config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Everything is served from this host; no inline scripts or styles, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config_class: type[Config] = Config) -> Flask:
    collection.tune()
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

    from app import api, database, error_pages, filters, i18n, logs, queue, throttle
    from app.extensions import csrf, db, login, migrate
    from app.views import (
        access,
        api_tokens,
        attendance,
        auth,
        calendars,
        certificates,
        cohort_list,
        cohorts,
        credentials,
        curricula,
        dashboard,
        deliveries,
        health,
        issuers,
        jobs,
        make_ups,
        offers,
        participants,
        printouts,
        privacy,
        registrations,
        sessions,
        settings,
        start,
        tandems,
        waiting_lists,
    )

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS),
        render_as_batch=True,
        # The search index and the queue's tables are made outside the models.
        include_name=_compared,
    )
    queue.init_app(app)
    from app import tasks  # noqa: F401 -- registers every task with the queue

    csrf.init_app(app)
    throttle.init_app(app)
    auth.init_login(app, login)
    i18n.init_app(app)
    logs.init_app(app)
    filters.init_app(app)

    access.init_app(app)
    app.register_blueprint(start.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(cohorts.bp)
    app.register_blueprint(cohort_list.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(participants.bp)
    app.register_blueprint(calendars.bp)
    app.register_blueprint(tandems.bp)
    app.register_blueprint(curricula.bp)
    app.register_blueprint(attendance.bp)
    app.register_blueprint(certificates.bp)
    app.register_blueprint(printouts.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(api_tokens.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(deliveries.bp)
    app.register_blueprint(issuers.bp)
    app.register_blueprint(offers.bp)
    app.register_blueprint(make_ups.bp)
    app.register_blueprint(waiting_lists.bp)
    app.register_blueprint(registrations.bp)
    app.register_blueprint(credentials.bp)
    app.register_blueprint(credentials.checking)
    api.init_app(app)

    app.after_request(_security_headers)
    error_pages.init_app(app)
    return app


def _compared(name: str | None, type_: str, parents: object) -> bool:
    """Alembic's `include_name`: leaves out what the models do not describe
    (the search index, the queue's own tables when it lives in the database)."""
    from app.models import participant_search

    return participant_search.compared(name, type_, parents) and not (
        type_ == "table" and name is not None and name.startswith("huey_")
    )


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
    # Only over HTTPS (a browser ignores it on plain http); behind a proxy
    # request.is_secure follows X-Forwarded-Proto when the proxy is trusted.
    if request.is_secure:
        max_age = current_app.config["HSTS_MAX_AGE"]
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    _cache_rule(response)
    return response


def _cache_rule(response: Response) -> None:
    """Nothing a page, an export or a PDF shows is kept by a browser or a
    proxy (a shared computer's back button, a proxy's disk): no-store,
    unless the answer says otherwise. Calendar feeds do, for their
    revalidation with ETags (private, no-cache); a file to keep (an
    attachment) is never stored by a cache. Static files keep their own rule."""
    if request.endpoint == "static":
        return
    attachment = response.headers.get("Content-Disposition", "").startswith("attachment")
    if attachment or "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
