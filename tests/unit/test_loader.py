import re
from datetime import time, timedelta
from pathlib import Path

import pytest

from curricula.durations import file_duration, file_minutes
from curricula.loader import (
    MAX_ELEMENTS,
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    MAX_TITLE,
    CurriculumError,
    load_file,
    load_text,
)
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


@pytest.mark.parametrize(
    ("written", "minutes"),
    [("8h", 480), ("90min", 90), ("7h30min", 450), ("1h60min", 120), ("45min", 45)],
)
def test_a_duration_is_read_and_written_one_way(written, minutes):
    """The loader, the writer and the workbench's form share these."""
    assert file_minutes(written) == minutes
    loaded = load_text(MINIMAL + element("a", duration=f'"{written}"'), source="test.toml")
    assert loaded.elements[0].length == TimedBlock(time(9), timedelta(minutes=minutes))
    assert file_minutes(file_duration(minutes)) == minutes


def test_a_duration_is_written_whole_hours_first():
    assert file_duration(120) == "2h"  # 60 minutes are an hour, never 1h60min
    assert file_duration(135) == "2h15min"
    assert file_duration(45) == "45min"
    assert file_minutes("8 hours") is None
    assert file_minutes("") is None


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


# Files anyone can upload: limits, and values that cannot be read.


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed():
    # Not even TOML: the size alone decides.
    found = problems("x" * (MAX_FILE_BYTES + 1))
    assert found == ["test.toml: the file has 257 KB; a curriculum file has at most 256 KB"]


def test_a_file_over_the_size_limit_is_not_read_in_full(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (10 * MAX_FILE_BYTES))
    with pytest.raises(CurriculumError) as caught:
        load_file(big)
    assert str(caught.value).endswith("a curriculum file has at most 256 KB")


def test_more_elements_than_the_limit_are_refused_before_parsing():
    text = MINIMAL + "".join(element(f"e{n}") for n in range(MAX_ELEMENTS + 1))
    assert problems(text) == [
        "test.toml, field 'elements': 101 elements; a curriculum has at most 100"
    ]
    # At the limit the file is a curriculum.
    at_limit = MINIMAL + "".join(element(f"e{n}") for n in range(MAX_ELEMENTS))
    assert len(load_text(at_limit).elements) == MAX_ELEMENTS


def test_twenty_thousand_elements_in_a_small_file_are_refused_as_one_problem():
    text = MINIMAL + "elements = [" + ", ".join(["{}"] * 20_000) + "]\n"
    assert len(text.encode()) < MAX_FILE_BYTES
    assert problems(text) == [
        "test.toml, field 'elements': 20000 elements; a curriculum has at most 100"
    ]


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Deep enough for the TOML parser to run out of stack ...
        (MINIMAL + element("a", topics=DEEP), "element 'a', field 'topics': values are nested"),
        (MINIMAL + "x = " + "{a=" * 5000 + "1" + "}" * 5000 + element("a"), "field 'x': values"),
        # ... and merely deeper than the format ever is.
        (MINIMAL + element("a", topics="[" * 20 + "]" * 20), "field 'topics': values are nested"),
        (
            MINIMAL + element("a") + "\n[certificate]\nrequired = " + "[" * 30 + "]" * 30,
            "field 'certificate.required': values are nested more than 10 levels deep",
        ),
    ],
)
def test_deep_nesting_is_a_problem_at_its_field(text, expected):
    (found,) = problems(text)
    assert expected in found


HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + element("a", teaching_hours=HUGE),
            "test.toml, element 'a', field 'teaching_hours': "
            "a number with more than 4300 digits cannot be read",
        ),
        (
            MINIMAL.replace("version = 1", f"version = {HUGE}") + element("a"),
            "test.toml, field 'version': a number with more than 4300 digits cannot be read",
        ),
        (
            MINIMAL + element("a") + f"\n[certificate]\nat_least = [{{ count = {HUGE} }}]\n",
            "test.toml, field 'certificate.at_least': a number with more than 4300 digits",
        ),
    ],
)
def test_a_number_of_thousands_of_digits_is_a_problem_at_its_field(text, expected):
    (found,) = problems(text)
    assert found.startswith(expected)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"duration": f'"{HUGE}h"'}, "field 'duration': starting at 09:00, 99999"),
        ({"duration": '"99999999999h"'}, "field 'duration': starting at 09:00, 99999999999h runs"),
        ({"duration": '"1h99999999999min"'}, "field 'duration': starting at 09:00, 1h9999"),
        ({"teaching_hours": "nan"}, "field 'teaching_hours': must be a number of hours, 0 or"),
        ({"teaching_hours": "-inf"}, "field 'teaching_hours': must be a number of hours, 0 or"),
        ({"teaching_hours": "1e999"}, "field 'teaching_hours': must be a number of hours, 0 or"),
        ({"teaching_hours": "0x" + "f" * 300}, "field 'teaching_hours': must be a number"),
        ({"teaching_hours": "1e308"}, "field 'teaching_hours': 1e+308 teaching hours do not fit"),
        (
            {"start": "", "duration": "", "span": '"2d"', "teaching_hours": "49"},
            "field 'teaching_hours': 49 teaching hours do not fit into 2 days",
        ),
        (
            {"start": "", "duration": "", "span": '"99999999999d"'},
            "field 'span': '99999999999d' is longer than ten years; a distance is at most 3650",
        ),
        ({"start": "", "duration": "", "span": f'"{HUGE}w"'}, "field 'span': '999999999"),
        ({"teaching_hours": '"8"'}, "field 'teaching_hours': must be a number of hours"),
        ({"teaching_hours": "[8]"}, "field 'teaching_hours': must be a number of hours"),
        ({"start": "09:00:00"}, "field 'start': '09:00:00' is not a time of day"),
        ({"start": "1979-05-27"}, "field 'start': '1979-05-27' is not a time of day"),
        ({"kind": "{ a = 1 }"}, "field 'kind': unknown kind '{…}'"),
        ({"kind": "0x" + "f" * 5000}, "field 'kind': unknown kind '1e+308…'"),
        ({"kind": '"' + "x" * 5000 + '"'}, "field 'kind': unknown kind 'xxxxxxxx"),
        ({"mode": "[1, 2]"}, "field 'mode': unknown mode '[…]'"),
        ({"title": "[1, 2]"}, "field 'title': must be a table with de and en"),
        ({"topics": "{ de = 1 }"}, "field 'topics': must be a list of texts"),
        ({"counts_for_certificate": "1"}, "field 'counts_for_certificate': must be true or false"),
    ],
)
def test_values_that_cannot_be_read_are_problems_at_their_field(fields, expected):
    (found,) = problems(MINIMAL + element("a", **fields))
    assert found.startswith("test.toml, element 'a', ")
    assert expected in found
    assert len(found) < 400  # a value is quoted short, never in full


def test_distances_are_at_most_ten_years():
    gap = '{ min = "1w", preferred = "6m", max = "' + "9" * 12 + 'm" }'
    assert problems(MINIMAL + element("a") + element("b", gap=gap)) == [
        "test.toml, element 'b', field 'gap.max': '999999999999m' is longer than ten years; "
        "a distance is at most 3650 days"
    ]
    longest = '{ min = "10w", preferred = "118m", max = "3648d" }'
    curriculum = load_text(MINIMAL + element("a") + element("b", gap=longest))
    assert curriculum.element("b").placement.gap.max == Offset(3648, Unit.DAYS)


def test_the_whole_programme_lasts_at_most_ten_years_with_every_gap_at_its_longest():
    gap = '{ min = "1m", preferred = "2m", max = "119m" }'  # 3570 days
    later = element("c", gap='{ preferred = "2m", max = "80d" }', after='"b"')
    assert problems(MINIMAL + element("a") + element("b", gap=gap) + later) == [
        "test.toml, element 'c', field 'gap.max': with every gap at its longest the "
        "programme would last 3651 days up to here; a programme lasts at most 3650 days "
        "(ten years)"
    ]
    phase = element("c", span='"3m"', start="", duration="", mode='"self_paced"')
    (found,) = problems(MINIMAL + element("a") + element("b", gap=gap) + phase)
    assert "element 'c', field 'span': with every gap at its longest" in found
    assert load_text(MINIMAL + element("a") + element("b", gap=gap) + element("c"))


