"""`app.prepared_read` leans on parts of SQLAlchemy's compiler that are not
public API; pyproject.toml pins SQLAlchemy to the minor version they were
checked on, and these tests fail first when an upgrade moves them."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import Integer, bindparam, column, literal, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import BindParameter

from app.extensions import db as _db
from app.prepared_read import PreparedRead
from app.services.calendars import _FEED_STATE

_T = table("t", column("id", Integer), column("name"))
_STATEMENT = select(_T.c.name, literal(1)).where(_T.c.id == bindparam("wanted"))


def test_the_compiler_attributes_it_reads_are_there_with_their_meaning():
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        compiled = _STATEMENT.compile(dialect=dialect)
        assert compiled.post_compile_params == frozenset()
        assert not compiled.escaped_bind_names
        names = {compiled.bind_names[b] for b in compiled.binds.values()}
        assert "wanted" in names
        assert len(names) == 2
        for bind in compiled.binds.values():
            assert isinstance(bind, BindParameter)
            assert isinstance(bind.required, bool)
    positional = _STATEMENT.compile(dialect=sqlite.dialect())
    assert positional.positiontup is not None
    assert "wanted" in positional.positiontup


def test_the_feed_check_compiles_on_both_databases():
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        compiled = _FEED_STATE._compile(dialect)
        assert {"hash", "cutoff"} <= set(compiled.to_driver)
        assert len(compiled.from_driver) == len(_FEED_STATE.statement.selected_columns)


def test_a_statement_with_rewritten_parameters_is_refused():
    expanding = select(_T.c.name).where(_T.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="plain bound parameters"):
        PreparedRead(expanding)._compile(sqlite.dialect())


def test_error_wrapping_and_raw_connections_keep_their_shape(db):
    parameters = inspect.signature(DBAPIError.instance).parameters
    assert {"connection_invalidated", "dialect"} <= set(parameters)
    engine = _db.engine
    assert callable(engine.dialect.is_disconnect)
    assert engine.dialect.loaded_dbapi.Error is not None
    raw = engine.raw_connection()
    try:
        assert raw.driver_connection is not None
        assert raw.is_valid
    finally:
        raw.close()
