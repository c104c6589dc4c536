"""TOML -> Curriculum, with every problem named by file, element and field.

The loader collects all problems of a file before failing, so a consultant
fixes a file in one pass instead of one error at a time.

A file is anyone's upload, so the loader holds limits: its size and element
count are checked before the file is read in full, and every value that
cannot be read (a number of 5,000 digits, values nested a thousand levels
deep, a distance of a million years, `nan` hours) is a problem at its field
like any other, not an exception later at planning or publishing.
"""

from __future__ import annotations

import math
import re
import sys
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from curricula.characters import breaks_line, has_control_character, shown
from curricula.durations import file_minutes
from curricula.messages import Message, amount, msg
from curricula.model import (
    DEFAULT_UNIT_MINUTES,
    STANDARD_KINDS,
    AtLeast,
    CertificateRule,
    Curriculum,
    Element,
    Gap,
    Length,
    Mode,
    Offset,
    Placement,
    Span,
    Text,
    TimedBlock,
    hours_of,
)

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
NEXT_WORKING_DAY = "next_working_day"

# The shipped curricula have 3 and 7 elements in 5 KB. A hundred elements
# with a page of description each in two languages fit into 256 KB; past
# that a file is no curriculum but an attempt to slow the workbench down
# (20,000 elements made its page take 14 s).
MAX_FILE_BYTES = 256 * 1024
MAX_ELEMENTS = 100
# The format itself nests five levels (certificate.at_least[].of[]).
MAX_DEPTH = 10
# Distances and spans, and the whole programme with every gap at its
# longest: ten years, a month counted as 30 days. Planning, calendars and
# timelines then stay within a few thousand days.
MAX_OFFSET_DAYS = 3650
MAX_VERSION = 100_000
# A teaching unit is 45 minutes in German training, a clock hour in some
# programmes; a quarter of an hour to half a day covers every practice.
MIN_UNIT_MINUTES = 15
MAX_UNIT_MINUTES = 240
# Titles and topics print on certificates and fit the database's columns
# (300); a description is a page at most.
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
# More problems than these are counted, not listed: the list is shown on a page.
MAX_PROBLEMS = 30
_ELEMENT_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*elements[ \t]*\]\]", re.MULTILINE)

_TOP_FIELDS = {
    "key",
    "version",
    "title",
    "description",
    "unit_minutes",
    "kinds",
    "elements",
    "certificate",
}
_ELEMENT_FIELDS = {
    "key",
    "kind",
    "title",
    "mode",
    "start",
    "duration",
    "span",
    "after",
    "gap",
    "topics",
    "teaching_hours",
    "teaching_units",
    "counts_for_certificate",
    "description",
    "preparation",
}
_GAP_FIELDS = {"min", "preferred", "max"}
_CERTIFICATE_FIELDS = {"required", "at_least", "min_hours_share"}
_AT_LEAST_FIELDS = {"count", "of"}


@dataclass(frozen=True)
class Problem:
    source: str
    element: str | None
    field: str | None
    message: Message

    def describe(self) -> Message:
        """The problem with where it is, for people."""
        if self.element and self.field:
            return msg(
                "{source}, element '{element}', field '{field}': {message}",
                source=self.source,
                element=self.element,
                field=self.field,
                message=self.message,
            )
        if self.element:
            return msg(
                "{source}, element '{element}': {message}",
                source=self.source,
                element=self.element,
                message=self.message,
            )
        if self.field:
            return msg(
                "{source}, field '{field}': {message}",
                source=self.source,
                field=self.field,
                message=self.message,
            )
        return msg("{source}: {message}", source=self.source, message=self.message)

    def __str__(self) -> str:
        return str(self.describe())


