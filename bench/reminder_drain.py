"""How fast one worker sends reminders: 600 reminders recorded by the
periodic task for one morning (20 cohorts of 30 people, each with a session
a week later), then drained by one worker's sweep (app.delivery.sweep_now:
claim, render, send, record the outcome, each committed) against a local
SMTP server (aiosmtpd) on this machine.

The floor, in the same run and against the same server: the same 600
messages, rendered beforehand, sent over one smtplib connection with nothing
else around them. The ratio says what the outbox's bookkeeping costs on top
of talking SMTP. Target: the drain in under 10 s.

Run: `.venv/bin/python bench/reminder_drain.py` on a temporary SQLite file,
or with DATABASE_URL=postgresql://… (an empty database, which it fills).
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from large_data import bench_app
from sqlalchemy import func, select

from app import delivery, queue
from app.extensions import db
from app.models import (
    CurriculumRecord,
    Delivery,
    Enrolment,
    Notification,
    Organisation,
    Participant,
)
from app.services import reminders
from app.services.cohorts import NewCohort, create_cohort
from app.services.standards import import_standards

COHORTS = 20
PEOPLE = 30
# The cohorts' first session: Tue 02.06.2037, so reminders 7 days before are
# due Tue 26.05.2037 at 08:00 in Berlin (06:00 UTC), years after today.
FIRST_DAY = date(2037, 6, 2)
MOMENT = datetime(2037, 5, 26, 6, 0, tzinfo=UTC)


# The mail server: aiosmtpd in a process of its own, as a real one would be,
# taking every message; it writes how many arrived when asked by a NOOP
# line ("NOOP count") and stops when its standard input closes.
SERVER = """
import sys
from aiosmtpd.controller import Controller

class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"
    async def handle_NOOP(self, server, session, envelope, arg):
        return f"250 {Sink.count}"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 -- this interpreter, this script
            [sys.executable, "-c", SERVER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None  # noqa: S101
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the mail server did not start")

    def received(self) -> int:
        with smtplib.SMTP("127.0.0.1", self.port) as smtp:
            code, text = smtp.noop()
        return int(text.split()[0]) if code == 250 else -1  # noqa: PLR2004

    def stop(self) -> None:
        assert self.process.stdin is not None  # noqa: S101
        self.process.stdin.close()
        self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build() -> int:
    import_standards()
    org = Organisation(name="Erinnerung AG", reminder_days=[7, 1])
    db.session.add(org)
    db.session.flush()
    version = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == "compact", CurriculumRecord.organisation_id.is_(None)
        )
    ).versions[-1]
    for number in range(COHORTS):
        cohort, _ = create_cohort(
            NewCohort(
                organisation=org,
                version=version,
                name=f"Gruppe {number + 1}",
                start=FIRST_DAY,
                region="DE-BE",
                venue="Bildungszentrum Nord, Raum 2",
            ),
            actor=None,
        )
        for person in range(PEOPLE):
            participant = Participant(
                organisation=org,
                first_name="Erika",
                last_name=f"Muster {number}-{person}",
                email=f"p{number}-{person}@bench.example",
            )
            db.session.add(participant)
            db.session.add(Enrolment(cohort=cohort, participant=participant))
    db.session.commit()
    return org.id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    server = MailServer()
    port = server.port
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(Path(folder))
        app.config.update(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=port,
            MAIL_STARTTLS=False,
            MAIL_USERNAME="",
            MAIL_FROM="Qualiplan <qualiplan@bench.example>",
        )
        queue.huey.storage = queue.storage_for("memory://", "", Path(folder))
        with app.app_context():
            db.create_all()
            database = db.engine.dialect.name
            build()

            started = time.perf_counter()
            recorded = reminders.record_due(MOMENT - timedelta(minutes=10))
            db.session.commit()
            recording = time.perf_counter() - started

            # The floor: the same messages, rendered first, over one connection.
            messages = [
                delivery.envelope(n)
                for n in db.session.scalars(select(Notification).order_by(Notification.id))
            ]
            db.session.rollback()
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for message in messages:
                    smtp.send_message(message)
            floor = time.perf_counter() - started
            received_floor = server.received()

            started = time.perf_counter()
            tried = delivery.sweep_now(MOMENT)
            drain = time.perf_counter() - started
            sent = db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.state == Delivery.SENT)
            )
            arrived = server.received() - received_floor
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    server.stop()
    print(f"database: {database}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 minutes)")
    print(f"reminders recorded by one run of the task: {recorded} in {recording:.2f} s")
    print(f"drain by one worker (sweep): {tried} tried, {sent} sent, {arrived} arrived")
    print(f"  {drain:.2f} s, {sent / drain:.0f} messages/s (target: 600 in < 10 s)")
    print(f"floor (600 rendered messages over one smtplib connection): {floor:.2f} s")
    print(f"  {received_floor} arrived, {received_floor / floor:.0f} messages/s")
    print(f"drain / floor: {drain / floor:.1f} x")
    ok = recorded == COHORTS * PEOPLE and sent == recorded == arrived and drain < 10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