def test_a_version_number_beyond_any_real_one_is_refused():
    text = MINIMAL.replace("version = 1", "version = 0x7fffffffffffffff") + element("a")
    assert problems(text) == ["test.toml, field 'version': must be a whole number up to 100000"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (MINIMAL.replace('title.de = "Mini"', 'title.de = "Mini\\r\\nBcc: x"'), "title.de"),
        (MINIMAL.replace('title.en = "Mini"', 'title.en = "Mi\\u0000ni"'), "title.en"),
        (MINIMAL.replace('title.en = "Mini"', 'title.en = "Mi\\u2028ni"'), "title.en"),
    ],
)
def test_titles_are_one_line_without_control_characters(text, field):
    assert problems(text + element("a")) == [
        f"test.toml, field '{field}': takes one line of text, "
        "without line breaks or other control characters"
    ]


def test_element_titles_topics_and_kind_titles_are_one_line():
    kinds = '\n[kinds.coaching]\ntitle = { de = "Coa\\nching", en = "Coaching" }\n'
    text = (
        MINIMAL
        + kinds
        + element("a", title='{ de = "Tag\\t1", en = "Day 1" }')
        + element("b", topics='["Rolle\\u0007", { de = "Lerntheorie", en = "Lern\\rtheorie" }]')
    )
    found = problems(text)
    assert [p.split(": takes one line")[0] for p in found] == [
        "test.toml, field 'kinds.coaching.title.de'",
        "test.toml, element 'a', field 'title.de'",
        "test.toml, element 'b', field 'topics[1]'",
        "test.toml, element 'b', field 'topic.en'",
    ]


def test_descriptions_keep_their_lines_but_no_other_control_characters():
    lines = 'description.de = """Erste Zeile\n\tzweite Zeile"""\n'
    curriculum = load_text(MINIMAL + lines + element("a"))
    assert curriculum.description.de == "Erste Zeile\n\tzweite Zeile"
    bell = 'description.de = "Klingel\\u0007"\n'
    assert problems(MINIMAL + bell + element("a")) == [
        "test.toml, field 'description.de': holds a control character that cannot be printed"
    ]


def test_texts_are_stored_in_nfc():
    decomposed = "Nguye\u0302\u0303n"
    text = MINIMAL.replace('title.de = "Mini"', f'title.de = "{decomposed}"') + element("a")
    assert load_text(text).title.de == "Nguy\u1ec5n"


def test_names_from_the_file_are_quoted_short_and_printable():
    long_key = "x" * 10_000
    text = MINIMAL + element("a", **{f'"{long_key}\\n"': "1"})
    (found,) = problems(text)
    assert found.startswith("test.toml, element 'a', field 'xxxx")
    assert "\\n" not in found.split(": unknown field")[0][:60]
    assert len(found) < 400


def test_a_file_with_thousands_of_problems_lists_the_first_ones():
    unknown = "".join(f"x{n} = 1\n" for n in range(5_000))
    found = problems(MINIMAL + element("a", extra=unknown))
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1] == f"test.toml: {5_000 - MAX_PROBLEMS} more problems are not listed"


def test_titles_and_topics_fit_a_certificate_and_descriptions_a_page():
    long_title = MINIMAL.replace('title.de = "Mini"', f'title.de = "{"T" * (MAX_TITLE + 1)}"')
    long_topic = element("a", topics=f'["{"T" * (MAX_TITLE + 1)}"]')
    long_text = f'\ndescription.en = "{"D" * 5001}"\n'
    found = problems(long_title + long_text + long_topic)
    assert found == [
        "test.toml, field 'title.de': is longer than 200 characters",
        "test.toml, field 'description.en': is longer than 5000 characters",
        "test.toml, element 'a', field 'topics[1]': is longer than 200 characters",
    ]
    at_limit = MINIMAL.replace('title.de = "Mini"', f'title.de = "{"T" * MAX_TITLE}"')
    assert load_text(at_limit + element("a")).title.de == "T" * MAX_TITLE