class CurriculumError(Exception):
    """A curriculum file or definition is invalid; `problems` lists every defect."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class _Collector:
    source: str
    problems: list[Problem] = field(default_factory=list)
    unlisted: int = 0

    def add(
        self, message: Message, *, element: str | None = None, field: str | None = None
    ) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.unlisted += 1
            return
        # Element and field names come from the file: any length, any character.
        element = shown(element, 64) if element is not None else None
        field = shown(field, 80) if field is not None else None
        self.problems.append(Problem(self.source, element, field, message))

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def error(self) -> CurriculumError:
        problems = list(self.problems)
        if self.unlisted:
            more = msg("{count} more problems are not listed", count=self.unlisted)
            problems.append(Problem(self.source, None, None, more))
        return CurriculumError(problems)


def _refused(source: str, message: Message, **where: str | None) -> CurriculumError:
    out = _Collector(source)
    out.add(message, **where)
    return out.error()


def size_problem(size: int) -> Message | None:
    """Why a file of `size` bytes is not read as a curriculum, or None."""
    if size <= MAX_FILE_BYTES:
        return None
    return msg(
        "the file has {size} KB; a curriculum file has at most {most} KB",
        size=math.ceil(size / 1024),
        most=MAX_FILE_BYTES // 1024,
    )


def _too_many_elements(count: int) -> Message:
    return msg("{count} elements; a curriculum has at most {most}", count=count, most=MAX_ELEMENTS)


def _value(value: Any) -> str:
    """A value from the file as a message quotes it: short, printable, and
    never a number too long to write out."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        try:
            return f"{float(value):.3g}"
        except OverflowError:
            return "1e+308…"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[…]"
    if isinstance(value, dict):
        return "{…}"
    if value is None:
        return ""
    return shown(str(value))


