"""A per-client budget for the public certificate check (a moving window,
from the `limits` library).

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
    if not limiter.hit(parse(limit), scope, request.remote_addr or "unknown"):
        abort(429)


def reset(app: Flask) -> None:
    """Forget every count (tests)."""
    store, _ = app.extensions[KEY]
    store.reset()
