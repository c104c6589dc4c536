"""Database set-up that differs between SQLite and PostgreSQL.

SQLite (the embedded default) gets WAL mode, a busy timeout and foreign
keys, and write transactions start with BEGIN IMMEDIATE: a read transaction
that later writes would otherwise fail at once with SQLITE_BUSY, whatever
the timeout. Its file holds every person's data and the password hashes, so
only its owner may read it: it is created with mode 0600 (SQLite gives its
-wal and -shm files the mode of the database file), and a file made before,
with the process's umask, is narrowed on the first connection.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from pathlib import Path
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
        event.listen(engine, "do_connect", _sqlite_create_private)
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


def _sqlite_create_private(dialect: Any, record: Any, cargs: list[Any], cparams: dict) -> None:
    """Creates a missing database file readable by its owner only, before
    SQLite would create it with the umask's mode. Returns nothing, so the
    connection is then made as usual (and a folder that is missing is
    reported by SQLite, as the database being unavailable)."""
    name = cargs[0] if cargs else cparams.get("database", "")
    if os.name != "posix" or cparams.get("uri") or not name or name.startswith((":", "file:")):
        return
    # It exists already (narrowed on connecting), or SQLite will say why not.
    with contextlib.suppress(OSError):
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_connect(connection: sqlite3.Connection, record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA secure_delete = ON")  # deleted rows are zeroed (erasure)
    files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"]
    cursor.close()
    if files and files[0]:
        _owner_only(Path(files[0]))


def _owner_only(database: Path) -> None:
    """The database file and its companions readable by their owner only."""
    if os.name != "posix":
        return
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            info = path.stat()
            if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
                path.chmod(stat.S_IMODE(info.st_mode) & 0o700)
        except OSError:
            continue  # not there (yet), or not ours to change


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
