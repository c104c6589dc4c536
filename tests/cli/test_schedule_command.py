import json
import os
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

SHIPPED = Path(__file__).parents[2] / "curricula" / "definitions"


def test_table_in_german_by_default(schedule):
    result = schedule(start="2027-05-26", region="DE-BW")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == (
        "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag (compact, Version 2)"
    )
    assert lines[1] == "Region DE-BW, Zeitzone Europe/Berlin"
    assert lines[3].split() == ["Datum", "Uhrzeit", "Termin", "Form"]
    assert lines[4].startswith("Mi. 26.05.2027  09:00–17:00  Seminartag 1")
    assert lines[5].startswith("Fr. 28.05.2027  09:00–17:00  Seminartag 2")
    assert (
        "Hinweis: der nächste Arbeitstag nach seminar-1 ist Fr. 28.05.2027: "
        "Do. 27.05.2027 ist ein Feiertag (Fronleichnam)" in result.out
    )


def test_table_in_english(schedule):
    result = schedule("--lang", "en", curriculum="blended", start="2027-01-11", region="DE-BY")
    assert result.code == 0
    assert "Tue 12 Jan 2027 – Mon 25 Jan 2027  all day" in result.out
    assert "Note: the preferred gap of 3 months after practice-day" in result.out


def test_holidays_are_named_in_the_language_of_the_output(schedule):
    result = schedule("--lang", "en", start="2027-05-26", region="DE-BW")
    assert result.code == 0
    assert "Thu 27 May 2027 is a public holiday (Corpus Christi)" in result.out
    assert "Fronleichnam" not in result.out


def test_json_shape(schedule):
    result = schedule(
        "--format",
        "json",
        "--lang",
        "en",
        curriculum="blended",
        start="2027-01-11",
        region="DE-BY",
    )
    assert result.code == 0
    data = json.loads(result.out)
    assert data["curriculum"] == {
        "key": "blended",
        "version": 2,
        "title": "Learning companion, blended: seven months of in-person, video and webinar",
    }
    assert data["region"] == "DE-BY"
    assert data["timezone"] == "Europe/Berlin"
    first, second = data["sessions"][:2]
    assert first == {
        "element": "kickoff",
        "kind": "kickoff",
        "title": "Kickoff: getting to know each other and the role",
        "mode": "in_person",
        "start": "2027-01-11T09:00:00+01:00",
        "end": "2027-01-11T13:00:00+01:00",
        "all_day": False,
    }
    assert second["start"] == "2027-01-12"
    assert second["end"] == "2027-01-25"  # the last day included
    assert second["all_day"] is True
    checkpoint = next(s for s in data["sessions"] if s["element"] == "checkpoint-1")
    assert checkpoint["start"] == "2027-05-18T14:00:00+02:00"
    assert data["warnings"] == [
        {
            "element": "checkpoint-1",
            "code": "gap_adjusted",
            "message": "the preferred gap of 3 months after practice-day ends on a closed day: "
            "Sun 16 May 2027 is a weekend day; moved to Tue 18 May 2027",
        }
    ]


def test_closure_ranges_and_delivery(schedule):
    result = schedule(
        "--closed",
        "2027-03-02..2027-03-04",
        "--closed",
        "2027-03-05",
        "--delivery",
        "online",
        "--format",
        "json",
        region="DE-BY",
    )
    data = json.loads(result.out)
    assert [s["start"][:10] for s in data["sessions"][:2]] == ["2027-03-01", "2027-03-08"]
    assert {s["mode"] for s in data["sessions"]} == {"online"}


def test_ics_imports_with_correct_dates_and_times(schedule):
    result = schedule("--format", "ics", curriculum="blended", start="2027-01-11", region="DE-BY")
    assert result.code == 0
    calendar = IcsCalendarStream.calendar_from_ics(result.out)
    starts = [e.dtstart.isoformat() for e in calendar.events]
    assert starts[0] == "2027-01-11T09:00:00+01:00"
    assert starts[1] == "2027-01-12"
    assert starts[-1] == "2027-08-18T14:00:00+02:00"
    # Notes go to stderr so that stdout stays a clean file.
    assert "Hinweis:" in result.err
    assert icalendar.Calendar.from_ical(result.out)["METHOD"] == "PUBLISH"


def test_same_input_gives_the_same_uids(schedule):
    first, second = schedule("--format", "ics"), schedule("--format", "ics")
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(first.out).walk("VEVENT")]
    again = [str(e["UID"]) for e in icalendar.Calendar.from_ical(second.out).walk("VEVENT")]
    assert uids == again
    assert len(set(uids)) == 3


