"""What a deletion leaves in SQLite's files, and how an erasure takes it out.

Two copies of a deleted row can outlive its DELETE on SQLite: the freed
space of the page it was on (`secure_delete`, switched on for every
connection in `app.database`, fills that with zeros) and the write-ahead
log, which keeps the pages of every transaction since the last checkpoint —
also the ones from before a rename — until it is checkpointed and cut back
to nothing. The log can only be cut once the erasing transaction has
committed, which happens at the door's commit point, after the service is
done: so the service asks for it here, and it runs right after the commit.
A rollback drops the request.

PostgreSQL keeps dead rows until VACUUM reclaims them; that is the
database's housekeeping and not done here.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.database import BUSY_TIMEOUT_MS
from app.extensions import db

CHECKPOINT_WAIT_MS = 1000

_WANTED = "checkpoint_after_commit"
_LISTENING = "checkpoint_listening"


def forget_after_commit() -> None:
    """Checkpoint and truncate SQLite's write-ahead log once the current
    transaction has committed (nothing on other databases)."""
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return
    session.info[_WANTED] = True
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.info.pop(_WANTED, False):
        checkpoint(session.get_bind().engine)


def _after_rollback(session: Session) -> None:
    session.info.pop(_WANTED, None)


def checkpoint(engine: Engine) -> bool:
    """Copies the log into the database file and truncates it to zero bytes;
    False when a reader that is still busy kept part of it (it goes at a
    later checkpoint), the database lives in memory, without a log, or it is
    not SQLite."""
    if not _on_file(engine):
        return False
    # A connection of its own, outside any transaction: a checkpoint cannot
    # run inside one. The sqlite3 module's own transaction handling is off
    # on our connections (app.database), so nothing begins one here.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        # Waits for readers of older snapshots to finish, but not for long:
        # the erasure's answer should not hang on a slow download.
        cursor.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.close()
    finally:
        connection.close()
    busy = row is None or row[0] != 0
    if busy:
        logging.getLogger(__name__).warning(
            "the write-ahead log could not be emptied yet: a reader is still busy"
        )
    return not busy


def _on_file(engine: Engine) -> bool:
    """Whether the database is an SQLite file (nothing to checkpoint elsewhere)."""
    if engine.dialect.name != "sqlite":
        return False
    database = engine.url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(engine.url)
