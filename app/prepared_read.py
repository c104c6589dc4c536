"""A read statement that runs on the database driver's cursor directly.

For the one request calendar clients repeat all day (is this feed token
valid, and did its feed change?), SQLAlchemy's per-execution work — the
cache key, an execution context, a result object — costs several times
what the database needs to answer. `PreparedRead` compiles a Core
statement once per dialect and then only converts the parameters and the
row with the same type processors SQLAlchemy would use, so the values are
exactly those of `connection.execute(statement).first()`. Driver errors
come out as SQLAlchemy's exceptions, and a lost connection empties the pool,
as SQLAlchemy does for any other statement.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import CompoundSelect, Select

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: Sequence[str] | None  # parameter order for positional paramstyles
    constants: Mapping[str, Any]  # values fixed in the statement, as the driver takes them
    to_driver: Mapping[str, Processor]  # for the values given with each execution
    from_driver: Sequence[Processor]


class PreparedRead:
    def __init__(self, statement: Select[Any] | CompoundSelect) -> None:
        self.statement = statement
        # Per dialect object (one per engine), forgotten with its engine.
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def first(
        self, bind: Engine | Connection, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row for `params`, or None. On an Engine a pooled
        connection is taken and given back at once; on a Connection (a
        transaction in progress) its own driver connection is used."""
        compiled = self._for(bind.dialect)
        values = dict(compiled.constants)
        for name, process in compiled.to_driver.items():
            values[name] = params[name] if process is None else process(params[name])
        arguments: Any = values
        if compiled.positions is not None:
            arguments = tuple(values[name] for name in compiled.positions)
        if isinstance(bind, Engine):
            row = _on_pooled_connection(bind, compiled.sql, arguments)
        else:
            row = _run(bind.connection, bind.dialect, compiled.sql, arguments, pooled=False)
        if row is None:
            return None
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, compiled.from_driver, strict=True)
        )

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(dialect) or self._compile(dialect)
                self._compiled[dialect] = compiled
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.escaped_bind_names:
            # Parameters SQLAlchemy rewrites on every execution: not for this path.
            raise ValueError("PreparedRead takes only plain bound parameters")
        # By the names in the SQL (`binds` also lists anonymous ones by key).
        binds = {compiled.bind_names[bind]: bind for bind in compiled.binds.values()}
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()
        }
        constants = {}
        for name, bind in binds.items():
            if not bind.required:
                process = processors[name]
                constants[name] = bind.value if process is None else process(bind.value)
        return _Compiled(
            sql=compiled.string,
            positions=tuple(compiled.positiontup) if compiled.positiontup else None,
            constants=constants,
            to_driver={name: processors[name] for name in binds if name not in constants},
            from_driver=[
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            ],
        )


def _on_pooled_connection(engine: Engine, sql: str, arguments: Any) -> Sequence[Any] | None:
    dialect = engine.dialect
    try:
        raw = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        raise _wrapped(error, sql, arguments, dialect, lost=False) from error
    # A lone read needs no transaction; on PostgreSQL one would cost a BEGIN
    # and a ROLLBACK on top of the statement.
    autocommit = dialect.name == "postgresql"
    try:
        return _run(raw, dialect, sql, arguments, pooled=True, autocommit=autocommit)
    except DBAPIError as error:
        if error.connection_invalidated:
            # As SQLAlchemy does on a disconnect: the server most likely went
            # away, so the other pooled connections are dropped too.
            engine.dispose()
        raise
    finally:
        if autocommit and raw.is_valid:
            try:
                raw.driver_connection.autocommit = False
            except dialect.loaded_dbapi.Error as error:
                raw.invalidate(error)  # left in a state the pool cannot reset
        raw.close()


def _run(
    raw: Any, dialect: Dialect, sql: str, arguments: Any, *, pooled: bool, autocommit: bool = False
) -> Sequence[Any] | None:
    cursor = None
    try:
        if autocommit:
            raw.driver_connection.autocommit = True
        cursor = raw.cursor()
        cursor.execute(sql, arguments)
        row = cursor.fetchone()
        cursor.close()
        return row  # type: ignore[no-any-return]
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, raw, cursor)
        if lost and pooled:
            raw.invalidate(error)
        raise _wrapped(error, sql, arguments, dialect, lost=lost) from error


def _wrapped(
    error: Exception, sql: str, arguments: Any, dialect: Dialect, *, lost: bool
) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it for any other statement
    (OperationalError for a database that cannot be reached, and so on)."""
    return DBAPIError.instance(
        sql,
        arguments,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
