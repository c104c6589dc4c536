"""Qualiplan under load, and through a PostgreSQL restart.

With the large data set (bench/large_data.py) in a fresh PostgreSQL database,
gunicorn (2 workers, app.wsgi) on a free port of 127.0.0.1, and wrk with 200
connections (200 simulated users, no think time) for a bounded time, a mix of
page views with an HR login (30 %), calendar feeds (40 %), attendance writes
through the API (20 %) and certificate PDFs (10 %). Reports throughput,
p50/p95/p99 and errors, then counts in the database the attendance changes
the run added: every write that was answered 200 must be there.

With `--restart-at S`, PostgreSQL is stopped S seconds into the run and
started again `--outage` seconds later; the app must answer 503 meanwhile,
recover by itself, and still lose no acknowledged write.

Run (as a user allowed to run pg_ctlcluster for the restart):
  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
  .venv/bin/python bench/load/run_load.py --seconds 60 [--restart-at 20]
The database named in DATABASE_URL is only used to create and drop the
scratch database `qualiplan_load`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from large_data import PASSWORD, build  # noqa: E402
from servers import gunicorn  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    AttendanceChange,
    Cohort,
    Enrolment,
    Organisation,
    Participant,
    Purpose,
    Role,
    Session,
    User,
)
from app.services import api_tokens, attendance, certificates, tokens  # noqa: E402
from app.services.accounts import create_user  # noqa: E402
from app.services.policy import Actor  # noqa: E402
from config import Config, database_url  # noqa: E402

SCRATCH = "qualiplan_load"
# Logins are bound to the browser that made them (Flask-Login's session
# protection): the load generator presents itself as the one that logged in.
AGENT = "qualiplan-load"


def scratch_database(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {SCRATCH}")
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{SCRATCH}"))


def prepare(url: str, years: int) -> dict[str, object]:
    settings = {"SQLALCHEMY_DATABASE_URI": database_url(url), "SECRET_KEY": "load"}
    app = create_app(type("LoadConfig", (Config,), settings))
    with app.app_context():
        db.create_all()
        sizes = build(years, random.Random(11))  # noqa: S311 -- bench data
        org = db.session.scalar(select(Organisation))
        hr = create_user("hr@bench.example", "HR", Role.HR, PASSWORD, [org])
        trainer = db.session.scalar(select(User).where(User.role == Role.TRAINER))
        today = date.today()
        cohorts = db.session.scalars(select(Cohort).order_by(Cohort.start_date)).all()
        past = next(c for c in cohorts if max(s.last_day for s in c.sessions) < today)
        future = next(c for c in cohorts if min(s.first_day for s in c.sessions) > today)
        # The cohort's people were enrolled before it started.
        for enrolment in db.session.scalars(
            select(Enrolment).where(Enrolment.cohort_id == past.id)
        ):
            enrolment.enrolled_at = enrolment.enrolled_at.replace(year=past.start_date.year - 1)
        db.session.flush()
        board = attendance.grid(past)
        for session in board.sessions:
            attendance.all_present(session, board.people, trainer)
        db.session.flush()
        issued = certificates.issue_eligible(Actor.of_user(hr), past.id)
        cells = [
            (s.id, e.participant_id)
            for s in db.session.scalars(
                select(Session).where(Session.cohort_id == future.id, Session.all_day.is_(False))
            )
            for e in db.session.scalars(select(Enrolment).where(Enrolment.cohort_id == future.id))
        ]
        people = db.session.scalars(select(Participant.id).limit(50)).all()
        feeds = [tokens.issue(Purpose.PARTICIPANT_FEED, p, org.id, None) for p in people]
        feeds += [tokens.issue(Purpose.COHORT_FEED, c.id, org.id, None) for c in cohorts[:20]]
        api_token = api_tokens.issue(trainer, org.id)
        db.session.commit()
        plan = {
            "sizes": sizes,
            "future": future.id,
            "past": past.id,
            "cells": cells[:200],
            "certificates": [c.id for c in issued],
            "feeds": feeds,
            "api_token": api_token,
            "changes_before": db.session.scalar(select(func.count(AttendanceChange.id))),
        }
        db.engine.dispose()
    return plan


def log_in(base: str) -> str:
    """The HR user's session cookie, as a browser would get it."""
    first = urllib.request.Request(base + "/login", headers={"User-Agent": AGENT})
    with urllib.request.urlopen(first) as response:  # noqa: S310 -- loopback
        page = response.read().decode()
        cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
        cookie = "; ".join(cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "email": "hr@bench.example", "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(
        base + "/login", data=body, headers={"Cookie": cookie, "User-Agent": AGENT}
    )

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(Keep)
    try:
        opener.open(request)
    except urllib.error.HTTPError as answer:  # the 302 after logging in
        if answer.code != 302:
            raise RuntimeError(f"logging in failed: {answer.code}") from None
        cookies = [c.split(";")[0] for c in answer.headers.get_all("Set-Cookie") or []]
        cookie = next(c for c in cookies if c.startswith("session="))
        answer.close()
    return cookie


