"""The rules of editing a curriculum element by element, as the workbench's
forms do: what a new element looks like, what removing one does to the
certificate rule, that the first element sits on the cohort start, and how
a form's texts become an element in the file format's terms.

Every edit is judged like a file with the same content would be: each
function returns the checked curriculum, or raises `CurriculumError` (the
loader's problems, every one of them) or `EditRefused` (a rule of editing).
Nothing here knows where the curriculum is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any, Literal

from curricula.loader import CurriculumError, Problem, from_mapping
from curricula.messages import Message, MessageError, msg
from curricula.model import AtLeast, Curriculum, Mode, Text
from curricula.writer import element_mapping, to_mapping

# A new element: half a day from 09:00 (or, where the last element is
# self-paced, a two-week phase) of four teaching units, two weeks (one to
# four) after the last one.
NEW_SESSION = {"start": "09:00", "duration": "4h"}
NEW_PHASE = {"span": "2w"}
NEW_UNITS = 4
NEW_GAP = {"min": "1w", "preferred": "2w", "max": "4w"}

Direction = Literal["up", "down"]


class EditRefused(MessageError):
    """An edit that breaks a rule of editing; `code` names the rule for
    programs, `element` and `field` say where it belongs, where they can."""

    def __init__(
        self,
        message: Message,
        *,
        code: str,
        element: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.element = element
        self.field = field


class UnknownElement(EditRefused):
    def __init__(self, key: str) -> None:
        super().__init__(
            msg("no element has the key '{key}'", key=key), code="unknown_element", element=key
        )


# Judging


def changed(
    curriculum: Curriculum,
    change: Callable[[dict[str, Any]], None],
    *,
    source: str = "<curriculum>",
) -> Curriculum:
    """`curriculum` with `change` applied to it in the file format's terms,
    judged as a file would be."""
    data = to_mapping(curriculum)
    change(data)
    return judged(data, source=source)


def judged(data: Mapping[str, Any], *, source: str = "<curriculum>") -> Curriculum:
    """The curriculum the mapping describes, after the rules of editing and
    the loader's rules."""
    elements = data.get("elements")
    if isinstance(elements, list) and elements and isinstance(elements[0], dict):
        first = elements[0]
        if first.get("after") is not None:
            # Everything else is placed relative to the first element; it
            # alone has nothing to follow but the cohort's start.
            raise EditRefused(
                msg("the first element must sit on the cohort start"),
                code="first_on_start",
                element=str(first.get("key")),
                field="after",
            )
    return from_mapping(data, source=source)


# Elements


