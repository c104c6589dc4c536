"""Two processes writing attendance into one SQLite file at the same moment:
every write succeeds (BEGIN IMMEDIATE and the busy timeout queue them), none
reaches the user as "database is locked", and every one is on record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import AttendanceChange, Organisation, Participant, Role
from app.services import api_tokens
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards
from tests.conftest import app_for

WRITES = 150

WRITER = textwrap.dedent(
    """
    import json, sys
    from app import create_app
    from config import Config

    url, token, cohort, sessions, people, writes = sys.argv[1:7]
    sessions, people = json.loads(sessions), json.loads(people)
    app = create_app(type("W", (Config,), {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "w"}))
    client = app.test_client()
    headers = {"Authorization": "Bearer " + token}
    statuses = {}
    for n in range(int(writes)):
        mark = "present" if n % 2 else "absent"
        cell = f"{sessions[n % len(sessions)]}/{people[n % len(people)]}"
        response = client.put(
            f"/api/v1/cohorts/{cohort}/attendance/{cell}", headers=headers, json={"mark": mark}
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code != 200:
            print(response.get_data(as_text=True), file=sys.stderr)
    print(json.dumps(statuses))
    """
)


def test_two_processes_write_attendance_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    app = app_for(url)
    with app.app_context():
        db.create_all()
        import_standards()
        org = Organisation(name="Zwei Prozesse GmbH")
        db.session.add(org)
        trainer = create_user("t@example.org", "Tina", Role.TRAINER, "a long password", [org])
        from app.models import CurriculumRecord, Enrolment

        version = db.session.scalar(
            select(CurriculumRecord).where(CurriculumRecord.key == "compact")
        ).versions[-1]
        # A cohort that took place: attendance is taken only once a session has begun.
        held = date.today() - timedelta(days=120)
        cohort, _ = create_cohort(
            NewCohort(organisation=org, version=version, name="G", start=held, region="DE-BW"),
            actor=None,
        )
        people = []
        for n in range(4):
            person = Participant(
                organisation=org, first_name="P", last_name=str(n), email=f"p{n}@example.org"
            )
            enrolled = datetime.combine(held - timedelta(days=30), time(), UTC)
            db.session.add_all(
                [person, Enrolment(cohort=cohort, participant=person, enrolled_at=enrolled)]
            )
            people.append(person)
        db.session.flush()
        tokens = [api_tokens.issue(trainer, org.id) for _ in range(2)]
        db.session.commit()
        arguments = [
            str(cohort.id),
            json.dumps([s.id for s in cohort.sessions]),
            json.dumps([p.id for p in people]),
            str(WRITES),
        ]
        db.engine.dispose()

    environment = {**os.environ, "PYTHONPATH": os.getcwd()}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, token, *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for token in tokens
    ]
    results = [writer.communicate(timeout=300) for writer in writers]
    for (out, err), writer in zip(results, writers, strict=True):
        assert writer.returncode == 0, err
        assert json.loads(out) == {"200": WRITES}, err
        assert "locked" not in err

    with app.app_context():
        assert db.session.scalar(select(func.count(AttendanceChange.id))) == 2 * WRITES
        db.engine.dispose()
