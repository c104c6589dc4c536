"""Browsers an account logged in with before ("device cookies", OWASP's
answer to lockouts that outsiders can trigger).

After a successful login the browser gets a signed cookie naming the
account and a random nonce of its own. While an outsider's failures keep an
account paused for unknown browsers, the owner's browser still gets in with
the right password (app.services.accounts.log_in). Its own failures are
counted per nonce; over that budget it counts as unknown again. The cookie
is no key to anything: it only lets a browser try the password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Response, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import throttle

COOKIE = "qualiplan_device"
SALT = "qualiplan.login-device"
SCOPE = "login-device"


@dataclass(frozen=True)
class Device:
    user_id: int
    nonce: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)  # type: ignore[arg-type]


def _days() -> int:
    return int(current_app.config["LOGIN_DEVICE_DAYS"])


def presented() -> Device | None:
    """The device cookie the browser sent, if it is ours and not too old."""
    value = request.cookies.get(COOKIE)
    if not value or len(value) > 200:
        return None
    try:
        data = _serializer().loads(value, max_age=_days() * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, nonce = data.get("u"), data.get("n")
    if not isinstance(user_id, int) or not isinstance(nonce, str):
        return None
    return Device(user_id, nonce)


def known_browser_of(device: Device | None) -> int | None:
    """The account the browser may log in to despite a pause: none once the
    browser has used up its own budget of failures."""
    if device is None:
        return None
    if throttle.used_up(SCOPE, current_app.config["LOGIN_DEVICE_LIMIT"], device.nonce):
        return None
    return device.user_id


def count_failure(device: Device) -> None:
    throttle.spend(SCOPE, current_app.config["LOGIN_DEVICE_LIMIT"], device.nonce)


def remember(response: Response, user_id: int) -> None:
    """Marks the browser as one `user_id` logged in with (a new nonce)."""
    value = _serializer().dumps({"u": user_id, "n": secrets.token_urlsafe(16)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=_days() * 86400,
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
