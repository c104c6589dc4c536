"""Database set-up that differs between SQLite and PostgreSQL.

SQLite (the embedded default) gets WAL mode, a busy timeout and foreign
keys, and write transactions start with BEGIN IMMEDIATE: a read transaction
that later writes would otherwise fail at once with SQLITE_BUSY, whatever
the timeout.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError

from app.extensions import db

BUSY_TIMEOUT_MS = 10_000
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    # Registered after Flask-SQLAlchemy's own, so it runs first.
    app.teardown_appcontext(_close_session)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)


def _close_session(error: BaseException | None) -> None:
    """Ends the request's session even when the database went away after the
    answer was ready (a restart): the answer stands, the dead connection is
    dropped instead of turning the response into a server error."""
    try:
        db.session.remove()
    except DBAPIError:
        logging.getLogger(__name__).warning("database connection lost after the request")
        try:
            db.session.remove()  # the broken connection is invalidated by now
        except DBAPIError:
            db.session.registry.clear()


def _sqlite_connect(connection: sqlite3.Connection, record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Pages that only read start a deferred transaction; everything else
    # (form posts, the command line) takes the write lock up front.
    reading = has_request_context() and request.method in _READ_METHODS
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def read_bind() -> Engine | Connection:
    """What a lone read statement runs on: the engine, or the connection the
    request's sessions are bound to (a test's transaction). Found without
    creating the request's ORM session, which such a read does not need."""
    bound = db.session.session_factory.kw.get("bind")
    return bound if bound is not None else db.engine
