"""Readiness for load balancers and monitoring: `GET /ready` answers 200 when
the database answers, 503 with a short JSON body when it does not.

`GET /health` (the start blueprint) stays the liveness check: the process
answers, whatever the database does. Kept apart on purpose: an orchestrator
that restarts processes whose liveness fails would restart every healthy
process during a database outage, and a load balancer that took every
machine out would answer with its own error page instead of the app's 503
page, which tells people to retry shortly.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.database import read_bind

bp = Blueprint("health", __name__)


@bp.get("/ready")
def ready() -> ResponseReturnValue:
    """One round trip outside the request's ORM session, without looking up
    a login."""
    try:
        bind = read_bind()
        if isinstance(bind, Engine):
            with bind.connect() as connection:
                connection.execute(text("SELECT 1"))
        else:
            bind.execute(text("SELECT 1"))  # a test's transaction
    except SQLAlchemyError as error:
        logging.getLogger(__name__).warning("not ready: %s", type(error).__name__)
        body = {"status": "unavailable", "database": "unreachable"}
        return body, 503, {"Retry-After": "30"}
    return {"status": "ok", "database": "ok"}, 200
