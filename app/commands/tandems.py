"""`qualiplan tandems`: pair a cohort from CSV files, for consultants who plan
outside the app. The same pairing as the tandem page of a cohort."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from app.commands import CommandFailed, language_option, translator
from app.i18n import Translator
from cohorts.pairing import Pairing, Person, pair
from curricula.messages import Message, msg

PEOPLE_COLUMNS = ("id", "name", "department", "site", "manager")
PAIR_COLUMNS = ("a", "b")


@click.command()
@click.option(
    "--people", "people_file", metavar="FILE.csv", help="id,name,department,site,manager"
)
@click.option(
    "--history",
    "history_file",
    metavar="FILE.csv",
    help="Earlier tandems: a,b per row (a group of three as its three pairs); "
    "ids of people not in --people are allowed.",
)
@click.option(
    "--not-together",
    "apart_file",
    metavar="FILE.csv",
    help="Pairs that must never be a tandem: a,b per row, ids from --people.",
)
@click.option("--seed", type=int, default=None, help="Another equally good pairing, repeatably.")
@click.option("--format", "output_format", default="table", metavar="table|json")
@language_option
def tandems(
    people_file: str | None,
    history_file: str | None,
    apart_file: str | None,
    seed: int | None,
    output_format: str,
    lang: str | None,
) -> None:
    """Pair people into tandems (pairs, one group of three when odd).

    Prefers different departments and the same site; never pairs someone
    with their manager line, an earlier partner or a not-together pair.
    """
    tr = translator(lang)
    if not people_file:
        raise CommandFailed(msg("{option} is missing", option="--people"))
    if output_format not in ("table", "json"):
        raise CommandFailed(
            msg(
                "--format: '{value}' is not a format; use {known}",
                value=output_format,
                known=["table", "json"],
            )
        )
    people = read_people(people_file)
    known = {p.id for p in people}
    history = read_pairs(history_file, known=None) if history_file else []
    apart = read_pairs(apart_file, known=known) if apart_file else []
    result = pair(people, history=history, not_together=apart, seed=seed)
    names = {p.id: p.name for p in people}
    if output_format == "json":
        click.echo(json.dumps(as_json(result, tr), ensure_ascii=False, indent=2))
    else:
        click.echo(as_table(result, names, tr))


@dataclass(frozen=True)
class _Table:
    path: str
    rows: list[tuple[int, dict[str, str]]]  # line number, values by column


def _read(path: str, columns: Sequence[str], required: Sequence[str]) -> _Table:
    """Rows of a CSV file (comma or semicolon, UTF-8 with or without BOM)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandFailed(msg("{file}: no such file", file=path)) from None
    except UnicodeDecodeError:
        raise CommandFailed(msg("{file}: not a UTF-8 text file", file=path)) from None
    except OSError as error:
        raise CommandFailed(
            msg("{file}: cannot be read ({reason})", file=path, reason=error.strerror or "")
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise CommandFailed(
            msg(
                "{file}: the first row must name the columns {columns}; missing: {missing}",
                file=path,
                columns=list(columns),
                missing=missing,
            )
        )
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Message] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                msg(
                    "{file}, row {row}: {count} fields, but the header has {expected}",
                    file=path,
                    row=line,
                    count=len(cells),
                    expected=len(header),
                )
            )
            continue
        rows.append((line, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    if problems:
        raise CommandFailed(*problems)
    return _Table(path, rows)


def read_people(path: str) -> list[Person]:
    table = _read(path, PEOPLE_COLUMNS, ("id", "name"))
    people: list[Person] = []
    seen: dict[str, int] = {}
    problems: list[Message] = []
    for line, values in table.rows:
        person_id, name = values["id"], values["name"]
        if not person_id or not name:
            problems.append(
                msg(
                    "{file}, row {row}: {column} is empty",
                    file=path,
                    row=line,
                    column="id" if not person_id else "name",
                )
            )
            continue
        if person_id in seen:
            problems.append(
                msg(
                    "{file}, row {row}: the id {id} is in row {other} already",
                    file=path,
                    row=line,
                    id=person_id,
                    other=seen[person_id],
                )
            )
            continue
        seen[person_id] = line
        people.append(
            Person(
                id=person_id,
                name=name,
                department=values.get("department") or None,
                site=values.get("site") or None,
                manager=values.get("manager") or None,
            )
        )
    if problems:
        raise CommandFailed(*problems)
    if len(people) < 2:
        raise CommandFailed(msg("{file}: tandems need at least two people", file=path))
    return people


def read_pairs(path: str, *, known: set[str] | None) -> list[tuple[str, str]]:
    """Pairs of ids; with `known`, every id must be one of them."""
    table = _read(path, PAIR_COLUMNS, PAIR_COLUMNS)
    pairs: list[tuple[str, str]] = []
    problems: list[Message] = []
    for line, values in table.rows:
        a, b = values["a"], values["b"]
        if not a or not b:
            problems.append(
                msg(
                    "{file}, row {row}: {column} is empty",
                    file=path,
                    row=line,
                    column="a" if not a else "b",
                )
            )
        elif a == b:
            problems.append(
                msg("{file}, row {row}: {id} is paired with themselves", file=path, row=line, id=a)
            )
        elif known is not None and (unknown := [i for i in (a, b) if i not in known]):
            problems.append(
                msg(
                    "{file}, row {row}: {ids} is not in the people file",
                    file=path,
                    row=line,
                    ids=unknown,
                )
            )
        else:
            pairs.append((a, b))
    if problems:
        raise CommandFailed(*problems)
    return pairs


def as_json(result: Pairing, tr: Translator) -> dict[str, object]:
    return {
        "tandems": [
            {
                "members": list(t.members),
                "score": t.score,
                "reasons": [tr.localize(r) for r in t.reasons],
            }
            for t in result.tandems
        ],
        "warnings": [tr.localize(w) for w in result.warnings],
    }


def as_table(result: Pairing, names: dict[str, str], tr: Translator) -> str:
    lines = []
    for number, tandem in enumerate(result.tandems, start=1):
        members = ", ".join(f"{names[i]} ({i})" for i in tandem.members)
        heading = tr.gettext("Tandem %(number)d", number=number)
        score = tr.gettext("score %(score)d", score=tandem.score)
        lines.append(f"{heading} · {score}: {members}")
        if tandem.reasons:
            lines.append("    " + "; ".join(tr.localize(r) for r in tandem.reasons))
    lines.append(tr.gettext("Total score: %(score)d", score=result.score))
    lines.extend(tr.gettext("Warning: %(text)s", text=tr.localize(w)) for w in result.warnings)
    return "\n".join(lines)
