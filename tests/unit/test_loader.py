import re
from pathlib import Path

import pytest

from curricula.loader import CurriculumError, load_file, load_text
from curricula.model import Mode, Offset, Span, TimedBlock, Unit
from curricula.shipped import shipped

README = Path(__file__).parents[2] / "curricula" / "README.md"

MINIMAL = """
key = "mini"
version = 1
title.de = "Mini"
title.en = "Mini"
"""


def element(key: str, extra: str = "", **fields: str) -> str:
    body = {
        "kind": '"seminar_day"',
        "title": '{ de = "T", en = "T" }',
        "mode": '"in_person"',
        "start": '"09:00"',
        "duration": '"8h"',
    }
    body.update(fields)
    lines = [f'key = "{key}"'] + [f"{name} = {value}" for name, value in body.items() if value]
    return "\n[[elements]]\n" + "\n".join(lines) + "\n" + extra


def problems(text: str) -> list[str]:
    with pytest.raises(CurriculumError) as caught:
        load_text(text, source="test.toml")
    return [str(p) for p in caught.value.problems]


def test_shipped_compact_follows_the_guide():
    compact = shipped()["compact"]
    assert [e.kind for e in compact.elements] == ["seminar_day", "seminar_day", "reflection_day"]
    day_1, day_2, reflection = compact.elements
    assert day_1.mode is Mode.EITHER
    assert day_2.mode is Mode.EITHER
    assert day_2.placement.after == "seminar-1"
    assert day_2.placement.gap is None
    assert reflection.placement.gap is not None
    assert reflection.placement.gap.min.nominal_days >= 14  # "some weeks or months later"
    assert isinstance(reflection.length, TimedBlock)
    assert reflection.length.hours == 4
    assert compact.certificate.required == ("seminar-1", "seminar-2", "reflection")


def test_shipped_blended_follows_the_guide():
    blended = shipped()["blended"]
    kinds = [e.kind for e in blended.elements]
    assert kinds == [
        "kickoff",
        "self_study",
        "webinar",
        "self_study",
        "practice_day",
        "checkpoint",
        "checkpoint",
    ]
    kickoff, video_1, webinar, video_2, practice, checkpoint_1, checkpoint_2 = blended.elements
    assert kickoff.mode is Mode.IN_PERSON
    assert practice.mode is Mode.IN_PERSON
    assert webinar.mode is Mode.ONLINE
    assert checkpoint_1.mode is Mode.ONLINE
    # Two video phases over four weeks, joined by the webinar.
    assert video_1.length == Span(Offset(2, Unit.WEEKS)) == video_2.length
    assert webinar.placement.after == "video-1"
    assert video_2.placement.after == "webinar"
    # Checkpoints three months apart.
    assert checkpoint_2.placement.after == "checkpoint-1"
    assert checkpoint_2.placement.gap is not None
    assert checkpoint_2.placement.gap.preferred == Offset(3, Unit.MONTHS)
    assert blended.certificate.at_least[0].of == ("checkpoint-1", "checkpoint-2")


def test_the_documented_example_is_valid():
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "curricula/README.md must contain a complete example"
    curriculum = load_text(blocks[0], source="README example")
    assert curriculum.key == "compact-online"
    assert dict(curriculum.custom_kinds)["peer_coaching"].en == "Peer coaching"
    assert curriculum.element("practice").counts_for_certificate is False
    assert curriculum.element("day-1").topics[0].en == "Rollenverständnis"


def test_bad_toml_names_the_line():
    found = problems('key = "x"\nversion = \n')
    assert len(found) == 1
    assert found[0].startswith("test.toml: invalid TOML:")
    assert "line 2" in found[0]


def test_unknown_after_target_is_named():
    text = MINIMAL + element("a") + element("b", after='"nowhere"')
    assert problems(text) == [
        "test.toml, element 'b', field 'after': no element has the key 'nowhere'"
    ]


