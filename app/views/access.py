"""Who may see what. Deny by default: every endpoint needs a logged-in user
unless it is listed as public; records of other organisations answer 404,
exactly like records that do not exist."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.extensions import login
from app.services import policy
from app.services.policy import Actor

PUBLIC_ENDPOINTS = frozenset(
    {
        "start.index",
        "start.health",
        "health.ready",
        "auth.login",
        "auth.reset_password",
        "static",
        # Reached by a secret link instead of a login; each checks its token.
        "calendars.feed",
        "calendars.personal",
        "calendars.personal_download",
        "calendars.personal_subscribe",
        "calendars.personal_revoke",
        "calendars.personal_self_study",
        "calendars.personal_certificate",
        "calendars.personal_choices",
        # A waiting-list offer's one-time link: no account (app.views.offers).
        "offers.answer",
        "offers.accept",
        "offers.decline",
        # Registering for a cohort: the organisation's page and the one-time
        # links of the employee and their manager (app.views.registrations).
        "registrations.page",
        "registrations.confirm",
        "registrations.manager",
        "registrations.manager_confirm",
        "registrations.manager_refuse",
        "registrations.status",
        "credentials.personal_json",
        "credentials.personal_jwt",
        "credentials.personal_png",
        # The API's description; the API itself checks tokens (app.api.auth).
        "api-docs.openapi_json",
        # Anyone may check a certificate (throttled).
        "certificates.verify",
        "certificates.verify_form",
        "verification.check",
        # An issuer's profile, public keys and status list: anyone verifying a credential.
        "issuers.profile",
        "issuers.jwks",
        "issuers.key",
        "issuers.status_list",
    }
)

T = TypeVar("T")


def init_app(app: Flask) -> None:
    app.before_request(_require_login)


def _require_login() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if request.path.startswith("/api/"):
        return None  # API tokens, never the login session (app.api.auth)
    if not current_user.is_authenticated:
        return login.unauthorized()  # type: ignore[no-any-return]
    return None


def actor() -> Actor:
    """The logged-in user as the services see them."""
    return Actor.of_user(current_user._get_current_object())


def organisation_ids() -> set[int]:
    return current_user.organisation_ids if current_user.is_authenticated else set()


def owned_or_404(
    model: type[T], record_id: int, organisation_attribute: str = "organisation_id"
) -> T:
    """The record if it belongs to one of the user's organisations, else 404."""
    try:
        return policy.get(actor(), model, record_id, organisation_attribute)
    except policy.NotFound:
        abort(404)


def refused_here() -> bool:
    """Whether this page is asked for again because a form on it was just
    refused (the refusal returns to the page the form was on): the refusal
    said why already, and a page that cannot be shown must not send the
    browser back to itself."""
    referrer = request.referrer
    return bool(referrer) and urlsplit(referrer).path == request.path
