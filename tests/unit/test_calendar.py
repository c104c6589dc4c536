from datetime import date

import pytest

from cohorts.calendar import ClosedBecause, Region, WorkingCalendar
from cohorts.errors import UnknownRegion
from curricula.model import Text


@pytest.mark.parametrize(
    ("region", "day", "working"),
    [
        ("DE-BW", date(2027, 5, 27), False),  # Fronleichnam
        ("DE-BE", date(2027, 5, 27), True),
        ("DE-SN", date(2028, 10, 31), False),  # Reformationstag
        ("DE-BW", date(2028, 10, 31), True),
        ("DE-HH", date(2028, 10, 31), False),  # since 2018 in the north too
        ("DE-BY", date(2027, 1, 6), False),  # Heilige Drei Könige
        ("DE-NW", date(2027, 1, 6), True),
        ("DE-BE", date(2027, 3, 8), False),  # Frauentag
        ("DE-SN", date(2027, 11, 17), False),  # Buß- und Bettag
        ("DE-BY", date(2027, 11, 17), True),
        ("DE-TH", date(2027, 9, 20), False),  # Weltkindertag
        ("DE-HE", date(2026, 12, 24), True),  # Heiligabend is no public holiday
        ("DE-HE", date(2026, 12, 25), False),
        ("DE-HE", date(2027, 1, 1), False),
        ("AT-9", date(2027, 12, 8), False),  # other countries work the same way
        ("FR", date(2027, 7, 14), False),
    ],
)
def test_public_holidays_of_the_region(region, day, working):
    assert WorkingCalendar(region).is_working_day(day) is working


def test_holiday_names_in_german_and_english():
    closed = WorkingCalendar("DE-BW").closed_because(date(2027, 5, 27))
    assert closed is not None
    assert closed.because is ClosedBecause.HOLIDAY
    assert closed.name == Text("Fronleichnam", "Corpus Christi")
    assert str(closed) == "2027-05-27 is a public holiday (Corpus Christi)"


@pytest.mark.parametrize(
    ("region", "day", "name"),
    [
        ("AT-9", date(2027, 12, 26), Text("Stephanstag", "Saint Stephen's Day")),
        ("CH-GE", date(2027, 9, 9), Text("Genfer Bettag", "Genevan Fast")),
        ("CH-ZH", date(2027, 5, 6), Text("Auffahrt", "Ascension Day")),
    ],
)
def test_austria_and_switzerland_are_named_in_both_languages(region, day, name):
    closed = WorkingCalendar(region).closed_because(day)
    assert closed is not None
    assert closed.name == name


def test_a_country_without_german_names_keeps_its_own_language():
    closed = WorkingCalendar("FR").closed_because(date(2027, 7, 14))
    assert closed is not None
    assert closed.name == Text("Fête nationale", "National Day")


def test_weekends_and_closure_days():
    calendar = WorkingCalendar("DE-BE", {date(2027, 3, 12): "Betriebsversammlung"})
    saturday = calendar.closed_because(date(2027, 3, 13))
    assert saturday is not None
    assert saturday.because is ClosedBecause.WEEKEND
    closure = calendar.closed_because(date(2027, 3, 12))
    assert closure is not None
    assert closure.because is ClosedBecause.CLOSURE
    assert str(closure) == "2027-03-12 is a closure day (Betriebsversammlung)"
    assert calendar.is_working_day(date(2027, 3, 11))
    assert calendar.working_day_on_or_after(date(2027, 3, 12)) == date(2027, 3, 15)


def test_a_closure_without_a_reason():
    calendar = WorkingCalendar("DE-BE", [date(2027, 3, 12)])
    assert str(calendar.closed_because(date(2027, 3, 12))) == "2027-03-12 is a closure day"


def test_holidays_between_lists_the_region_only():
    bw = WorkingCalendar("DE-BW").holidays_between(date(2027, 5, 1), date(2027, 5, 31))
    be = WorkingCalendar("DE-BE").holidays_between(date(2027, 5, 1), date(2027, 5, 31))
    assert (date(2027, 5, 27), Text("Fronleichnam", "Corpus Christi")) in bw
    assert [d for d, _ in be] == [date(2027, 5, 1), date(2027, 5, 6), date(2027, 5, 17)]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("DE-BW", Region("DE", "BW")), ("de-by", Region("DE", "BY")), ("DE", Region("DE"))],
)
def test_region_codes(code, expected):
    assert Region.parse(code) == expected


def test_unknown_subdivision_lists_the_known_ones():
    with pytest.raises(UnknownRegion) as caught:
        Region.parse("DE-XX")
    assert "DE has no subdivision 'XX'" in str(caught.value)
    assert "DE-BW" in str(caught.value)
    assert "DE-SN" in str(caught.value)


def test_unknown_country():
    with pytest.raises(UnknownRegion, match="no holiday data for a country 'QQ'"):
        Region.parse("QQ-1")