def test_cycles_are_reported_with_their_path():
    text = MINIMAL + element("a") + element("b", after='"c"') + element("c", after='"b"')
    found = problems(text)
    assert len(found) == 1
    assert "placements form a cycle: b -> c -> b" in found[0]
    assert "element 'b', field 'after'" in found[0]


def test_first_element_placed_after_a_later_one_is_a_cycle():
    text = MINIMAL + element("a", after='"b"') + element("b")
    assert any("cycle: a -> b -> a" in p for p in problems(text))


def test_min_longer_than_max():
    text = (
        MINIMAL + element("a") + element("b", gap='{ min = "2m", preferred = "6w", max = "4w" }')
    )
    assert problems(text) == [
        "test.toml, element 'b', field 'gap.min': min 2m is longer than max 4w"
    ]


def test_preferred_outside_bounds():
    text = (
        MINIMAL + element("a") + element("b", gap='{ min = "1w", preferred = "8w", max = "4w" }')
    )
    assert problems(text) == [
        "test.toml, element 'b', field 'gap.preferred': "
        "preferred 8w lies outside min 1w and max 4w"
    ]


def test_span_with_a_time_of_day():
    text = MINIMAL + element("a", span='"2w"')
    assert problems(text) == [
        "test.toml, element 'a', field 'span': a span lasts whole days and has no time of day; "
        "remove start/duration or the span"
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"kind": '"party"'},
            "field 'kind': unknown kind 'party'; use one of checkpoint, kickoff, practice_day, "
            "reflection_day, self_study, seminar_day, webinar or declare it under [kinds.NAME]",
        ),
        (
            {"mode": '"hybrid"'},
            "field 'mode': unknown mode 'hybrid'; "
            "use one of in_person, online, self_paced, either",
        ),
        ({"start": '"9 Uhr"'}, "field 'start': '9 Uhr' is not a time of day"),
        ({"duration": '"8 hours"'}, "field 'duration': '8 hours' is not a duration"),
        ({"start": '"20:00"', "duration": '"5h"'}, "starting at 20:00, 5h runs past midnight"),
        ({"teaching_hours": "9"}, "9 teaching hours do not fit into a block of 8 hours"),
        ({"teaching_hours": "-1"}, "field 'teaching_hours': must be a number of hours, 0 or more"),
        ({"counts_for_certificate": '"yes"'}, "must be true or false"),
        ({"mode": '"self_paced"'}, "self-paced learning has no time of day"),
        ({"start": "", "duration": ""}, "give start and duration (a timed block) or span"),
        ({"title": '{ de = "Nur deutsch" }'}, "field 'title.en': is missing"),
        ({"prefered": '"x"'}, "field 'prefered': unknown field (known fields: after,"),
        ({"topics": '[""]'}, "field 'topics[1]': must be a text or a table with de and en"),
    ],
)
def test_element_field_errors_name_element_and_field(fields, expected):
    found = problems(MINIMAL + element("a", **fields))
    assert len(found) == 1, found
    assert found[0].startswith("test.toml, element 'a'")
    assert expected in found[0]


def test_bad_distance_in_a_gap():
    text = MINIMAL + element("a") + element("b", gap='{ preferred = "3 fortnights" }')
    assert problems(text) == [
        "test.toml, element 'b', field 'gap.preferred': '3 fortnights' is not a distance; write a "
        "whole number and d, w or m (days, weeks, months), e.g. '3w'",
    ]


def test_duplicate_keys():
    found = problems(MINIMAL + element("a") + element("a"))
    assert found == [
        "test.toml, element 'a', field 'key': the key is used by another element; "
        "keys must be unique"
    ]


def test_all_problems_of_a_file_are_reported_at_once():
    text = (
        MINIMAL.replace('title.en = "Mini"', "")
        + element("a", kind='"party"')
        + element("b", mode='"hybrid"', after='"x"')
    )
    found = problems(text)
    assert "test.toml, field 'title.en': is missing" in found
    assert any("element 'a', field 'kind'" in p for p in found)
    assert any("element 'b', field 'mode'" in p for p in found)
    # A broken element's placement is still checked.
    assert "test.toml, element 'b', field 'after': no element has the key 'x'" in found
    assert len(found) == 4