def load_file(path: str | Path) -> Curriculum:
    path = Path(path)
    try:
        with path.open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)  # a larger file is not read in full
        too_large = size_problem(path.stat().st_size)
        if too_large:
            raise _refused(str(path), too_large)
        raw = content.decode("utf-8")
    except FileNotFoundError:
        raise CurriculumError([Problem(str(path), None, None, msg("file not found"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problem = Problem(str(path), None, None, msg("cannot read: {reason}", reason=reason))
        raise CurriculumError([problem]) from None
    return load_text(raw, source=path.name)


def load_text(text: str, *, source: str = "<curriculum>") -> Curriculum:
    too_large = size_problem(len(text.encode("utf-8", "surrogatepass")))
    if too_large:
        raise _refused(source, too_large)
    headers = len(_ELEMENT_HEADER.findall(text))
    if headers > MAX_ELEMENTS:
        raise _refused(source, _too_many_elements(headers), field="elements")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem(source, None, None, msg("invalid TOML: {reason}", reason=str(exc)))
        raise CurriculumError([problem]) from None
    except RecursionError:
        where = _located(text, _too_deep_at(text))
        raise _refused(source, _nested_too_deeply(), **where) from None
    except ValueError:
        # tomllib reads integers with int(), which refuses more digits than
        # Python writes out (4300); a whole number that long means nothing here.
        digits = sys.get_int_max_str_digits()
        long_number = re.search(rf"[+-]?\d(?:_?\d){{{digits},}}", text)
        where = _located(text, long_number.start()) if long_number else {}
        message = msg("a number with more than {digits} digits cannot be read", digits=digits)
        raise _refused(source, message, **where) from None
    return from_mapping(data, source=source)


def _finite(number: float) -> bool:
    """Not nan or infinite, and not an integer beyond any float."""
    if isinstance(number, int):
        return abs(number) < 10**15
    return math.isfinite(number)


def _nested_too_deeply() -> Message:
    return msg("values are nested more than {most} levels deep", most=MAX_DEPTH)


def _too_deep_at(text: str) -> int:
    """Where in `text` brackets open more than MAX_DEPTH levels deep, with
    quoted strings and comments skipped (0 when nowhere)."""
    depth, position, end = 0, 0, len(text)
    while position < end:
        char = text[position]
        if char in "\"'":
            quote = text[position : position + 3] if text.startswith(char * 3, position) else char
            position += len(quote)
            while position < end and not text.startswith(quote, position):
                position += 2 if char == '"' and text[position] == "\\" else 1
            position += len(quote)
            continue
        if char == "#":
            newline = text.find("\n", position)
            position = end if newline < 0 else newline
            continue
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return position
        elif char in "]}":
            depth = max(0, depth - 1)
        position += 1
    return 0


def _located(text: str, position: int) -> dict[str, str | None]:
    """The element and field that the character at `position` of a TOML
    text belongs to, as far as a look at the text tells."""
    before = text[:position]
    headers = list(re.finditer(r"^[ \t]*\[\[?[^\n\]]*\]\]?", before, re.MULTILINE))
    block = before[headers[-1].end() :] if headers else before
    element = None
    if headers and _ELEMENT_HEADER.match(headers[-1].group()):
        key = re.search(r'^[ \t]*key[ \t]*=[ \t]*"([^"\n]*)"', block, re.MULTILINE)
        element = key.group(1) if key else f"#{len(_ELEMENT_HEADER.findall(before))}"
    # The statement's own name: each starts on a line of its own.
    names = re.findall(r"^[ \t]*([A-Za-z0-9_.\-]+)[ \t]*=", block, re.MULTILINE)
    name = names[-1] if names else None
    table = headers[-1].group().strip().strip("[]").strip() if headers else ""
    if name and table and element is None:
        name = f"{table}.{name}"
    return {"element": element, "field": name}


def _shape_problems(out: _Collector, data: Mapping[str, Any]) -> None:
    """Values nested deeper than the format ever nests, at their field."""
    for name, value in data.items():
        if name == "elements" and isinstance(value, list):
            for index, raw in enumerate(value):
                if not isinstance(raw, dict):
                    if _depth(raw) > MAX_DEPTH - 2:
                        out.add(_nested_too_deeply(), field=f"elements[{index + 1}]")
                    continue
                key = raw.get("key")
                label = key if isinstance(key, str) else f"#{index + 1}"
                for inner, inner_value in raw.items():
                    if _depth(inner_value) > MAX_DEPTH - 3:
                        out.add(_nested_too_deeply(), element=label, field=inner)
        elif isinstance(value, dict):
            for inner, inner_value in value.items():
                if _depth(inner_value) > MAX_DEPTH - 2:
                    out.add(_nested_too_deeply(), field=f"{name}.{inner}")
        elif _depth(value) > MAX_DEPTH - 1:
            out.add(_nested_too_deeply(), field=name)


def _depth(value: Any) -> int:
    """How many levels of lists and tables `value` has (without recursion)."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
            pending.extend((v, depth) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def from_mapping(data: Mapping[str, Any], *, source: str = "<curriculum>") -> Curriculum:
    """Validate a parsed definition and build the curriculum, or raise CurriculumError."""
    out = _Collector(source)
    raw_elements = data.get("elements")
    if isinstance(raw_elements, list) and len(raw_elements) > MAX_ELEMENTS:
        raise _refused(source, _too_many_elements(len(raw_elements)), field="elements")
    _shape_problems(out, data)
    if out.failed:
        raise out.error()
    _unknown_fields(out, data, _TOP_FIELDS, element=None, prefix="")

    key = _slug(out, data, "key", element=None)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        out.add(msg("must be a whole number of at least 1"), field="version")
        version = 1
    elif version > MAX_VERSION:
        out.add(msg("must be a whole number up to {most}", most=MAX_VERSION), field="version")
        version = 1
    title = _text(out, data, "title", element=None, required=True)
    description = _text(out, data, "description", element=None, required=False, lines=True)
    unit_minutes = _unit_minutes(out, data.get("unit_minutes", DEFAULT_UNIT_MINUTES))
    custom_kinds = _custom_kinds(out, data.get("kinds", {}))
    known_kinds = set(STANDARD_KINDS) | {k for k, _ in custom_kinds}

    elements: list[Element] = []
    if not isinstance(raw_elements, list) or not raw_elements:
        out.add(msg("a curriculum needs at least one [[elements]] entry"), field="elements")
        raw_elements = []
    # Keys and placements of every element, also of those with problems, so that
    # one broken element does not make references to it look broken too.
    declared: dict[str, Placement] = {}
    counting: set[str] = set()
    previous: str | None = None
    for index, raw in enumerate(raw_elements):
        if not isinstance(raw, dict):
            out.add(
                msg("each element must be a table ([[elements]])"), field=f"elements[{index + 1}]"
            )
            previous = None
            continue
        element_key, placement, element = _element(
            out, raw, index, previous, known_kinds, unit_minutes
        )
        previous = element_key
        if element_key is None:
            continue
        if element_key in declared:
            out.add(
                msg("the key is used by another element; keys must be unique"),
                element=element_key,
                field="key",
            )
            continue
        declared[element_key] = placement
        if raw.get("counts_for_certificate", True) is not False:
            counting.add(element_key)
        if element is not None:
            elements.append(element)

    _check_references(out, declared)
    titles = {e.key: e.title for e in elements}
    certificate = _certificate(out, data.get("certificate"), list(declared), counting, titles)

    if not out.failed:
        _longest_programme(out, elements)
    if out.failed:
        raise out.error()
    assert title is not None  # noqa: S101 -- guaranteed: a missing title is a problem above
    return Curriculum(
        key=key,
        version=version,
        title=title,
        description=description,
        elements=tuple(elements),
        certificate=certificate,
        custom_kinds=custom_kinds,
        unit_minutes=unit_minutes,
    )


def _unit_minutes(out: _Collector, value: Any) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not MIN_UNIT_MINUTES <= value <= MAX_UNIT_MINUTES
    ):
        out.add(
            msg(
                "must be a whole number of minutes from {least} to {most}, e.g. 45",
                least=MIN_UNIT_MINUTES,
                most=MAX_UNIT_MINUTES,
            ),
            field="unit_minutes",
        )
        return DEFAULT_UNIT_MINUTES
    return value


def _unknown_fields(
    out: _Collector, raw: Mapping[str, Any], known: set[str], *, element: str | None, prefix: str
) -> None:
    for name in raw:
        if name not in known:
            out.add(
                msg("unknown field (known fields: {known})", known=sorted(known)),
                element=element,
                field=prefix + name,
            )


def _slug(out: _Collector, raw: Mapping[str, Any], name: str, *, element: str | None) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        out.add(
            msg(
                "must be 1-64 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            ),
            element=element,
            field=name,
        )
        return value if isinstance(value, str) else ""
    return value


def _text(
    out: _Collector,
    raw: Mapping[str, Any],
    name: str,
    *,
    element: str | None,
    required: bool,
    lines: bool = False,
) -> Text | None:
    """A text in de and en; one line unless `lines` (descriptions)."""
    value = raw.get(name)
    if value is None:
        if required:
            out.add(msg("is missing; give both de and en"), element=element, field=name)
        return None
    if not isinstance(value, dict):
        out.add(msg("must be a table with de and en"), element=element, field=name)
        return None
    _unknown_fields(out, value, {"de", "en"}, element=element, prefix=f"{name}.")
    texts = {lang: value.get(lang) for lang in ("de", "en")}
    for lang, text in texts.items():
        if text is not None and (not isinstance(text, str) or not text.strip()):
            out.add(msg("must be a non-empty text"), element=element, field=f"{name}.{lang}")
        elif isinstance(text, str):
            problem = _character_problem(text.strip(), lines=lines)
            if problem:
                out.add(problem, element=element, field=f"{name}.{lang}")
    de, en = texts["de"], texts["en"]
    if required and (de is None or en is None):
        missing = "de" if de is None else "en"
        out.add(msg("is missing"), element=element, field=f"{name}.{missing}")
        return None
    if not isinstance(de, str) and not isinstance(en, str):
        out.add(msg("give de, en or both"), element=element, field=name)
        return None
    # An optional text in one language only is shown in that language to everyone.
    de_text = de if isinstance(de, str) else str(en)
    en_text = en if isinstance(en, str) else str(de)
    return Text(_normal(de_text), _normal(en_text))


def _normal(text: str) -> str:
    """Trimmed and in Unicode NFC: a decomposed "Nguyễn" prints with its
    accents in place and is found by a search for the composed form."""
    return unicodedata.normalize("NFC", text.strip())


def _character_problem(text: str, *, lines: bool) -> Message | None:
    most = MAX_DESCRIPTION if lines else MAX_TITLE
    if len(text) > most:
        return msg("is longer than {most} characters", most=most)
    if lines and has_control_character(text):
        return msg("holds a control character that cannot be printed")
    if not lines and breaks_line(text):
        return msg("takes one line of text, without line breaks or other control characters")
    return None


def _custom_kinds(out: _Collector, raw: Any) -> tuple[tuple[str, Text], ...]:
    if not isinstance(raw, dict):
        out.add(msg("must be a table of [kinds.NAME] entries"), field="kinds")
        return ()
    kinds: list[tuple[str, Text]] = []
    for name, body in raw.items():
        if not KEY_PATTERN.match(name):
            out.add(msg("a kind name must be a lower-case key"), field=f"kinds.{name}")
            continue
        if name in STANDARD_KINDS:
            out.add(msg("is a standard kind already; choose another name"), field=f"kinds.{name}")
            continue
        if not isinstance(body, dict):
            out.add(msg("must be a table with a title"), field=f"kinds.{name}")
            continue
        _unknown_fields(out, body, {"title"}, element=None, prefix=f"kinds.{name}.")
        field = f"kinds.{name}.title"
        title = _text(out, {field: body.get("title")}, field, element=None, required=True)
        if title is not None:
            kinds.append((name, title))
    return tuple(kinds)


def _element(
    out: _Collector,
    raw: Mapping[str, Any],
    index: int,
    previous: str | None,
    known_kinds: set[str],
    unit_minutes: int = DEFAULT_UNIT_MINUTES,
) -> tuple[str | None, Placement, Element | None]:
    """The element's key (None when invalid), its placement, and the element
    itself when it has no problems."""
    key_value = raw.get("key")
    label = key_value if isinstance(key_value, str) else f"#{index + 1}"
    before = len(out.problems)
    _unknown_fields(out, raw, _ELEMENT_FIELDS, element=label, prefix="")
    key = _slug(out, raw, "key", element=label)

    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in known_kinds:
        out.add(
            msg(
                "unknown kind '{kind}'; use one of {known} or declare it under [kinds.NAME]",
                kind=_value(kind),
                known=sorted(known_kinds),
            ),
            element=label,
            field="kind",
        )
    title = _text(out, raw, "title", element=label, required=True)

    mode_value = raw.get("mode")
    modes = {m.value: m for m in Mode}
    mode = modes.get(mode_value) if isinstance(mode_value, str) else None
    if mode is None:
        out.add(
            msg(
                "unknown mode '{mode}'; use one of {known}",
                mode=_value(mode_value),
                known=[m.value for m in Mode],
            ),
            element=label,
            field="mode",
        )

    length = _length(out, raw, label, mode)
    placement = _placement(out, raw, label, index, previous)

    topics: list[Text] = []
    raw_topics = raw.get("topics", [])
    if not isinstance(raw_topics, list):
        out.add(msg("must be a list of texts"), element=label, field="topics")
        raw_topics = []
    for number, topic in enumerate(raw_topics, start=1):
        if isinstance(topic, str) and topic.strip():
            problem = _character_problem(topic.strip(), lines=False)
            if problem:
                out.add(problem, element=label, field=f"topics[{number}]")
            else:
                topics.append(Text(_normal(topic), _normal(topic)))
        elif isinstance(topic, dict):
            text = _text(out, {"topic": topic}, "topic", element=label, required=True)
            if text is not None:
                topics.append(text)
        else:
            out.add(
                msg("must be a text or a table with de and en"),
                element=label,
                field=f"topics[{number}]",
            )

    hours = _teaching_hours(out, raw, label, length, unit_minutes)

    counts = raw.get("counts_for_certificate", True)
    if not isinstance(counts, bool):
        out.add(msg("must be true or false"), element=label, field="counts_for_certificate")
        counts = True

    description = _text(out, raw, "description", element=label, required=False, lines=True)
    preparation = _text(out, raw, "preparation", element=label, required=False, lines=True)

    valid_key = key if KEY_PATTERN.match(key) else None
    if len(out.problems) > before or title is None or mode is None or length is None:
        return valid_key, placement, None
    assert isinstance(kind, str)  # noqa: S101 -- guaranteed: checked against known kinds
    return (
        valid_key,
        placement,
        Element(
            key=key,
            kind=kind,
            title=title,
            mode=mode,
            length=length,
            placement=placement,
            topics=tuple(topics),
            teaching_hours=hours,
            counts_for_certificate=counts,
            description=description,
            preparation=preparation,
        ),
    )


def _teaching_hours(
    out: _Collector,
    raw: Mapping[str, Any],
    label: str,
    length: Length | None,
    unit_minutes: int,
) -> float:
    """The element's teaching time in clock hours, given as `teaching_hours`
    (clock hours) or as `teaching_units` (of the curriculum's unit length)."""
    if "teaching_units" in raw and "teaching_hours" in raw:
        out.add(
            msg("give teaching_units or teaching_hours, not both"),
            element=label,
            field="teaching_units",
        )
        return 0.0
    name = "teaching_units" if "teaching_units" in raw else "teaching_hours"
    given = raw.get(name, 0)
    if (
        not isinstance(given, int | float)
        or isinstance(given, bool)
        or not _finite(given)
        or given < 0
    ):
        wanted = (
            msg("must be a number of teaching units, 0 or more")
            if name == "teaching_units"
            else msg("must be a number of hours, 0 or more")
        )
        out.add(wanted, element=label, field=name)
        return 0.0
    hours = hours_of(given, unit_minutes) if name == "teaching_units" else float(given)
    if isinstance(length, Span) and hours > 24 * length.length.nominal_days:
        problem = (
            msg(
                "{units} teaching units do not fit into {days} days",
                units=amount(given),
                days=length.length.nominal_days,
            )
            if name == "teaching_units"
            else msg(
                "{hours} teaching hours do not fit into {days} days",
                hours=amount(given),
                days=length.length.nominal_days,
            )
        )
        out.add(problem, element=label, field=name)
    elif isinstance(length, TimedBlock) and hours > length.hours + 1e-9:
        problem = (
            msg(
                "{units} teaching units of {minutes} minutes do not fit into a block "
                "of {block} hours",
                units=amount(given),
                minutes=unit_minutes,
                block=amount(length.hours),
            )
            if name == "teaching_units"
            else msg(
                "{hours} teaching hours do not fit into a block of {block} hours",
                hours=amount(given),
                block=amount(length.hours),
            )
        )
        out.add(problem, element=label, field=name)
    return hours


def _length(
    out: _Collector, raw: Mapping[str, Any], label: str, mode: Mode | None
) -> Length | None:
    has_time = "start" in raw or "duration" in raw
    if "span" in raw:
        if has_time:
            out.add(
                msg(
                    "a span lasts whole days and has no time of day; "
                    "remove start/duration or the span"
                ),
                element=label,
                field="span",
            )
            return None
        offset = _offset(out, raw.get("span"), label, "span")
        if offset is None:
            return None
        if offset.amount < 1:
            out.add(msg("a span lasts at least one day"), element=label, field="span")
            return None
        return Span(offset)
    if not has_time:
        out.add(
            msg("give start and duration (a timed block) or span (whole days)"),
            element=label,
            field="start",
        )
        return None
    if mode is Mode.SELF_PACED:
        out.add(
            msg("self-paced learning has no time of day; give a span instead of start/duration"),
            element=label,
            field="start",
        )
        return None
    start = _clock(out, raw.get("start"), label)
    duration = _duration(out, raw.get("duration"), label)
    if start is None or duration is None:
        return None
    minutes_left = 24 * 60 - (start.hour * 60 + start.minute)
    if duration > timedelta(minutes=minutes_left):
        out.add(
            msg(
                "starting at {start}, {duration} runs past midnight",
                start=f"{start:%H:%M}",
                duration=_value(raw.get("duration")),
            ),
            element=label,
            field="duration",
        )
        return None
    return TimedBlock(start, duration)


def _clock(out: _Collector, value: Any, label: str) -> time | None:
    match = _TIME_PATTERN.match(value) if isinstance(value, str) else None
    if not match:
        out.add(
            msg("'{value}' is not a time of day; write HH:MM, e.g. '09:00'", value=_value(value)),
            element=label,
            field="start",
        )
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _duration(out: _Collector, value: Any, label: str) -> timedelta | None:
    minutes = file_minutes(value) if isinstance(value, str) else None
    if minutes is None:
        out.add(
            msg(
                "'{value}' is not a duration; write e.g. '8h', '2h', '90min' or '7h30min'",
                value=_value(value),
            ),
            element=label,
            field="duration",
        )
        return None
    if minutes <= 0:
        out.add(msg("must be longer than zero"), element=label, field="duration")
        return None
    return timedelta(minutes=minutes)


def _offset(out: _Collector, value: Any, label: str, name: str) -> Offset | None:
    if isinstance(value, str):
        try:
            offset = Offset.parse(value)
        except ValueError:  # also for digits beyond what int() reads
            pass
        else:
            if offset.nominal_days <= MAX_OFFSET_DAYS:
                return offset
            out.add(
                msg(
                    "'{value}' is longer than ten years; a distance is at most {most} days",
                    value=_value(value),
                    most=MAX_OFFSET_DAYS,
                ),
                element=label,
                field=name,
            )
            return None
    out.add(
        msg(
            "'{value}' is not a distance; write a whole number and d, w or m "
            "(days, weeks, months), e.g. '3w'",
            value=_value(value),
        ),
        element=label,
        field=name,
    )
    return None


def _placement(
    out: _Collector, raw: Mapping[str, Any], label: str, index: int, previous: str | None
) -> Placement:
    after = raw.get("after")
    if after is not None and not isinstance(after, str):
        out.add(msg("must be the key of another element"), element=label, field="after")
        after = None
    if index == 0 and after is None:
        if "gap" in raw:
            out.add(
                msg("the first element sits on the cohort start and has no gap"),
                element=label,
                field="gap",
            )
        return Placement()
    after = after if after is not None else previous
    gap_value = raw.get("gap", NEXT_WORKING_DAY)
    if gap_value == NEXT_WORKING_DAY:
        return Placement(after=after)
    if not isinstance(gap_value, dict):
        out.add(
            msg(
                'write gap = "next_working_day" or a table '
                "{{ min = ..., preferred = ..., max = ... }}"
            ),
            element=label,
            field="gap",
        )
        return Placement(after=after)
    _unknown_fields(out, gap_value, _GAP_FIELDS, element=label, prefix="gap.")
    if "preferred" not in gap_value:
        out.add(
            msg("is missing; a gap needs a preferred length"), element=label, field="gap.preferred"
        )
        return Placement(after=after)
    preferred = _offset(out, gap_value["preferred"], label, "gap.preferred")
    # An omitted bound equals the preferred length (and is not reported twice).
    low = _offset(out, gap_value["min"], label, "gap.min") if "min" in gap_value else preferred
    high = _offset(out, gap_value["max"], label, "gap.max") if "max" in gap_value else preferred
    if low is None or preferred is None or high is None:
        return Placement(after=after)
    if low.nominal_days > high.nominal_days:
        out.add(
            msg("min {low} is longer than max {high}", low=low, high=high),
            element=label,
            field="gap.min",
        )
    elif not low.nominal_days <= preferred.nominal_days <= high.nominal_days:
        out.add(
            msg(
                "preferred {preferred} lies outside min {low} and max {high}",
                preferred=preferred,
                low=low,
                high=high,
            ),
            element=label,
            field="gap.preferred",
        )
    return Placement(after=after, gap=Gap(low, preferred, high))


def _longest_programme(out: _Collector, elements: list[Element]) -> None:
    """The programme from its first to its last day, every gap at its longest,
    lasts at most MAX_OFFSET_DAYS; the first element past that is named.
    (Called for valid elements only: every `after` names one, no cycles.)"""
    last_day: dict[str, int] = {}
    pending = list(elements)
    while pending:
        for element in [e for e in pending if e.placement.after in (None, *last_day)]:
            pending.remove(element)
            placement, length = element.placement, element.length
            first = 0
            if placement.after is not None:
                gap = placement.gap.max.nominal_days if placement.gap else 1
                first = last_day[placement.after] + gap
            days = length.length.nominal_days if isinstance(length, Span) else 1
            last_day[element.key] = first + days - 1
            if first + days > MAX_OFFSET_DAYS:
                if first >= MAX_OFFSET_DAYS:
                    field = "gap.max" if placement.gap else "after"
                else:
                    field = "span" if isinstance(length, Span) else "start"
                out.add(
                    msg(
                        "with every gap at its longest the programme would last {days} days "
                        "up to here; a programme lasts at most {most} days (ten years)",
                        days=first + days,
                        most=MAX_OFFSET_DAYS,
                    ),
                    element=element.key,
                    field=field,
                )
                return


def _check_references(out: _Collector, declared: Mapping[str, Placement]) -> None:
    keys = set(declared)
    after = {k: p.after for k, p in declared.items() if p.after is not None}
    for key, target in after.items():
        if target == key:
            out.add(msg("an element cannot follow itself"), element=key, field="after")
        elif target not in keys:
            out.add(
                msg("no element has the key '{key}'", key=_value(target)),
                element=key,
                field="after",
            )
    for cycle in _cycles(after):
        out.add(
            msg(
                "placements form a cycle: {cycle} "
                "(only the first element sits on the cohort start)",
                cycle=" -> ".join(cycle),
            ),
            element=cycle[0],
            field="after",
        )


def _cycles(after: Mapping[str, str]) -> Iterator[list[str]]:
    reported: set[str] = set()
    for start in after:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in path and node not in reported:
            path.append(node)
            node = after.get(node)
        if node is not None and node in path:
            cycle = path[path.index(node) :]
            reported.update(cycle)
            yield [*cycle, node]
        reported.update(path)


def _certificate(
    out: _Collector,
    raw: Any,
    keys: list[str],
    counting: set[str],
    titles: Mapping[str, Text] | None = None,
) -> CertificateRule:
    known = set(keys)
    if raw is None:
        # Without a rule every element that counts for the certificate is required.
        return CertificateRule(required=tuple(k for k in keys if k in counting))
    if not isinstance(raw, dict):
        out.add(msg("must be a table [certificate]"), field="certificate")
        return CertificateRule()
    _unknown_fields(out, raw, _CERTIFICATE_FIELDS, element=None, prefix="certificate.")
    required = _key_list(out, raw.get("required", []), known, counting, "certificate.required")
    rules: list[AtLeast] = []
    raw_rules = raw.get("at_least", [])
    if not isinstance(raw_rules, list):
        out.add(
            msg("must be a list of [[certificate.at_least]] tables"), field="certificate.at_least"
        )
        raw_rules = []
    for number, rule in enumerate(raw_rules, start=1):
        name = f"certificate.at_least[{number}]"
        if not isinstance(rule, dict):
            out.add(msg("must be a table with count and of"), field=name)
            continue
        _unknown_fields(out, rule, _AT_LEAST_FIELDS, element=None, prefix=f"{name}.")
        of = _key_list(out, rule.get("of"), known, counting, f"{name}.of")
        count = rule.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= len(of):
            out.add(
                msg("must be a whole number from 1 to {most}", most=len(of)), field=f"{name}.count"
            )
            continue
        overlap = set(of) & set(required)
        if overlap:
            out.add(
                # Named by title where the element has one: the message is read on pages.
                msg(
                    "{keys} required already; list each element once",
                    keys=[(titles or {}).get(k, k) for k in sorted(overlap)],
                ),
                field=f"{name}.of",
            )
        rules.append(AtLeast(count, tuple(of)))
    share = raw.get("min_hours_share")
    if share is not None and (
        isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1
    ):
        out.add(
            msg("must be a share above 0 and at most 1, e.g. 0.8 for 80 %"),
            field="certificate.min_hours_share",
        )
        share = None
    if not required and not rules and share is None:
        out.add(msg("names no element; a certificate must require something"), field="certificate")
    return CertificateRule(
        required=tuple(required),
        at_least=tuple(rules),
        min_hours_share=float(share) if share is not None else None,
    )


def _key_list(
    out: _Collector, raw: Any, known: set[str], counting: set[str], name: str
) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        out.add(msg("must be a list of element keys"), field=name)
        return []
    if len(set(raw)) != len(raw):
        out.add(msg("names an element twice"), field=name)
    keys: list[str] = []
    for key in raw:
        if key not in known:
            out.add(msg("no element has the key '{key}'", key=_value(key)), field=name)
        elif key not in counting:
            out.add(
                msg("'{key}' is not an element that counts for the certificate", key=key),
                field=name,
            )
        elif key not in keys:
            keys.append(key)
    return keys
