from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests.conftest import app_for


@pytest.fixture
def sqlite_app(tmp_path):
    app = app_for(f"sqlite:///{tmp_path / 'settings.db'}")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_embedded_database_uses_wal_a_busy_timeout_and_foreign_keys(sqlite_app):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000


def test_foreign_keys_are_enforced(sqlite_app):
    from app.models import ClosureDay

    db.session.add(ClosureDay(organisation_id=4711, day=date(2027, 1, 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
