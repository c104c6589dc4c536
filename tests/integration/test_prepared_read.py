"""The feed check runs on the driver's cursor: it must read exactly what
SQLAlchemy would, fail as SQLAlchemy would, and hand its connection back as
it found it."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import DBAPIError

from app.database import read_bind
from app.extensions import db as _db
from app.models import Organisation, Participant, Purpose, Role
from app.models.tokens import token_hash
from app.services import tokens
from app.services.accounts import create_user
from app.services.calendars import _FEED_STATE
from app.services.enrolments import withdraw
from app.services.sessions import cancel_session
from tests.conftest import app_for, separate_database


def _params(token: str, keep_days: int = 30) -> dict[str, object]:
    return {"hash": token_hash(token), "cutoff": datetime.now(UTC) - timedelta(days=keep_days)}


def _as_sqlalchemy_reads_it(token: str, keep_days: int = 30):  # type: ignore[no-untyped-def]
    row = read_bind().execute(_FEED_STATE.statement, _params(token, keep_days)).first()
    return None if row is None else tuple(row)


def test_every_kind_of_feed_reads_the_same_row_as_through_sqlalchemy(make, db):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, organisations=[org])
    cohort = make.cohort(org, key="blended", trainers=[trainer])
    person = make.participant(org, cohort=cohort)
    gone = make.participant(org, cohort=cohort)
    feeds = [
        tokens.issue(Purpose.PARTICIPANT_FEED, person.id, org.id, None),
        tokens.issue(Purpose.PARTICIPANT_FEED, gone.id, org.id, None),
        tokens.issue(Purpose.TRAINER_FEED, trainer.id, org.id, None),
        tokens.issue(Purpose.COHORT_FEED, cohort.id, org.id, None),
    ]
    page = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    db.session.commit()
    # A cancelled session (compared by time against the cut-off) and a
    # withdrawal (the enrolment's own times) are in the rows too.
    first = sorted(cohort.sessions, key=lambda s: s.first_day)[0]
    cancel_session(first, actor=None, expected_version=first.lock_version)
    withdraw(next(e for e in gone.enrolments), actor=None)
    db.session.commit()

    bind = read_bind()
    purposes = []
    for token in feeds:
        for keep_days in (30, 0):
            row = _FEED_STATE.first(bind, _params(token, keep_days))
            assert row == _as_sqlalchemy_reads_it(token, keep_days)
        purposes.append(row[0])
        assert isinstance(row[0], Purpose)
        assert all(v.tzinfo is UTC for v in row if isinstance(v, datetime))
    assert purposes == [
        Purpose.PARTICIPANT_FEED,
        Purpose.PARTICIPANT_FEED,
        Purpose.TRAINER_FEED,
        Purpose.COHORT_FEED,
    ]
    # The cancelled session counts while it is kept, and not after.
    cohort_feed = feeds[3]
    kept = _FEED_STATE.first(bind, _params(cohort_feed, 30))
    dropped = _FEED_STATE.first(bind, _params(cohort_feed, 0))
    assert kept[2] == dropped[2] + 1
    # Unknown, revoked and non-feed tokens find nothing.
    tokens.revoke(Purpose.COHORT_FEED, cohort.id)
    db.session.commit()
    for token in ("x" * 43, cohort_feed, page):
        assert _FEED_STATE.first(bind, _params(token)) is None
        assert _as_sqlalchemy_reads_it(token) is None


@pytest.fixture
def own_app(tmp_path):
    """An app on a database of its own, so that reads go through the pool."""
    with separate_database(tmp_path, "prepared_read") as url:
        app = app_for(url)
        with app.app_context():
            _db.create_all()
            org = Organisation(name="Pool GmbH")
            person = Participant(organisation=org, first_name="A", last_name="B", email="a@b.de")
            _db.session.add_all([org, person])
            _db.session.flush()
            create_user("hr@pool.example", "HR", Role.HR, "x" * 12, [org])
            feed = tokens.issue(Purpose.PARTICIPANT_FEED, person.id, org.id, None)
            _db.session.commit()
            _db.session.remove()
        try:
            yield app, feed
        finally:
            with app.app_context():
                _db.session.remove()
                _db.drop_all()
                _db.engine.dispose()


def test_the_pooled_connection_goes_back_ready_for_transactions(own_app):
    app, feed = own_app
    client = app.test_client()
    assert client.get(f"/feeds/{feed}.ics").status_code == 200
    with app.app_context():
        engine = _db.engine
        assert engine.pool.checkedout() == 0
        with engine.connect() as connection:
            through_sqlalchemy = tuple(
                connection.execute(_FEED_STATE.statement, _params(feed)).one()
            )
        assert _FEED_STATE.first(engine, _params(feed)) == through_sqlalchemy
        # The next user of that connection gets a real transaction: what it
        # rolls back is gone (a connection left in autocommit would keep it).
        before = _count_organisations(engine)
        with engine.connect() as connection:
            connection.execute(insert(Organisation).values(name="Nie gespeichert"))
            connection.rollback()
        assert _count_organisations(engine) == before


def _count_organisations(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.scalar(select(func.count(Organisation.id)))


@contextmanager
def _next_checkout_lost(engine):  # type: ignore[no-untyped-def]
    """The next connection taken from the pool is closed behind its back, as
    a database restart leaves it; yields the pool records it happened to."""
    closed = []

    def close(driver_connection, record, proxy):  # type: ignore[no-untyped-def]
        if not closed:
            closed.append(record)
            driver_connection.close()

    event.listen(engine, "checkout", close)
    try:
        yield closed
    finally:
        event.remove(engine, "checkout", close)


def test_a_lost_connection_is_dropped_and_the_next_request_is_served(own_app, caplog):
    app, feed = own_app
    client = app.test_client()
    assert client.get(f"/feeds/{feed}.ics").status_code == 200
    with app.app_context():
        engine = _db.engine
        with _next_checkout_lost(engine) as closed, pytest.raises(DBAPIError) as caught:
            _FEED_STATE.first(engine, _params(feed))
        assert caught.value.connection_invalidated
        assert engine.pool.checkedout() == 0
        # Dropped on the spot: the pool did not have to find out itself by
        # failing to reset it (which it reports as an error).
        assert closed[0].dbapi_connection is None
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]
    again = client.get(f"/feeds/{feed}.ics")
    assert again.status_code == 200
    assert again.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_a_lost_connection_drops_the_other_pooled_ones_too(own_app):
    """As SQLAlchemy does on a disconnect: the server most likely restarted,
    so the next request opens a new connection instead of failing on the
    next dead one from the pool."""
    app, feed = own_app
    with app.app_context():
        engine = _db.engine
        idle = [engine.raw_connection() for _ in range(2)]
        for connection in idle:
            connection.close()  # two idle connections in the pool now
        opened = []
        event.listen(engine, "connect", lambda *_: opened.append(True))
        with _next_checkout_lost(engine), pytest.raises(DBAPIError):
            _FEED_STATE.first(engine, _params(feed))
        assert opened == []
        assert _FEED_STATE.first(engine, _params(feed)) is not None
        assert opened == [True]  # a new connection, not the other idle one


def test_a_statement_the_database_refuses_raises_sqlalchemys_error(own_app):
    app, feed = own_app
    with app.app_context():
        engine = _db.engine
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE session_trainers")
        with pytest.raises(DBAPIError) as caught:
            _FEED_STATE.first(engine, _params(feed))
        assert not caught.value.connection_invalidated
        assert "session_trainers" in str(caught.value)
        assert engine.pool.checkedout() == 0