def new_element(curriculum: Curriculum, key: str, title: Text) -> dict[str, Any]:
    """A new element at the end, in the file format's terms: the last
    element's kind and mode, placed a gap after it."""
    last = curriculum.elements[-1]
    length = NEW_PHASE if last.mode is Mode.SELF_PACED else NEW_SESSION
    return {
        "key": key,
        "kind": last.kind,
        "title": {"de": title.de, "en": title.en},
        "mode": last.mode.value,
        **length,
        "after": last.key,
        "gap": dict(NEW_GAP),
        # Four units fit into the half day unless a unit lasts longer than an hour.
        "teaching_units": min(NEW_UNITS, 4 * 60 // curriculum.unit_minutes),
    }


def add_element(
    curriculum: Curriculum, key: str, title: Text, *, source: str = "<curriculum>"
) -> Curriculum:
    element = new_element(curriculum, key.strip(), Text(title.de.strip(), title.en.strip()))
    return changed(curriculum, lambda data: data["elements"].append(element), source=source)


def remove_element(
    curriculum: Curriculum, key: str, *, source: str = "<curriculum>"
) -> Curriculum:
    """`curriculum` without the element `key`. Elements placed after it keep
    it (they must be placed elsewhere first); the certificate rule forgets it:
    it is no longer required, a group of "at least n of" without it shrinks,
    and a group left with nothing goes. A group that would then ask for more
    elements than it has left is refused: the rule needs a decision."""
    _known(curriculum, key)
    followers = [e.key for e in curriculum.elements if e.placement.after == key]
    if followers:
        raise EditRefused(
            msg(
                "{followers} placed after {element}; place them after another element first",
                followers=[curriculum.element(k).title for k in followers],
                element=curriculum.element(key).title,
            ),
            code="element_has_followers",
            element=key,
        )

    def change(data: dict[str, Any]) -> None:
        data["elements"] = [e for e in data["elements"] if e["key"] != key]
        rule = data["certificate"]
        rule["required"] = [k for k in rule["required"] if k != key]
        groups = []
        for group in rule.pop("at_least", []):
            of = [k for k in group["of"] if k != key]
            if not of:
                continue
            if group["count"] > len(of):
                raise EditRefused(
                    msg(
                        "the certificate asks for at least {count} of {elements}; change that "
                        "rule before removing {element}",
                        count=group["count"],
                        elements=[curriculum.element(k).title for k in group["of"]],
                        element=curriculum.element(key).title,
                    ),
                    code="needed_by_certificate",
                    element=key,
                )
            groups.append({**group, "of": of})
        if groups:
            rule["at_least"] = groups

    return changed(curriculum, change, source=source)


def move_element(
    curriculum: Curriculum, key: str, direction: Direction, *, source: str = "<curriculum>"
) -> Curriculum:
    """The element one place up or down in the list (at either end it stays);
    what it is placed after does not change, and the first element must
    still sit on the cohort start."""
    _known(curriculum, key)

    def change(data: dict[str, Any]) -> None:
        elements = data["elements"]
        index = next(i for i, e in enumerate(elements) if e["key"] == key)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(elements):
            elements[index], elements[other] = elements[other], elements[index]

    return changed(curriculum, change, source=source)


def change_element(
    curriculum: Curriculum,
    key: str,
    values: Mapping[str, Any],
    *,
    source: str = "<curriculum>",
) -> Curriculum:
    """The element `key` described by `values` (file format terms) instead;
    its key stays."""
    _known(curriculum, key)
    replacement = {**values, "key": key}

    def change(data: dict[str, Any]) -> None:
        data["elements"] = [replacement if e["key"] == key else e for e in data["elements"]]

    return changed(curriculum, change, source=source)


def element_data(curriculum: Curriculum, key: str) -> dict[str, Any]:
    """The element `key` in the file format's terms."""
    _known(curriculum, key)
    keys = [e.key for e in curriculum.elements]
    return element_mapping(curriculum.element(key), first=keys.index(key) == 0)


def placement_choices(curriculum: Curriculum, key: str) -> tuple[bool, tuple[str, ...]]:
    """What the element `key` can be placed after: whether the cohort's start
    (the first element only), and which other elements."""
    _known(curriculum, key)
    others = tuple(e.key for e in curriculum.elements if e.key != key)
    return curriculum.elements[0].key == key, others


def _known(curriculum: Curriculum, key: str) -> None:
    if key not in {e.key for e in curriculum.elements}:
        raise UnknownElement(key)


# An element as a form shows it: texts as people type them


@dataclass(frozen=True)
class ElementInput:
    """An element's values as texts, the way a form shows and sends them."""

    kind: str = ""
    title_de: str = ""
    title_en: str = ""
    mode: str = ""
    start: str = ""
    duration: str = ""
    span: str = ""
    after: str = ""  # empty: the cohort's start (first element) or the element before
    gap_min: str = ""
    gap_preferred: str = ""
    gap_max: str = ""
    teaching_units: str = ""  # in the curriculum's units, e.g. "8" or "7,5"
    counts_for_certificate: bool = True
    # One topic per line in each language, line by line the same topic.
    topics_de: str = ""
    topics_en: str = ""


def input_of(curriculum: Curriculum, key: str) -> ElementInput:
    data = element_data(curriculum, key)
    gap = data.get("gap", {})
    return ElementInput(
        kind=data["kind"],
        title_de=data["title"]["de"],
        title_en=data["title"]["en"],
        mode=data["mode"],
        start=data.get("start", ""),
        duration=data.get("duration", ""),
        span=data.get("span", ""),
        after=data.get("after") or "",
        gap_min=gap.get("min", ""),
        gap_preferred=gap.get("preferred", ""),
        gap_max=gap.get("max", ""),
        teaching_units=f"{curriculum.element_units(key):g}".replace(".", ","),
        counts_for_certificate=data.get("counts_for_certificate", True),
        topics_de="\n".join(t["de"] for t in data.get("topics", [])),
        topics_en="\n".join(t["en"] for t in data.get("topics", [])),
    )


def values_of(given: ElementInput, current: Mapping[str, Any]) -> dict[str, Any]:
    """What follows from the texts of a form, in the file format's terms
    (the loader judges them): a span makes the element all-day, so start and
    duration go; a gap belongs to an element placed after another; an
    element placed after none follows the element before it (or, the first,
    sits on the start); what the form does not show is kept from `current`."""
    values: dict[str, Any] = {
        "key": current["key"],
        "kind": given.kind,
        "title": {"de": given.title_de.strip(), "en": given.title_en.strip()},
        "mode": given.mode,
    }
    if given.span.strip():
        values["span"] = given.span.strip()
    else:
        for name, text in (("start", given.start), ("duration", given.duration)):
            if text.strip():
                values[name] = text.strip()
    if given.after:
        values["after"] = given.after
        gap = {
            bound: text.strip()
            for bound, text in (
                ("min", given.gap_min),
                ("preferred", given.gap_preferred),
                ("max", given.gap_max),
            )
            if text.strip()
        }
        if gap:
            values["gap"] = gap
    units = (given.teaching_units or "0").strip().replace(",", ".")
    try:
        values["teaching_units"] = float(units)
    except ValueError:
        values["teaching_units"] = units  # the loader names the problem
    if not given.counts_for_certificate:
        values["counts_for_certificate"] = False
    topics = _topics(given.topics_de, given.topics_en)
    if topics:
        values["topics"] = topics
    for name in ("description", "preparation"):
        if name in current:
            values[name] = current[name]
    return values


def change_element_as_given(
    curriculum: Curriculum, key: str, given: ElementInput, *, source: str = "<curriculum>"
) -> Curriculum:
    """The element `key` as a form's texts describe it. Topic lists that do
    not pair up line by line are refused at the English list, together with
    every problem the loader finds, so the form shows them all at once."""
    values = values_of(given, element_data(curriculum, key))
    unpaired = _unpaired_topics(given.topics_de, given.topics_en)
    problems = [Problem(source, key, "topic.en", unpaired)] if unpaired else []
    try:
        checked = change_element(curriculum, key, values, source=source)
    except CurriculumError as error:
        raise CurriculumError([*error.problems, *problems]) from None
    if problems:
        raise CurriculumError(problems)
    return checked


def _topics(german: str, english: str) -> list[dict[str, str]]:
    """Topics from two lists written line by line; a line left empty in one
    language takes the other's text, as a text given in one language only
    is shown in it to everyone."""
    pairs = zip_longest(_lines(german), _lines(english), fillvalue="")
    topics = []
    for de, en in ((de.strip(), en.strip()) for de, en in pairs):
        if de or en:
            topics.append({"de": de or en, "en": en or de})
    return topics


def _lines(text: str) -> list[str]:
    """A topic list's lines, split at every line break the pairing knows, so
    that the check and the pairing never count differently."""
    return text.splitlines()


def _unpaired_topics(german: str, english: str) -> Message | None:
    """Why the two topic lists cannot be paired line by line, or None.

    Topics print on certificates: an English list longer than the German
    one, or a shorter one that is not empty, means a line was added or
    deleted in one language only, and every topic after it would be paired
    with the wrong translation. An English list left empty is the German
    one in English; empty lines at the end of either list are no topics,
    though an English line ended by a line break counts (an empty line
    takes the German topic)."""
    topics = _lines(german)
    while topics and not topics[-1].strip():
        topics.pop()
    if not english.strip():
        return None
    lines = _lines(english)
    # "Role\n" is two lines, the second one empty, as a form's text area
    # sends it: splitting alone would drop the empty last line.
    if english.endswith(("\n", "\r")):
        lines.append("")
    while len(lines) > len(topics) and not lines[-1].strip():
        lines.pop()
    if len(lines) == len(topics):
        return None
    return msg(
        "the English list has {english} and the German list {german}. Write one English "
        "line for each German topic; an empty line takes the German topic",
        english=_line_count(len(lines)),
        german=_other_count(len(topics)),
    )


def _line_count(count: int) -> Message:
    if count == 1:
        return msg("one line")
    return msg("{count} lines", count=count)


def _other_count(count: int) -> Message | int:
    """The German list's count, after the English one's: its lines are
    understood ("and the German list 3")."""
    if count == 0:
        return msg("no lines")
    if count == 1:
        return msg("one line")
    return count


# The certificate rule


def certificate_choices(curriculum: Curriculum) -> tuple[str, ...]:
    """The elements a certificate rule can name: those that count for it."""
    return tuple(e.key for e in curriculum.elements if e.counts_for_certificate)


def change_certificate_rule(
    curriculum: Curriculum,
    *,
    required: Iterable[str],
    at_least: Iterable[AtLeast] = (),
    min_hours_share: float | None = None,
    source: str = "<curriculum>",
) -> Curriculum:
    rule: dict[str, Any] = {"required": list(required)}
    groups = [{"count": g.count, "of": list(g.of)} for g in at_least]
    if groups:
        rule["at_least"] = groups
    if min_hours_share is not None:
        rule["min_hours_share"] = min_hours_share

    def change(data: dict[str, Any]) -> None:
        data["certificate"] = rule

    return changed(curriculum, change, source=source)
