"""`qualiplan retention run`, as a daily job would run it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

COMMAND = str(Path(sys.executable).with_name("qualiplan"))


def test_retention_deletes_old_attendance_once_and_says_what_it_did(tmp_path):
    database = tmp_path / "qualiplan.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test"}
    env.pop("QUALIPLAN_LANGUAGE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COMMAND, *args], capture_output=True, text=True, env=env, check=False, timeout=120
        )

    assert run("db", "upgrade").returncode == 0
    assert run("demo").returncode == 0
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE organisations SET attendance_retention_years = 1")
        before = connection.execute("SELECT count(*) FROM attendance").fetchone()[0]
    assert before > 0

    not_yet = run("retention", "run")
    assert not_yet.returncode == 0, not_yet.stderr
    assert not_yet.stdout.strip() == "0 Gruppen erledigt."

    later = (date.today() + timedelta(days=400)).isoformat()
    first = run("retention", "run", "--today", later)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert lines[-1] == "1 Gruppe erledigt."
    assert "Kompakt Esslingen" in lines[0]
    assert "Anwesenheitseinträge gelöscht" in lines[0]

    again = run("retention", "run", "--today", later)
    assert again.stdout.strip() == "0 Gruppen erledigt."
    with sqlite3.connect(database) as connection:
        after = connection.execute("SELECT count(*) FROM attendance").fetchone()[0]
        certificates = connection.execute("SELECT count(*) FROM certificates").fetchone()[0]
    assert 0 < after < before  # the running cohorts keep theirs
    assert certificates > 0

    wrong = run("retention", "run", "--today", "next week")
    assert wrong.returncode == 2
    assert "kein Kalenderdatum" in wrong.stderr