def test_a_broken_element_does_not_break_references_to_it():
    rule = '\n[certificate]\nrequired = ["a", "b"]\n'
    text = MINIMAL + element("a", kind='"party"') + element("b", after='"a"') + rule
    found = problems(text)
    assert len(found) == 1
    assert "element 'a', field 'kind'" in found[0]


def test_custom_kinds_must_be_declared_and_then_work():
    kinds = '\n[kinds.coaching]\ntitle = { de = "Coaching", en = "Coaching" }\n'
    curriculum = load_text(MINIMAL + kinds + element("a", kind='"coaching"'))
    assert curriculum.elements[0].kind == "coaching"
    assert curriculum.kind_title("coaching").de == "Coaching"


def test_certificate_rule_checks_its_keys():
    rule = '\n[certificate]\nrequired = ["a", "ghost"]\n'
    found = problems(MINIMAL + element("a") + rule)
    assert found == ["test.toml, field 'certificate.required': no element has the key 'ghost'"]


def test_certificate_rule_needs_counting_elements_and_sane_counts():
    rule = '\n[certificate]\nrequired = ["a"]\n[[certificate.at_least]]\ncount = 3\nof = ["b"]\n'
    text = MINIMAL + element("a") + element("b", counts_for_certificate="false") + rule
    found = problems(text)
    assert (
        "test.toml, field 'certificate.at_least[1].of': 'b' is not an element that counts "
        "for the certificate" in found
    )
    assert (
        "test.toml, field 'certificate.at_least[1].count': must be a whole number from 1 to 0"
        in found
    )


@pytest.mark.parametrize("share", ["0", "1.5", '"80 %"', "true"])
def test_a_minimum_share_of_teaching_hours_lies_above_0_and_at_most_1(share):
    rule = f'\n[certificate]\nrequired = ["a"]\nmin_hours_share = {share}\n'
    assert problems(MINIMAL + element("a", teaching_hours="8") + rule) == [
        "test.toml, field 'certificate.min_hours_share': must be a share above 0 and at most 1, "
        "e.g. 0.8 for 80 %"
    ]


def test_a_minimum_share_alone_is_a_rule():
    rule = "\n[certificate]\nmin_hours_share = 0.75\n"
    curriculum = load_text(MINIMAL + element("a", teaching_hours="8") + rule)
    assert curriculum.certificate.min_hours_share == 0.75
    assert curriculum.certificate.required == ()


def test_without_a_rule_every_counting_element_is_required():
    curriculum = load_text(MINIMAL + element("a") + element("b", counts_for_certificate="false"))
    assert curriculum.certificate.required == ("a",)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(CurriculumError) as caught:
        load_file(tmp_path / "missing.toml")
    assert str(caught.value).endswith("missing.toml: file not found")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CurriculumError) as caught:
        load_file(binary)
    assert "binary.toml: cannot read:" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3w", Offset(3, Unit.WEEKS)),
        ("10d", Offset(10, Unit.DAYS)),
        ("6m", Offset(6, Unit.MONTHS)),
        ("2 weeks", Offset(2, Unit.WEEKS)),
        ("1 Month", Offset(1, Unit.MONTHS)),
    ],
)
def test_offsets_parse(text, expected):
    assert Offset.parse(text) == expected


@pytest.mark.parametrize("text", ["", "w", "3", "3y", "-1w", "1.5w"])
def test_offsets_reject_nonsense(text):
    with pytest.raises(ValueError, match="is not a distance"):
        Offset.parse(text)


def test_month_offsets_are_calendar_months():
    from datetime import date

    assert Offset(1, Unit.MONTHS).after(date(2027, 1, 31)) == date(2027, 2, 28)
    assert Offset(3, Unit.MONTHS).after(date(2027, 2, 16)) == date(2027, 5, 16)
    assert Offset(2, Unit.WEEKS).after(date(2027, 1, 11)) == date(2027, 1, 25)
    assert str(Offset(3, Unit.MONTHS)) == "3m"
