"""The task queue: work that leaves the request (Huey).

Huey was chosen over Dramatiq and RQ (both need Redis, so `make run` would
need a server it does not have) and over procrastinate (PostgreSQL only, so
not the embedded SQLite default): one library, three stores, chosen by
QUALIPLAN_QUEUE_URL:

- unset, with SQLite as the database: a SQLite file beside it in the instance
  folder, shared by the web server and the worker that `make run` starts;
- unset, with PostgreSQL as the database, or `postgresql://…`: Huey's own
  tables in that database, so workers on several machines share one queue
  without another server;
- `redis://…`: Redis (the optional `redis` extra);
- `memory://`: in this process only (the tests).

Tasks are plain functions decorated with `task` or `periodic`; each runs in
its own app context, with its own database session, as a request would.
What must not be lost never lives only in the queue: notifications are rows
written in the transaction of the change (app.services.notifications), and
the queue only says "look now"; a periodic sweep finds whatever a lost
message left behind.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

F = TypeVar("F", bound=Callable[..., Any])

NAME = "qualiplan"
# The key in a database session's `info` holding what to do after its commit.
AFTER_COMMIT = "qualiplan.after_commit"  # the prefix is cleared on rollback

log = logging.getLogger(__name__)

# Created unbound, like the other extensions; init_app gives it its store.
huey = Huey(NAME, results=False, utc=True, storage_class=MemoryStorage)
_bound: dict[str, Flask] = {}

__all__ = ["after_commit", "crontab", "huey", "init_app", "periodic", "run_pending", "task"]


def init_app(app: Flask) -> None:
    queue_url = app.config.get("QUEUE_URL") or ""
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    instance = Path(app.instance_path)
    huey.storage = _Connected(lambda: storage_for(queue_url, database_url, instance))
    _bound["app"] = app


class _Connected:
    """The queue's store, connected on first use in each process: creating the
    app never connects (a database that is down does not stop it starting),
    and a process forked after that (gunicorn) gets its own connection."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._store: Any = None
        self._pid = 0

    def __getattr__(self, name: str) -> Any:
        if self._store is None or self._pid != os.getpid():
            self._store, self._pid = self._connect(), os.getpid()
        return getattr(self._store, name)


def storage_for(queue_url: str, database_url: str, instance: Path) -> Any:
    url = queue_url or (database_url if database_url.startswith("postgresql") else "")
    if url.startswith("memory:"):
        return MemoryStorage(NAME)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage(NAME, url=url)
    if url.startswith("postgresql"):
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        return _postgres_storage(dsn)
    if url.startswith("sqlite:///"):
        return SqliteStorage(NAME, filename=url.removeprefix("sqlite:///"))
    if url:
        raise ValueError(f"QUALIPLAN_QUEUE_URL is not a queue address Qualiplan knows: {url!r}")
    instance.mkdir(parents=True, exist_ok=True)
    return SqliteStorage(NAME, filename=str(instance / "queue.db"))


def _postgres_storage(dsn: str, tries: int = 3) -> Any:
    """Huey makes its tables on connecting, with CREATE TABLE IF NOT EXISTS,
    which PostgreSQL lets two processes starting at once both try: the one
    that loses sees a unique violation, and the tables are there when it
    tries again."""
    from psycopg import errors

    for attempt in range(tries):
        try:
            return PostgresStorage(NAME, dsn=dsn)
        except (errors.UniqueViolation, errors.DuplicateTable, errors.DuplicateObject):
            if attempt == tries - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def bound_app() -> Flask:
    try:
        return _bound["app"]
    except KeyError:
        raise RuntimeError("the task queue is used before create_app bound it") from None


def _in_app_context(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        from app.extensions import db

        if has_app_context():  # run_pending, in a command or a test
            return _committed_run(function, args, kwargs)
        with bound_app().app_context():
            try:
                return _committed_run(function, args, kwargs)
            finally:
                db.session.remove()

    return run


def _committed_run(function: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """A task is a commit point, like a request: all of it or nothing."""
    from app.extensions import db

    try:
        result = function(*args, **kwargs)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def task(**options: Any) -> Callable[[F], F]:
    """A function the worker runs; calling it enqueues it (see Huey's task)."""

    def decorate(function: F) -> F:
        return huey.task(name=function.__name__, **options)(_in_app_context(function))  # type: ignore[no-any-return]

    return decorate


def periodic(schedule: Callable[..., bool], **options: Any) -> Callable[[F], F]:
    """A function the worker's scheduler runs on `schedule` (a Huey crontab)."""

    def decorate(function: F) -> F:
        wrapped = _in_app_context(function)
        return huey.periodic_task(schedule, name=function.__name__, **options)(wrapped)  # type: ignore[no-any-return]

    return decorate


def run_pending(limit: int = 10_000) -> int:
    """Runs what is queued now, in this process, and returns how many tasks
    ran: the tests, and `qualiplan worker --once`."""
    ran = 0
    while ran < limit:
        message = huey.dequeue()
        if message is None:
            return ran
        huey.execute(message)
        ran += 1
    return ran


def after_commit(action: Callable[[], None]) -> None:
    """Runs `action` once the current transaction has committed, and never
    if it rolls back: how a change tells the queue to look."""
    from app.extensions import db

    db.session().info.setdefault(AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    actions = session.info.pop(AFTER_COMMIT, [])
    for action in actions:
        try:
            action()
        except Exception:
            # The rows are committed; the periodic sweep sends them a little later.
            log.warning("The task queue could not be told about a change", exc_info=True)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: after a commit its actions have run,
    after a rollback nothing it did exists, so nothing of it is announced
    (services keep what they note for after the commit under "qualiplan.").
    A savepoint's end changes nothing: its transaction goes on (what a
    rolled-back savepoint recorded is not in the database, and delivering
    an id that does not exist does nothing)."""
    if transaction.parent is not None:
        return
    for key in [key for key in session.info if str(key).startswith("qualiplan.")]:
        del session.info[key]
