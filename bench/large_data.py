"""Ten years of a large organisation, for the benchmarks: 40 cohorts a year
(three in four blended), 600 new participants a year, about 25,000
enrolments. Made through the same services as the app, bulk-inserted where
only rows are needed."""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import insert, select

from app import create_app
from app.extensions import db
from app.models import (
    CurriculumRecord,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
    Session,
)
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, TrainerConflict, create_cohort
from app.services.standards import import_standards
from config import Config, database_url

PASSWORD = "bench-password-123"  # noqa: S105 -- a throw-away database


def bench_app(folder: Path) -> Flask:
    """The app on a temporary SQLite file, or on DATABASE_URL (an empty database)."""
    url = database_url(os.environ.get("DATABASE_URL")) or f"sqlite:///{folder / 'bench.db'}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
    }
    return create_app(type("BenchConfig", (Config,), settings))


def build(years: int, rng: random.Random) -> dict[str, int]:
    import_standards()
    org = Organisation(name="Bundesweite Lernbegleitung", default_region="DE-NW")
    db.session.add(org)
    trainers = [
        create_user(f"trainer{n}@bench.example", f"Trainer {n}", Role.TRAINER, PASSWORD, [org])
        for n in range(8)
    ]
    create_user("admin@bench.example", "Admin", Role.ADMIN, PASSWORD, [org])
    db.session.commit()

    versions = {r.key: r.versions[-1] for r in db.session.scalars(select(CurriculumRecord))}
    regions = ["DE-BW", "DE-BY", "DE-NW", "DE-SN", "DE-HE", "DE-NI", "DE-BE", "DE-HH"]
    first_year = date.today().year - years + 2
    cohort_ids = []
    for year in range(first_year, first_year + years):
        for number in range(40):
            start = date(year, 1, 5) + timedelta(days=9 * number)
            data = NewCohort(
                organisation=org,
                version=versions["blended" if number % 4 else "compact"],
                name=f"Gruppe {year}-{number + 1:02d}",
                start=start,
                region=regions[number % len(regions)],
                capacity=80,
            )
            for pair in ([trainers[number % 8]], [trainers[(number + 3) % 8]], []):
                data.trainers = pair
                try:
                    cohort, _ = create_cohort(data, actor=None)
                except TrainerConflict:
                    db.session.rollback()
                    continue
                break
            db.session.flush()
            cohort_ids.append(cohort.id)
        db.session.commit()
    people = [
        {
            "organisation_id": org.id,
            "first_name": f"Vorname{n}",
            "last_name": f"Nachname{n}",
            "email": f"person{n}@bench.example",
            "department": rng.choice(["Produktion", "Logistik", "IT", "Vertrieb"]),
            "site": rng.choice(["Köln", "Essen", "Dortmund"]),
            "manager_name": "",
            "manager_email": "",
            "lock_version": 1,
        }
        for n in range(600 * years)
    ]
    db.session.execute(insert(Participant), people)
    person_ids = list(db.session.scalars(select(Participant.id)))
    enrolments = []
    for cohort_id in cohort_ids:
        for person_id in rng.sample(person_ids, 25_000 // len(cohort_ids)):
            enrolments.append(
                {
                    "cohort_id": cohort_id,
                    "participant_id": person_id,
                    "status": EnrolmentStatus.ENROLLED,
                }
            )
    db.session.execute(insert(Enrolment), enrolments)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load in production; without
        # statistics the planner takes ten years of sessions for a hundred.
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return {
        "cohorts": len(cohort_ids),
        "sessions": db.session.query(Session).count(),
        "participants": len(person_ids),
        "enrolments": len(enrolments),
    }
