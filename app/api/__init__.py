"""The JSON API under /api/v1: token authentication, JSON errors with one
shape, pagination, and an OpenAPI 3 document generated from the same
marshmallow schemas that serialise the responses (flask-smorest)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from app.api.schemas import ErrorOut
from app.extensions import csrf


class QualiplanApi(Api):  # type: ignore[misc]
    # Documents the errors flask-smorest itself answers (400, 422) in our shape.
    ERROR_SCHEMA = ErrorOut

    def _register_error_handlers(self) -> None:
        # The app's own handlers answer in JSON under /api/ and in HTML
        # everywhere else (app.api.errors).
        pass


def init_app(app: Flask) -> None:
    """One Api per app: it holds the app's OpenAPI document."""
    from app.api import make_ups, registrations, resources

    app.config.setdefault("API_TITLE", "Qualiplan")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = QualiplanApi()
    api.init_app(
        app,
        spec_kwargs={
            "servers": [{"url": "/"}],
            "info": {
                "description": (
                    "Organisations, curricula, cohorts, sessions, participants, enrolments, "
                    "tandems, attendance, certificates, registrations (HR's decisions and "
                    "invitations), the people at risk of missing the certificate and their "
                    "make-ups. Authenticate with "
                    "`Authorization: Bearer <token>`; a token acts for one user in one "
                    "organisation, with that user's role."
                )
            },
        },
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    for blueprint in (*resources.blueprints, registrations.blueprint, make_ups.blueprint):
        csrf.exempt(blueprint)  # no cookies: a token in a header cannot be forged by a page
        api.register_blueprint(blueprint, url_prefix="/api/v1")
