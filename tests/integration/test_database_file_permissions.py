"""The SQLite file holds every person's data and the password hashes: only
its owner reads it, and so its -wal and -shm files, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Organisation
from tests.conftest import app_for

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture
def open_umask():
    """The umask many servers run with: new files readable by everyone."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_something(url: str) -> None:
    app = app_for(url)
    with app.app_context():
        db.create_all()
        db.session.add(Organisation(name="Dateirechte GmbH"))
        db.session.commit()
        with db.engine.connect() as connection:  # a second connection keeps the WAL open
            assert connection.execute(text("SELECT count(*) FROM organisations")).scalar() == 1
            files = sorted(_folder(url).iterdir())
            assert [p.name for p in files] == ["q.db", "q.db-shm", "q.db-wal"]
            for path in files:
                assert mode(path) == 0o600, path.name
        db.session.remove()
        db.engine.dispose()


def _folder(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")).parent


def test_a_new_database_file_and_its_journal_are_the_owners_only(tmp_path, open_umask):
    _write_something(f"sqlite:///{tmp_path / 'q.db'}")
    assert mode(tmp_path / "q.db") == 0o600


def test_a_file_made_before_with_the_umask_is_narrowed_on_connecting(tmp_path, open_umask):
    old = tmp_path / "q.db"
    old.touch()
    assert mode(old) == 0o644
    _write_something(f"sqlite:///{old}")
    assert mode(old) == 0o600


def test_a_missing_folder_is_still_reported_by_sqlite(tmp_path):
    from sqlalchemy.exc import OperationalError

    app = app_for(f"sqlite:///{tmp_path / 'gone' / 'q.db'}")
    with app.app_context(), pytest.raises(OperationalError):
        db.engine.connect()
    assert not (tmp_path / "gone").exists()
