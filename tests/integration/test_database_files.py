"""The write-ahead log of an SQLite file is emptied right after an erasing
transaction commits, and not when it is rolled back."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Organisation
from app.services import database_files
from tests.conftest import app_for


@pytest.fixture
def on_file(tmp_path):
    path = tmp_path / "q.db"
    app = app_for(f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        try:
            yield path.with_name(path.name + "-wal")
        finally:
            db.session.remove()
            db.engine.dispose()


def write_something() -> None:
    db.session.add(
        Organisation(name=f"Org {db.session.execute(text('SELECT random()')).scalar()}")
    )
    db.session.flush()


def test_the_log_is_emptied_after_the_commit(on_file: Path):
    write_something()
    database_files.forget_after_commit()
    assert on_file.stat().st_size > 0  # the transaction is still open
    db.session.commit()
    assert on_file.stat().st_size == 0
    write_something()
    db.session.commit()
    assert on_file.stat().st_size > 0  # asked once, done once


def test_a_rolled_back_transaction_drops_the_request(on_file: Path):
    write_something()
    db.session.commit()
    size = on_file.stat().st_size
    write_something()
    database_files.forget_after_commit()
    db.session.rollback()
    write_something()
    db.session.commit()
    assert on_file.stat().st_size >= size > 0


def test_a_busy_reader_keeps_the_log_and_is_named_in_the_log(on_file: Path, caplog):
    write_something()
    db.session.commit()
    reader = sqlite3.connect(on_file.with_name("q.db"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM organisations").fetchall()  # holds a snapshot
        write_something()
        database_files.forget_after_commit()
        with caplog.at_level(logging.WARNING, logger="app.services.database_files"):
            db.session.commit()
        assert "a reader is still busy" in caplog.text
        assert on_file.stat().st_size > 0
    finally:
        reader.close()
    assert database_files.checkpoint(db.engine)
    assert on_file.stat().st_size == 0


def test_nothing_to_do_in_memory_or_on_another_database(app, db):
    assert database_files.checkpoint(db.engine) is False
