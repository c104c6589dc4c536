"""TOML -> Curriculum, with every problem named by file, element and field.

The loader collects all problems of a file before failing, so a consultant
fixes a file in one pass instead of one error at a time.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from curricula.messages import Message, msg
from curricula.model import (
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
)

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DURATION_PATTERN = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*$")
NEXT_WORKING_DAY = "next_working_day"

_TOP_FIELDS = {"key", "version", "title", "description", "kinds", "elements", "certificate"}
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

    def add(
        self, message: Message, *, element: str | None = None, field: str | None = None
    ) -> None:
        self.problems.append(Problem(self.source, element, field, message))


def load_file(path: str | Path) -> Curriculum:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CurriculumError([Problem(str(path), None, None, msg("file not found"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problem = Problem(str(path), None, None, msg("cannot read: {reason}", reason=reason))
        raise CurriculumError([problem]) from None
    return load_text(raw, source=path.name)


def load_text(text: str, *, source: str = "<curriculum>") -> Curriculum:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem(source, None, None, msg("invalid TOML: {reason}", reason=str(exc)))
        raise CurriculumError([problem]) from None
    return from_mapping(data, source=source)


def from_mapping(data: Mapping[str, Any], *, source: str = "<curriculum>") -> Curriculum:
    """Validate a parsed definition and build the curriculum, or raise CurriculumError."""
    out = _Collector(source)
    _unknown_fields(out, data, _TOP_FIELDS, element=None, prefix="")

    key = _slug(out, data, "key", element=None)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        out.add(msg("must be a whole number of at least 1"), field="version")
        version = 1
    title = _text(out, data, "title", element=None, required=True)
    description = _text(out, data, "description", element=None, required=False)
    custom_kinds = _custom_kinds(out, data.get("kinds", {}))
    known_kinds = set(STANDARD_KINDS) | {k for k, _ in custom_kinds}

    raw_elements = data.get("elements")
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
        element_key, placement, element = _element(out, raw, index, previous, known_kinds)
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
    certificate = _certificate(out, data.get("certificate"), list(declared), counting)

    if out.problems:
        raise CurriculumError(out.problems)
    assert title is not None  # noqa: S101 -- guaranteed: a missing title is a problem above
    return Curriculum(
        key=key,
        version=version,
        title=title,
        description=description,
        elements=tuple(elements),
        certificate=certificate,
        custom_kinds=custom_kinds,
    )


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
        return str(value) if value is not None else ""
    return value


def _text(
    out: _Collector, raw: Mapping[str, Any], name: str, *, element: str | None, required: bool
) -> Text | None:
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
    return Text(de_text.strip(), en_text.strip())


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
        title = _text(out, body, "title", element=None, required=True)
        if title is not None:
            kinds.append((name, title))
    return tuple(kinds)


def _element(
    out: _Collector,
    raw: Mapping[str, Any],
    index: int,
    previous: str | None,
    known_kinds: set[str],
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
                kind=kind,
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
                mode=mode_value,
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
            topics.append(Text(topic.strip(), topic.strip()))
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

    hours = raw.get("teaching_hours", 0)
    if not isinstance(hours, int | float) or isinstance(hours, bool) or hours < 0:
        out.add(msg("must be a number of hours, 0 or more"), element=label, field="teaching_hours")
        hours = 0
    elif isinstance(length, TimedBlock) and hours > length.hours:
        out.add(
            msg(
                "{hours} teaching hours do not fit into a block of {block} hours",
                hours=f"{hours:g}",
                block=f"{length.hours:g}",
            ),
            element=label,
            field="teaching_hours",
        )

    counts = raw.get("counts_for_certificate", True)
    if not isinstance(counts, bool):
        out.add(msg("must be true or false"), element=label, field="counts_for_certificate")
        counts = True

    description = _text(out, raw, "description", element=label, required=False)
    preparation = _text(out, raw, "preparation", element=label, required=False)

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
            teaching_hours=float(hours),
            counts_for_certificate=counts,
            description=description,
            preparation=preparation,
        ),
    )


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
                duration=raw.get("duration"),
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
            msg("'{value}' is not a time of day; write HH:MM, e.g. '09:00'", value=value),
            element=label,
            field="start",
        )
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _duration(out: _Collector, value: Any, label: str) -> timedelta | None:
    match = _DURATION_PATTERN.match(value) if isinstance(value, str) else None
    if not match or not (match.group(1) or match.group(2)):
        out.add(
            msg(
                "'{value}' is not a duration; write e.g. '8h', '2h', '90min' or '7h30min'",
                value=value,
            ),
            element=label,
            field="duration",
        )
        return None
    duration = timedelta(hours=int(match.group(1) or 0), minutes=int(match.group(2) or 0))
    if duration <= timedelta(0):
        out.add(msg("must be longer than zero"), element=label, field="duration")
        return None
    return duration


def _offset(out: _Collector, value: Any, label: str, name: str) -> Offset | None:
    if isinstance(value, str):
        try:
            return Offset.parse(value)
        except ValueError:
            pass
    out.add(
        msg(
            "'{value}' is not a distance; write a whole number and d, w or m "
            "(days, weeks, months), e.g. '3w'",
            value=value,
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


def _check_references(out: _Collector, declared: Mapping[str, Placement]) -> None:
    keys = set(declared)
    after = {k: p.after for k, p in declared.items() if p.after is not None}
    for key, target in after.items():
        if target == key:
            out.add(msg("an element cannot follow itself"), element=key, field="after")
        elif target not in keys:
            out.add(msg("no element has the key '{key}'", key=target), element=key, field="after")
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
    out: _Collector, raw: Any, keys: list[str], counting: set[str]
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
                msg("{keys} required already; list each element once", keys=sorted(overlap)),
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
            out.add(msg("no element has the key '{key}'", key=key), field=name)
        elif key not in counting:
            out.add(
                msg("'{key}' is not an element that counts for the certificate", key=key),
                field=name,
            )
        elif key not in keys:
            keys.append(key)
    return keys
