"""Structured hostile curriculum files for hypothesis: a valid curriculum
with fields replaced by values of every TOML type and size (numbers of
thousands of digits, nan, dates, deep arrays and tables, control
characters, distances of a million years) or by values a consultant might
well write, fields removed, elements repeated past the limit."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

from hypothesis import strategies as st


class Raw(str):
    """A TOML value written as it is, for what Python values cannot carry."""


def toml(value: Any) -> str:
    """A value in TOML's inline syntax."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**4000 else "0x" + format(value, "x")
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's; lone surrogates are not
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def element(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "seminar_day",
        "title": {"de": f"Tag {key}", "en": f"Day {key}"},
        "mode": "either",
        "start": "09:00",
        "duration": "8h",
        "teaching_hours": 7,
    } | fields


def base() -> dict[str, Any]:
    return {
        "key": "compact",
        "version": 1,
        "title": {"de": "Kompakt", "en": "Compact"},
        "elements": [
            element("seminar-1"),
            element("seminar-2"),
            element(
                "reflection",
                kind="reflection_day",
                duration="4h",
                teaching_hours=4,
                gap={"min": "4w", "preferred": "10w", "max": "6m"},
            ),
        ],
        "certificate": {"required": ["seminar-1", "seminar-2", "reflection"]},
    }


def file_text(data: dict[str, Any], *, inline_elements: bool) -> str:
    """The curriculum as a file: its other values first, then the elements
    as [[elements]] tables, or as one inline array."""
    lines = [f"{json.dumps(k)} = {toml(v)}" for k, v in data.items() if k != "elements"]
    if "elements" in data:
        elements = data["elements"]
        as_tables = isinstance(elements, list) and all(isinstance(e, dict) for e in elements)
        if inline_elements or not as_tables:
            lines.append(f"elements = {toml(elements)}")
        else:
            for item in elements:
                lines.append("[[elements]]")
                lines += [f"{json.dumps(k)} = {toml(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


digits = st.integers(min_value=1, max_value=6000).map(lambda n: Raw("9" * n))
deep = st.integers(min_value=5, max_value=5000).flatmap(
    lambda n: st.sampled_from(
        [Raw("[" * n + "]" * n), Raw("{a=" * min(n, 800) + "1" + "}" * min(n, 800))]
    )
)
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from("\r\n\t\0\x1b\u2028\x85"),
    max_size=300,
)
shaped = st.sampled_from(
    [
        "8h",
        "0h",
        "99999999999h",
        "9" * 30 + "h",
        "1h99999999min",
        "25:61",
        "24:00",
        "09:00",
        "3w",
        "0d",
        "999999999999m",
        "9" * 5000 + "d",
        "next_working_day",
        "in_person",
        "self_paced",
        "online",
        "seminar_day",
        "webinar",
        "nonsense",
        "",
        " ",
        "seminar-1",
        "reflection",
        "ghost",
    ]
)
scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    texts,
    shaped,
    digits,
    st.dates(),
    st.times(),
    st.datetimes(),
)
values = st.recursive(
    scalars | deep,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["de", "en", "min", "preferred", "max", "count", "of", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)

# Values a consultant might well write, so that some files are taken and
# go on to be shown and published.
words = st.text(
    alphabet=st.characters(categories=["L", "M", "N", "Zs", "P"]), min_size=1, max_size=80
).filter(str.strip)
offsets = st.sampled_from(["1d", "3d", "2w", "6w", "10w", "3m", "6m", "4w"])
PLAUSIBLE = {
    "version": st.integers(min_value=1, max_value=100_000),
    "title": st.fixed_dictionaries({"de": words, "en": words}),
    "de": words,
    "en": words,
    "description": st.fixed_dictionaries({"de": words.map(lambda w: f"{w}\n{w}")}),
    "teaching_hours": st.integers(0, 4) | st.floats(0, 4),
    "duration": st.sampled_from(["4h", "5h", "90min", "7h30min", "8h"]),
    "start": st.sampled_from(["08:00", "09:00", "13:30"]),
    "topics": st.lists(words | st.fixed_dictionaries({"de": words, "en": words}), max_size=5),
    "mode": st.sampled_from(["in_person", "online", "either"]),
    "min": offsets,
    "preferred": offsets,
    "max": offsets,
    "counts_for_certificate": st.booleans(),
    "min_hours_share": st.floats(0.1, 1),
}

TOP = ["key", "version", "title", "description", "kinds", "elements", "certificate", "extra"]
ELEMENT = [
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
    "extra",
]
CERTIFICATE = ["required", "at_least", "min_hours_share"]


@st.composite
def curriculum_files(draw) -> bytes:
    data = base()
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        where = draw(st.sampled_from(["top", "element", "element", "gap", "certificate", "title"]))
        remove = draw(st.booleans()) and draw(st.booleans())
        if where == "top":
            name = draw(st.sampled_from(TOP))
            target: dict[str, Any] = data
        elif where == "element":
            elements = data.get("elements")
            intact = isinstance(elements, list) and len(elements) == 3
            target = elements[draw(st.integers(0, 2))] if intact else data
            target = target if isinstance(target, dict) else data
            name = draw(st.sampled_from(ELEMENT))
        elif where == "gap":
            target = {"min": "4w", "preferred": "10w", "max": "6m"}
            elements = data.get("elements")
            if isinstance(elements, list) and len(elements) == 3 and isinstance(elements[2], dict):
                elements[2]["gap"] = target
            name = draw(st.sampled_from(["min", "preferred", "max"]))
        elif where == "certificate":
            target = data["certificate"] if isinstance(data.get("certificate"), dict) else data
            name = draw(st.sampled_from(CERTIFICATE))
        else:
            target = data["title"] if isinstance(data.get("title"), dict) else data
            name = draw(st.sampled_from(["de", "en"]))
        if remove:
            target.pop(name, None)
        elif name in PLAUSIBLE and draw(st.booleans()):
            target[name] = draw(PLAUSIBLE[name])
        else:
            target[name] = draw(values)
    copies = draw(st.sampled_from([0, 0, 0, 50, 98, 120]))
    if copies and isinstance(data.get("elements"), list):
        data["elements"] = data["elements"] + [element(f"more-{n}") for n in range(copies)]
    text = file_text(data, inline_elements=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")