def lua_requests(plan: dict[str, object], cookie: str, path: Path) -> None:
    rng = random.Random(5)  # noqa: S311 -- a mix, not a secret
    page = {"Cookie": cookie, "User-Agent": AGENT}
    api = {"Authorization": f"Bearer {plan['api_token']}", "Content-Type": "application/json"}
    future, past = plan["future"], plan["past"]
    pages = [
        "/dashboard",
        f"/cohorts/{future}",
        f"/cohorts/{past}/attendance",
        "/participants?q=Nachname1",
        f"/cohorts/{past}/certificates",
    ]
    entries = []
    for n in range(400):
        kind = rng.choices(["page", "feed", "write", "pdf"], [30, 40, 20, 10])[0]
        if kind == "page":
            entries.append(("GET", pages[n % len(pages)], page, None))
        elif kind == "feed":
            entries.append(("GET", f"/feeds/{rng.choice(plan['feeds'])}.ics", {}, None))
        elif kind == "write":
            session, person = rng.choice(plan["cells"])
            mark = rng.choice(["present", "absent", "excused"])
            url = f"/api/v1/cohorts/{future}/attendance/{session}/{person}"
            entries.append(("PUT", url, api, json.dumps({"mark": mark})))
        else:
            entries.append(
                ("GET", f"/certificates/{rng.choice(plan['certificates'])}.pdf", page, None)
            )

    def lua(value: object) -> str:
        if value is None:
            return "nil"
        if isinstance(value, dict):
            return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
        return json.dumps(value)

    lines = [
        f"  {{method = {lua(m)}, path = {lua(p)}, headers = {lua(h)}, body = {lua(b)}}},"
        for m, p, h, b in entries
    ]
    path.write_text("return {\n" + "\n".join(lines) + "\n}\n")


def restart_postgres(after: float, outage: float, log: list[str]) -> None:
    time.sleep(after)
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main"]
    log.append(f"{time.strftime('%H:%M:%S')} stopping PostgreSQL")
    subprocess.run([*command, "stop", "-m", "fast"], check=True)  # noqa: S603
    time.sleep(outage)
    subprocess.run([*command, "start"], check=True)  # noqa: S603
    log.append(f"{time.strftime('%H:%M:%S')} PostgreSQL is back")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--restart-at", type=float, default=None)
    parser.add_argument("--outage", type=float, default=5.0)
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgresql"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (used to create a scratch one).")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian package `wrk`).")

    url = scratch_database(admin_url)
    started = time.perf_counter()
    plan = prepare(url, args.years)
    print(
        f"data: {plan['sizes']}, {len(plan['certificates'])} certificates, "
        f"in {time.perf_counter() - started:.0f} s"
    )
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "load-secret"}
    with gunicorn(environment, "app.wsgi:app") as base:
        cookie = log_in(base)
        folder = Path(tempfile.mkdtemp())
        lua_requests(plan, cookie, folder / "requests.lua")
        events: list[str] = []
        if args.restart_at is not None:
            threading.Thread(
                target=restart_postgres, args=(args.restart_at, args.outage, events), daemon=True
            ).start()
        run = subprocess.run(  # noqa: S603
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(args.connections),
                "-d",
                f"{args.seconds}s",
                "--timeout",
                "15s",
                "-s",
                str(HERE / "mix.lua"),
                base,
            ],
            env={**os.environ, "QUALIPLAN_LOAD_REQUESTS": str(folder / "requests.lua")},
            capture_output=True,
            text=True,
            check=True,
        )
        result = dict(item.split("=") for item in run.stdout.split("RESULT ", 1)[1].split())
        time.sleep(1)
        with urllib.request.urlopen(  # noqa: S310 -- loopback
            urllib.request.Request(
                base + "/dashboard", headers={"Cookie": cookie, "User-Agent": AGENT}
            )
        ) as after:
            recovered = after.status

    app = create_app(
        type("Count", (Config,), {"SQLALCHEMY_DATABASE_URI": database_url(url), "SECRET_KEY": "x"})
    )
    with app.app_context():
        changes = db.session.scalar(select(func.count(AttendanceChange.id)))
        db.engine.dispose()
    added = changes - plan["changes_before"]
    requests = int(result["requests"])
    seconds = float(result["seconds"])
    for event in events:
        print(event)
    print(
        f"{requests} requests in {seconds:.0f} s = {requests / seconds:.0f} req/s; "
        f"latency p50 {result['p50']} ms, p95 {result['p95']} ms, p99 {result['p99']} ms"
    )
    print(
        f"answered: pages {result['pages']}, feeds {result['feeds']}, PDFs {result['pdfs']}, "
        f"attendance writes {result['acked']}; 503 {result['unavailable']}, "
        f"other errors {result['failed']} (of them 5xx: {result['server_errors']}), "
        f"redirects {result['redirected']}, "
        f"socket errors {result['socket_errors']}, "
        f"timeouts {result['timeouts']}"
    )
    print(
        f"attendance changes in the database: {added} for {result['acked']} acknowledged "
        f"writes -> {'none lost' if added >= int(result['acked']) else 'LOST WRITES'}"
    )
    print(f"after the run: GET /dashboard answers {recovered}")


if __name__ == "__main__":
    main()
