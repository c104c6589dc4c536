"""Fixtures shared by the database, web and browser tests.

The database is SQLite in memory unless TEST_DATABASE_URL names another
(PostgreSQL in CI). Each test runs inside a transaction that is rolled back,
so tests never see each other's data.
"""

from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.extensions import db as _db
from app.models import Organisation, Role, User
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from config import TestConfig, database_url

# Property tests run the planner thousands of times; wall-clock deadlines
# would make them flaky on a busy CI machine.
settings.register_profile("default", deadline=None, max_examples=200)
settings.load_profile("default")

PASSWORD = "correct horse battery staple"  # noqa: S105 -- test accounts only


@contextmanager
def separate_database(folder: Path, name: str):
    """The URL of an empty database of the kind under test, apart from the
    shared test tables: an SQLite file, or a PostgreSQL schema of its own."""
    url = database_url(os.environ.get("TEST_DATABASE_URL"))
    if url is None or url.startswith("sqlite"):
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    # Each test process of a parallel run has schemas of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{name}_{worker}" if worker else name
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {name}"))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={name}')}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        engine.dispose()


def app_for(url: str, **settings):
    """An app of its own on the database at `url`."""
    config = type("SeparateConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **settings})
    return create_app(config)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The suite's app: SQLite in memory, or on PostgreSQL a schema of this
    test process, so that parallel processes never share tables."""
    url = TestConfig.SQLALCHEMY_DATABASE_URI
    if not url.startswith("postgresql"):
        yield from _suite_app(create_app(TestConfig))
        return
    _install_trigram_extension(url)
    with separate_database(tmp_path_factory.mktemp("suite"), "suite") as own:
        yield from _suite_app(app_for(own))


def _install_trigram_extension(url: str) -> None:
    """pg_trgm installed once for the database before parallel processes make
    their tables: two of them creating it at once would leave one without
    the search index."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(4711)"))
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    finally:
        engine.dispose()


def _suite_app(app):
    with app.app_context():
        engine = _db.engine
        if os.environ.get("QUALIPLAN_REQUIRE_POSTGRES") and engine.dialect.name != "postgresql":
            pytest.exit(
                "PostgreSQL tests were required but TEST_DATABASE_URL is not PostgreSQL", 3
            )
        _db.drop_all()
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database inside a transaction that is rolled back after the test."""
    connection = _db.engine.connect()
    outer = connection.begin()
    original = _db.session
    _db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    )
    import_standards()
    _db.session.commit()
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def make(db):
    """Factories for the records tests need; each commits, as the app would."""

    class Make:
        def organisation(self, name: str = "Muster AG", region: str = "DE-BW") -> Organisation:
            org = Organisation(name=name, default_region=region)
            db.session.add(org)
            db.session.commit()
            return org

        def user(
            self,
            role: Role = Role.TRAINER,
            organisations: list[Organisation] | None = None,
            email: str | None = None,
            name: str = "Test Person",
        ) -> User:
            address = email or f"{role.value}-{len(db.session.new) + _count()}@example.org"
            user = create_user(address, name, role, PASSWORD, organisations or [])
            db.session.commit()
            return user

        def version(self, key: str = "compact"):
            from sqlalchemy import select

            from app.models import CurriculumRecord

            record = db.session.scalar(
                select(CurriculumRecord).where(
                    CurriculumRecord.key == key, CurriculumRecord.organisation_id.is_(None)
                )
            )
            return record.versions[-1]

        def cohort(
            self,
            organisation: Organisation,
            key: str = "compact",
            start: date = date(2027, 3, 1),
            region: str = "DE-BE",
            trainers: list[User] | None = None,
            name: str = "Gruppe 1",
            version=None,
            **extra,
        ):
            cohort, _ = create_cohort(
                NewCohort(
                    organisation=organisation,
                    version=version or self.version(key),
                    name=name,
                    start=start,
                    region=region,
                    trainers=trainers or [],
                    **extra,
                ),
                actor=None,
            )
            db.session.commit()
            return cohort

        def participant(self, organisation: Organisation, cohort=None, **fields):
            from app.models import Enrolment, Participant

            number = _count()
            person = Participant(
                organisation=organisation,
                first_name=fields.pop("first_name", "Erika"),
                last_name=fields.pop("last_name", f"Muster{number}"),
                email=fields.pop("email", f"person{number}@example.org"),
                **fields,
            )
            db.session.add(person)
            if cohort is not None:
                db.session.add(Enrolment(cohort=cohort, participant=person))
            db.session.commit()
            return person

        def tandem(self, cohort, people, *, confirmed: bool = True, locked: bool = False):
            """A tandem stored as the app stores it, without the pairing."""
            from datetime import UTC, datetime

            from app.models import Tandem, TandemMember, TandemState

            tandem = Tandem(
                cohort_id=cohort.id,
                state=TandemState.CONFIRMED if confirmed else TandemState.PROPOSED,
                confirmed_at=datetime.now(UTC) if confirmed else None,
                locked=locked,
                members=[TandemMember(participant_id=p.id) for p in people],
            )
            db.session.add(tandem)
            db.session.commit()
            return tandem

        def attended(self, cohort, person, mark=None):
            """Marks the person present (or done) in every session of the cohort."""
            from app.services import attendance
            from cohorts.eligibility import Mark

            board = attendance.grid(cohort)
            for session in board.sessions:
                chosen = mark or (Mark.DONE if session.all_day else Mark.PRESENT)
                attendance.set_mark(session, person, chosen, None)
            db.session.commit()

        def certificate(self, cohort, person, actor=None):
            """An issued certificate for someone who attended everything."""
            from app.services import certificates
            from app.services.policy import Actor

            self.attended(cohort, person)
            acting = Actor.of_user(actor) if actor is not None else Actor.system()
            issued = certificates.issue_certificate(acting, cohort.id, person.id)
            db.session.commit()
            return issued

        def not_together(self, first, second):
            from app.models import NotTogether

            low, high = sorted((first.id, second.id))
            entry = NotTogether(
                organisation_id=first.organisation_id, first_id=low, second_id=high
            )
            db.session.add(entry)
            db.session.commit()
            return entry

    return Make()


_counter = iter(range(1, 10**9))


def _count() -> int:
    return next(_counter)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, `g` and database session, as in
    production, even though the test itself holds an app context."""

    def open(self, *args, **kwargs):
        # Read the whole response and close it, as a server does, so that
        # files a download streams from are closed too.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()
