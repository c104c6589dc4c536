"""The index that finds a word anywhere in `participants.search_text`.

A search for "mül" must find "Müller" among tens of thousands of people
without reading them all, and the index that can do it differs between the
databases; both answer exactly what `search_text LIKE '%word%'` answers:

- PostgreSQL: a trigram GIN index (`pg_trgm`), which `LIKE` uses directly.
  Where the extension cannot be installed (a managed database that forbids
  it), no index is made and the search reads the table: slower, never wrong.
- SQLite: an FTS5 table with the trigram tokenizer over the column, kept up
  to date by triggers on `participants` whatever writes it (the page, the
  import's bulk INSERT, an erasure). It finds words of three or more
  characters; shorter ones are looked for with `LIKE` in the table.

Neither is part of the models' metadata: they are made here, after the table
(by `create_all`, and by the migration `e15_participant_search`), and
`compared` keeps Alembic's comparison of models and database away from them.
A migration that rebuilds `participants` on SQLite (batch mode copies the
table) drops its triggers: it must call `create(connection)` again
(tests/integration/test_participant_search.py checks this at the head).
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Table, event, text
from sqlalchemy.exc import DBAPIError

FTS_TABLE = "participant_search"
TRIGRAM_INDEX = "ix_participants_search_text_trgm"
# Three characters make a trigram: shorter words cannot use the index.
SHORTEST_INDEXED = 3

_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS participant_search USING fts5("
    "search_text, content='participants', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS participant_search_insert AFTER INSERT ON participants BEGIN "
    "INSERT INTO participant_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS participant_search_delete AFTER DELETE ON participants BEGIN "
    "INSERT INTO participant_search(participant_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS participant_search_update "
    "AFTER UPDATE OF search_text ON participants BEGIN "
    "INSERT INTO participant_search(participant_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO participant_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)
_REBUILD = "INSERT INTO participant_search(participant_search) VALUES ('rebuild')"
_OPTIMIZE = "INSERT INTO participant_search(participant_search) VALUES ('optimize')"
_TRIGGERS = ("participant_search_insert", "participant_search_delete", "participant_search_update")


def create(connection: Connection) -> None:
    """Makes the index for the rows there are and keeps it up to date from
    now on (nothing happens when it exists)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        existed = _has_fts_table(connection)
        for statement in _SQLITE:
            connection.execute(text(statement))
        if not existed:
            connection.execute(text(_REBUILD))
    elif dialect == "postgresql":
        schema = _trigram_schema(connection)
        if schema is None:
            logging.getLogger(__name__).warning(
                "pg_trgm is not available: the participant search reads the whole table"
            )
            return
        # The operator class is named with its schema: the tables may live in
        # a schema whose search path does not reach the extension's.
        connection.execute(
            text(
                "CREATE INDEX IF NOT EXISTS ix_participants_search_text_trgm ON participants "
                f'USING gin (search_text "{schema}".gin_trgm_ops)'
            )
        )


_EXTENSION_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_trgm'"
)


def _trigram_schema(connection: Connection) -> str | None:
    """The schema pg_trgm lives in, installing it (into `public` where there
    is one, so that dropping an application schema never drops it) when it
    is missing; None when it cannot be installed."""
    schema = connection.execute(text(_EXTENSION_SCHEMA)).scalar()
    if schema is not None:
        return str(schema)
    public = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'")
    ).scalar()
    try:
        with connection.begin_nested():
            connection.execute(
                text(
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" SCHEMA public" if public else "")
                )
            )
    except DBAPIError:
        return None
    found = connection.execute(text(_EXTENSION_SCHEMA)).scalar()
    return None if found is None else str(found)


def drop(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in _TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        connection.execute(text("DROP TABLE IF EXISTS participant_search"))
    elif connection.dialect.name == "postgresql":
        connection.execute(text("DROP INDEX IF EXISTS ix_participants_search_text_trgm"))


def has_fts_table(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite" and _has_fts_table(connection)


def forget_erased(connection: Connection) -> None:
    """Merges the SQLite index into one piece, which leaves out the entries of
    deleted rows: until then FTS5 keeps them beside a note that they are
    deleted, and an erased person's words could be read from the file."""
    if has_fts_table(connection):
        connection.execute(text(_OPTIMIZE))


def compared(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name`: False for what this module makes, which the
    models do not describe."""
    if name is None:
        return True
    if type_ == "table":
        return not (name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_"))
    if type_ == "index":
        return name != TRIGRAM_INDEX
    return True


def _has_fts_table(connection: Connection) -> bool:
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": FTS_TABLE},
    ).first()
    return found is not None


def follow(table: Table) -> None:
    """Made and dropped with the table by `create_all` and `drop_all`."""
    event.listen(table, "after_create", lambda target, connection, **kw: create(connection))
    event.listen(table, "before_drop", lambda target, connection, **kw: drop(connection))