def test_a_curriculum_file_works_like_a_key(schedule):
    by_file = schedule("--format", "json", curriculum=str(SHIPPED / "compact.toml"))
    by_key = schedule("--format", "json")
    assert json.loads(by_file.out) == json.loads(by_key.out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--start", "2027-02-30"],
            "Error: --start: '2027-02-30' is not a calendar date (YYYY-MM-DD)",
        ),
        (
            ["--start", "11.01.2027"],
            "Error: --start: '11.01.2027' is not a calendar date (YYYY-MM-DD)",
        ),
        (
            ["--start", "1850-01-01"],
            "Error: --start: 1850-01-01 lies outside the years 2000 to 2099",
        ),
        (
            ["--region", "DE-XX"],
            "Error: unknown region 'DE-XX': DE has no subdivision 'XX' (known: DE-BB, DE-BE,",
        ),
        (
            ["--region", "Bayern"],
            "Error: unknown region 'Bayern': there is no holiday data for a country 'BAYERN'",
        ),
        (
            ["--curriculum", "kompakt"],
            "Error: --curriculum: no shipped curriculum has the key 'kompakt' "
            "(shipped: blended, compact); or give a .toml file",
        ),
        (
            ["--tz", "Berlin"],
            "Error: 'Berlin' is not a known time zone; a name such as Europe/Berlin is expected",
        ),
        (["--format", "xml"], "Error: --format: 'xml' is not a format; use table, json, ics"),
        (
            ["--delivery", "hybrid"],
            "Error: --delivery: 'hybrid' is not a delivery; use in_person, online",
        ),
        (
            ["--closed", "2027-03-05..2027-03-01"],
            "Error: --closed: the range '2027-03-05..2027-03-01' ends before it starts",
        ),
        (
            ["--closed", "2027-03-05..2029-03-01"],
            "Error: --closed: the range '2027-03-05..2029-03-01' is longer than a year",
        ),
        (
            ["--colsed", "2027-03-05"],
            "Error: No such option '--colsed'. Did you mean '--closed'?",
        ),
    ],
)
def test_bad_input_gives_one_clear_line(qualiplan, args, message):
    base = {"--curriculum": "compact", "--start": "2027-03-01", "--region": "DE-BE"}
    for name, value in zip(args[::2], args[1::2], strict=True):
        base[name] = value
    argv = [item for pair in base.items() for item in pair]
    result = qualiplan("schedule", *argv, "--lang", "en")
    assert result.code == 2
    assert result.out == ""
    [line] = result.err.splitlines()
    assert line.startswith(message)


def test_missing_options_are_named(qualiplan):
    result = qualiplan("schedule", "--start", "2027-03-01", "--lang", "en")
    assert result.code == 2
    assert result.err.splitlines() == [
        "Error: --curriculum is missing",
        "Error: --region is missing",
    ]


def test_messages_are_german_by_default(schedule):
    result = schedule(start="2027-02-30")
    assert result.err == "Fehler: --start: „2027-02-30“ ist kein Kalenderdatum (JJJJ-MM-TT)\n"


def test_an_unknown_time_zone_is_named_with_what_is_expected(schedule):
    result = schedule("--tz", "Europa/Berlin")
    assert result.code == 2
    assert result.err == (
        "Fehler: „Europa/Berlin“ ist keine bekannte Zeitzone; "
        "erwartet wird ein Name wie Europe/Berlin\n"
    )


def test_a_plan_that_cannot_be_made_names_element_and_rule(schedule, tmp_path):
    text = (
        (SHIPPED / "compact.toml")
        .read_text(encoding="utf-8")
        .replace(
            'gap = { min = "3w", preferred = "8w", max = "6m" }', 'gap = { preferred = "8w" }'
        )
    )
    path = tmp_path / "tight.toml"
    path.write_text(text, encoding="utf-8")
    # 2027-03-01 + 1 day + 8 weeks = 2027-04-27 ... closed here on purpose.
    result = schedule("--closed", "2027-04-27", "--lang", "en", curriculum=str(path))
    assert result.code == 1
    assert result.err == (
        "Error: reflection: no working day in DE-BE between Tue 27 Apr 2027 and "
        "Tue 27 Apr 2027 (a gap of 8 weeks to 8 weeks after seminar-2, which ends on "
        "Tue 2 Mar 2027)\n"
    )


def test_a_broken_file_lists_every_problem(schedule, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(
        (SHIPPED / "compact.toml")
        .read_text(encoding="utf-8")
        .replace('kind = "reflection_day"', 'kind = "party"')
        .replace('after = "seminar-2"', 'after = "seminar-3"'),
        encoding="utf-8",
    )
    result = schedule("--lang", "en", curriculum=str(path))
    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Error: broken.toml, element 'reflection', field 'kind':")
    assert lines[1] == (
        "Error: broken.toml, element 'reflection', field 'after': "
        "no element has the key 'seminar-3'"
    )


def test_the_installed_command_never_shows_a_traceback(tmp_path):
    command = Path(sys.executable).with_name("qualiplan")
    assert command.exists(), "the console script is installed with the project"
    env = {**os.environ, "QUALIPLAN_LANGUAGE": "en"}
    env.pop("QUALIPLAN_DEBUG", None)
    broken = tmp_path / "broken.toml"
    broken.write_text('key = "x"\nversion = [\n', encoding="utf-8")
    for args in (
        ["schedule", "--curriculum", "compact", "--start", "2027-13-01", "--region", "DE-BW"],
        ["schedule", "--curriculum", str(broken), "--start", "2027-01-01", "--region", "DE"],
        ["curricula", "check", str(tmp_path / "missing.toml")],
    ):
        result = subprocess.run(
            [str(command), *args], capture_output=True, text=True, env=env, check=False
        )
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("Error: ")


def test_closure_days_are_refused_as_bad_input_of_any_door():
    """The form and the command line share the parser; it raises the domain's
    InvalidInput, which the command line answers with exit code 2."""
    from app.closures import parse_closures
    from app.services.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        parse_closures("--closed", ["2027-13-01 Inventur"])
    assert caught.value.status == 422
    assert str(caught.value) == "--closed: '2027-13-01' is not a calendar date (YYYY-MM-DD)"
