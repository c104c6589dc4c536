"""Teaching units (Unterrichtseinheiten): 45 minutes unless a curriculum
says otherwise; elements give their teaching time in units or clock hours."""

from __future__ import annotations

import pytest

from curricula.loader import load_text
from curricula.model import units_of
from curricula.shipped import shipped
from curricula.writer import to_mapping, to_toml
from tests.unit.test_loader import MINIMAL, element, problems


def test_a_unit_lasts_45_minutes_unless_the_curriculum_says_otherwise():
    curriculum = load_text(MINIMAL + element("a", teaching_hours="6"))
    assert curriculum.unit_minutes == 45
    assert curriculum.teaching_hours == 6
    assert curriculum.teaching_units == 8
    hourly = load_text("unit_minutes = 60\n" + MINIMAL + element("a", teaching_hours="6"))
    assert hourly.teaching_units == 6


def test_teaching_units_are_clock_hours_of_the_curriculums_unit():
    text = "unit_minutes = 50\n" + MINIMAL + element("a", teaching_units="6")
    curriculum = load_text(text)
    (day,) = curriculum.elements
    assert day.teaching_hours == pytest.approx(5)
    assert curriculum.element_units("a") == 6
    assert day.teaching_units(50) == 6
    assert curriculum.teaching_units == 6


def test_a_partly_credited_time_is_shown_in_units_to_two_decimals():
    assert units_of(5.5) == 7.33
    assert units_of(0.75) == 1


def test_the_shipped_standards_hold_whole_units_eight_for_a_seminar_day():
    compact, blended = shipped()["compact"], shipped()["blended"]
    assert [compact.element_units(e) for e in compact.elements] == [8, 8, 4]
    assert compact.teaching_units == 20
    for curriculum in (compact, blended):
        assert curriculum.unit_minutes == 45
        for item in curriculum.elements:
            assert curriculum.element_units(item).is_integer(), item.key
    practice = blended.element("practice-day")
    assert practice.length.hours == 8
    assert blended.element_units(practice) == 8


def test_a_curriculum_with_its_own_unit_length_is_written_back_as_it_was():
    text = "unit_minutes = 50\n" + MINIMAL + element("a", teaching_units="7")
    curriculum = load_text(text)
    assert to_mapping(curriculum)["unit_minutes"] == 50
    assert load_text(to_toml(curriculum)) == curriculum
    assert "unit_minutes" not in to_mapping(shipped()["compact"])


@pytest.mark.parametrize("minutes", ["0", "14", "241", "45.5", "true", '"45"'])
def test_the_unit_length_is_a_bounded_whole_number_of_minutes(minutes):
    assert problems(f"unit_minutes = {minutes}\n" + MINIMAL + element("a")) == [
        "test.toml, field 'unit_minutes': must be a whole number of minutes from 15 to 240, "
        "e.g. 45"
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"teaching_units": "11"},
            "field 'teaching_units': 11 teaching units of 45 minutes do not fit into a block "
            "of 8 hours",
        ),
        ({"teaching_units": "-1"}, "field 'teaching_units': must be a number of teaching units"),
        ({"teaching_units": "nan"}, "field 'teaching_units': must be a number of teaching units"),
        ({"teaching_units": '"8"'}, "field 'teaching_units': must be a number of teaching units"),
        (
            {"teaching_units": "8", "teaching_hours": "6"},
            "field 'teaching_units': give teaching_units or teaching_hours, not both",
        ),
        (
            {"start": "", "duration": "", "span": '"1d"', "teaching_units": "33"},
            "field 'teaching_units': 33 teaching units do not fit into 1 days",
        ),
    ],
)
def test_teaching_units_are_checked_at_their_field(fields, expected):
    (problem,) = problems(MINIMAL + element("a", **fields))
    assert expected in problem


def test_a_whole_block_of_units_fits_exactly():
    # 10 units of 48 minutes are the block's 8 hours, not a hair more.
    text = "unit_minutes = 48\n" + MINIMAL + element("a", teaching_units="10")
    assert load_text(text).teaching_hours == 8
