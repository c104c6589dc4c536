"""`qualiplan worker` as its own process, as `make run` and production run
it: it delivers what the web process recorded, nothing is lost when the
recording process dies right after its commit, and two workers at once send
each message once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import separate_database
from tests.smtp import Inbox, MailServer

QUALIPLAN = str(Path(sys.executable).with_name("qualiplan"))
WAIT_SECONDS = 30

# Records `count` messages in one transaction, as a service would; with
# "kill", the process dies the moment its commit is done, before it could
# tell the queue.
RECORD = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
from app import create_app
from app.extensions import db
from app.models import Organisation
from app.services import notifications

count, kill = int(sys.argv[1]), sys.argv[2] == "kill"
app = create_app()
with app.app_context():
    org = db.session.query(Organisation).first()
    if org is None:
        org = Organisation(name="Muster AG")
        db.session.add(org)
        db.session.flush()
    for number in range(count):
        notifications.record(
            kind="text", key=f"worker-test:{kill}:{number}", address=f"p{number}@example.org",
            organisation_id=org.id, payload={"subject": f"Nr. {number}", "body": "Hallo"},
        )
    if kill:
        event.listen(
            Session, "after_commit", lambda s: os.kill(os.getpid(), signal.SIGKILL), insert=True
        )
    db.session.commit()
"""


@pytest.fixture
def world(tmp_path):
    inbox = Inbox()
    server = MailServer(inbox)
    server.start()
    with separate_database(tmp_path, "worker_test") as url:
        environment = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "worker-test-secret",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(server.port),
            "MAIL_STARTTLS": "0",
            "MAIL_USERNAME": "",
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("QUALIPLAN_PUBLIC_URL", None)
        if url.startswith("sqlite"):
            environment["QUALIPLAN_QUEUE_URL"] = f"sqlite:///{tmp_path / 'queue.db'}"
        # Otherwise the queue lives in the PostgreSQL database, as in production.
        else:
            environment.pop("QUALIPLAN_QUEUE_URL", None)
        subprocess.run(
            [QUALIPLAN, "db", "upgrade"], env=environment, check=True, capture_output=True
        )
        try:
            yield inbox, environment
        finally:
            server.stop()


def record(environment, count: int, *, kill: bool = False) -> int:
    done = subprocess.run(
        [sys.executable, "-c", RECORD, str(count), "kill" if kill else "commit"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == (-signal.SIGKILL if kill else 0), done.stderr
    return done.returncode


def wait_for(inbox: Inbox, count: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_running_worker_delivers_what_a_commit_recorded_and_stops_on_ctrl_c(world):
    inbox, environment = world
    worker = subprocess.Popen(
        [QUALIPLAN, "worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        record(environment, 30)
        wait_for(inbox, 30)
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=WAIT_SECONDS)
    assert len(inbox.messages) == 30, output
    assert len(set(inbox.ids())) == 30
    assert worker.returncode == 0, output
    assert "p3@example.org" not in output  # no addresses in the worker's log
    # Links in what it sends would hold only a path: it says so when it starts.
    assert "QUALIPLAN_PUBLIC_URL" in output


def test_a_process_killed_right_after_its_commit_loses_nothing(world):
    inbox, environment = world
    record(environment, 5, kill=True)
    assert inbox.messages == []
    done = subprocess.run(
        [QUALIPLAN, "worker", "--once"], env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert sorted(str(m["Subject"]) for m in inbox.messages) == [f"Nr. {n}" for n in range(5)]


def test_two_workers_at_once_send_each_message_once(world):
    inbox, environment = world
    record(environment, 150, kill=True)
    workers = [
        subprocess.Popen(
            [QUALIPLAN, "worker", "--once"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    assert len(inbox.messages) == 150
    assert len(set(inbox.ids())) == 150
