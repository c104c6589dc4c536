"""Per-client budgets (a moving window, from the `limits` library): for the
public certificate check, and for failed logins (per client address, and
per browser an account logged in with before).

Only the routes that ask for it pay for it: no hook runs on other requests,
which matters for calendar feeds that clients fetch all day. The counters
live where RATELIMIT_STORAGE_URI says: in process memory by default, in
Redis or Memcached when several app processes share the load.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request
from limits import parse, storage, strategies

KEY = "qualiplan.throttle"


def init_app(app: Flask) -> None:
    store = storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[KEY] = (store, strategies.MovingWindowRateLimiter(store))


def check(scope: str, limit: str) -> None:
    """429 when the client has used up `limit` (e.g. "20 per minute") in `scope`."""
    _, limiter = current_app.extensions[KEY]
    if not limiter.hit(parse(limit), scope, _client()):
        abort(429)


def used_up(scope: str, limit: str, key: str | None = None) -> bool:
    """Whether `key` (the client's address unless given) has no budget left in
    `scope`, without spending any: for budgets only failures spend."""
    _, limiter = current_app.extensions[KEY]
    return not limiter.test(parse(limit), scope, key or _client())


def spend(scope: str, limit: str, key: str | None = None) -> None:
    """Counts one use (a failure) of `key`'s budget in `scope`."""
    _, limiter = current_app.extensions[KEY]
    limiter.hit(parse(limit), scope, key or _client())


def _client() -> str:
    # Behind trusted proxies ProxyFix has put the client's address here.
    return request.remote_addr or "unknown"


def reset(app: Flask) -> None:
    """Forget every count (tests)."""
    store, _ = app.extensions[KEY]
    store.reset()
