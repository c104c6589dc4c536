"""Participant search among 60,000 people on SQLite and PostgreSQL.

Measures `services.participants.search` (the list page's and the API's
search: the count of matches and one page of 50, German order) for typical
queries, each with a fresh database session: median of the rounds after
one warm-up, in milliseconds. Beside it, in the same run:

- the floor: one participant read by primary key through the same session
  (a round trip to the database and one ORM object, what any search costs);
- the search as it was before the folded search column and its index
  (`lower(column) LIKE '%word%'` over five columns, ordered by name): it
  reads every row, so it grows with the table.

Target: every search under 20 ms on PostgreSQL.

The people are one organisation's (the HR user's), with names as a German
company has them: umlauts, ß, Turkish, Polish and Vietnamese letters; about
1 % are called Müller, 700 rarer names share the rest.

SQLite: a temporary file. PostgreSQL: `--postgres URL` or DATABASE_URL, a
database on that server which this script creates and drops again (it must
not exist), e.g. postgresql://postgres@127.0.0.1:5432/qualiplan_search_bench.

Run: .venv/bin/python bench/search_times.py [--people 60000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, or_, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Organisation, Participant, Role  # noqa: E402
from app.services import participants  # noqa: E402
from app.services.accounts import create_user  # noqa: E402
from app.services.participants import Filters  # noqa: E402
from app.services.policy import Actor  # noqa: E402
from config import Config, database_url  # noqa: E402

TARGET_MS = 20.0
FIRST = [
    "Anna", "Jürgen", "Ömer", "Çağla", "İlkay", "Łukasz", "Zoë", "Mareike", "Thi Lan",
    "Björn", "Sören", "Ayşe", "Jens", "Katrin", "Mehmet", "Gülşen", "Uwe", "Birgit",
]  # fmt: skip
LAST = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Köhler", "Krüger", "Kühn", "Öztürk", "Çelik", "Yılmaz",
    "Nguyễn", "Wójcik", "Groß", "Weiß", "Mueller", "Straßburger", "Lindqvist",
]  # fmt: skip
STEMS = [
    "Kö", "Krü", "Mü", "Schmi", "Wa", "Be", "Hoff", "Zim", "Ö", "Ça", "Yıl", "Ngu", "Brä",
    "Stö", "Hä", "Lü", "Dö", "Fa", "Gr", "Ha", "Je", "Lo", "Ne", "Pe", "Ro", "Sä", "Tü",
    "Ul", "Vo", "Wi", "Zä", "Ku", "Ma", "Ri", "Sche",
]  # fmt: skip
ENDINGS = [
    "hler", "ger", "ldner", "dtke", "gner", "cker", "mann", "merer", "ztürk", "lik", "maz",
    "yen", "ßler", "sing", "bach", "stedt", "wald", "rich", "ring",
]  # fmt: skip
DEPARTMENTS = ["Produktion", "Logistik", "IT", "Vertrieb", "Qualitätssicherung", "Personal"]
SITES = ["Köln", "Essen", "Dortmund", "München", "Görlitz", "Lübeck"]
QUERIES = {
    "the commonest last name: müller": ("müller", Filters()),
    "spelled out: mueller": ("mueller", Filters()),
    "a rarer last name: köhler": ("köhler", Filters()),
    "three letters: kuh": ("kuh", Filters()),
    "first and last name: ömer celik": ("ömer celik", Filters()),
    "a rare name: person12345": ("person12345", Filters()),
    "an employee number: 4711042": ("4711042", Filters()),
    "nobody: xyzzy": ("xyzzy", Filters()),
    "broad, in one in five: mann": ("mann", Filters()),
    "two letters: ab (no trigram)": ("ab", Filters()),
    "no words, first page": ("", Filters()),
    "a word and a department: weiß in IT": ("weiß", Filters(department="IT")),
}


def last_name(rng: random.Random) -> str:
    """One in five has one of the common names (Müller about 1 %, as in
    Germany), the others one of some 700 rarer ones, a few double-barrelled."""
    if rng.random() < 0.2:
        return rng.choice(LAST)
    name = rng.choice(STEMS) + rng.choice(ENDINGS)
    return name if rng.random() < 0.9 else f"{name}-{rng.choice(LAST)}"


def bench_app(url: str):  # type: ignore[no-untyped-def]
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"}
    return create_app(type("SearchBenchConfig", (Config,), settings))


def load(people: int, rng: random.Random) -> Actor:
    """The people, in one INSERT (the columns' defaults fold the search
    text), and an HR user of their organisation."""
    db.create_all()
    org = Organisation(name="Große Werke AG", default_region="DE-NW")
    db.session.add(org)
    hr = create_user("hr@bench.example", "HR", Role.HR, "bench-password-123", [org])
    db.session.commit()
    rows = []
    for n in range(people):
        rows.append(
            {
                "organisation_id": org.id,
                "first_name": rng.choice(FIRST),
                "last_name": last_name(rng),
                "email": f"person{n}@grosse-werke.example",
                "department": rng.choice(DEPARTMENTS),
                "site": rng.choice(SITES),
                "manager_name": "",
                "manager_email": "",
                "employee_number": str(4_700_000 + n),
                "lock_version": 1,
            }
        )
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Participant), rows[start : start + 10_000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return Actor.of_user(hr)


def before(actor: Actor, query: str, filters: Filters) -> tuple[list[Participant], int]:
    """The search as it was: each word in any of five columns, lower-cased
    by the database, no index to use (filters as now, for the same rows)."""
    statement = participants.matching(actor, "", filters)
    for word in query.lower().split():
        like = f"%{word}%"
        statement = statement.where(
            or_(
                *(
                    func.lower(getattr(Participant, name)).like(like)
                    for name in ("first_name", "last_name", "email", "department", "site")
                )
            )
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = db.session.scalars(
        statement.order_by(Participant.last_name, Participant.first_name, Participant.id).limit(50)
    ).all()
    return list(items), total


def median_ms(work: Callable[[], object], rounds: int) -> float:
    db.session.remove()
    work()
    times = []
    for _ in range(rounds):
        db.session.remove()
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(url: str, label: str, people: int, rounds: int) -> None:
    app = bench_app(url)
    with app.app_context():
        started = time.perf_counter()
        actor = load(people, random.Random(2027))
        loaded = time.perf_counter() - started
        some_id = db.session.scalar(select(Participant.id).limit(1))
        floor = median_ms(lambda: db.session.get(Participant, some_id), rounds)
        print(f"\n### {label}: {people:,} people (loaded in {loaded:.1f} s)\n")
        print(f"Floor (one person by primary key): {floor:.2f} ms\n")
        print("| query | matches | search ms | × floor | before ms | target |")
        print("|---|---|---|---|---|---|")
        for name, (query, filters) in QUERIES.items():
            total = participants.search(actor, query, per_page=50, filters=filters)[1]
            now = median_ms(
                lambda q=query, f=filters: participants.search(actor, q, per_page=50, filters=f),
                rounds,
            )
            old = median_ms(lambda q=query, f=filters: before(actor, q, f), max(rounds // 3, 3))
            met = "met" if now < TARGET_MS else "missed"
            print(f"| {name} | {total:,} | {now:.1f} | {now / floor:.0f} | {old:.1f} | {met} |")
        db.session.remove()
        db.engine.dispose()


@contextmanager
def own_postgres_database(url: str) -> Iterator[str]:
    """Creates the URL's database on its server and drops it afterwards."""
    target = make_url(url)
    name = target.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit("the PostgreSQL URL needs a plain database name to create")
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            measure(f"sqlite:///{Path(folder) / 'search.db'}", "SQLite", args.people, args.rounds)
    if args.postgres.startswith("postgresql"):
        with own_postgres_database(database_url(args.postgres) or "") as database:
            measure(database, "PostgreSQL", args.people, args.rounds)


if __name__ == "__main__":
    main()
