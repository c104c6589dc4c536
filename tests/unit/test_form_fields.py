"""The shared form fields: dates typed the German way or picked, regions by
name, gaps as a number and a unit, durations as people write them."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms.validators import InputRequired, Optional

from app import i18n
from app.forms.curricula import DurationField, read_duration
from app.forms.fields import DayField, GapField, RegionField, parse_day
from curricula.model import Offset, Unit


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",  # noqa: S106 -- a test app without sessions
        WTF_CSRF_ENABLED=False,
        BABEL_TRANSLATION_DIRECTORIES=str(i18n.TRANSLATIONS_DIR),
    )
    i18n.init_app(app)
    return app


@pytest.fixture(params=["de", "en"])
def language(request, app):
    with app.test_request_context(f"/?lang={request.param}"):
        yield request.param


class DayForm(FlaskForm):
    day = DayField("Day", validators=[InputRequired()])


class RegionForm(FlaskForm):
    region = RegionField("Region")


class GapForm(FlaskForm):
    gap = GapField("Gap", validators=[Optional()])


def posted(form_class, **values):
    return form_class(formdata=MultiDict(values))


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("06.01.2027", date(2027, 1, 6)),
        ("6.1.2027", date(2027, 1, 6)),
        (" 29.2.2028 ", date(2028, 2, 29)),
        ("2027-01-06", date(2027, 1, 6)),
    ],
)
def test_a_date_is_read_in_the_german_and_the_iso_form(typed, day):
    assert parse_day(typed) == day


@pytest.mark.parametrize("typed", ["31.02.2027", "6.1.27", "01/06/2027", "06.01.2027x", "morgen"])
def test_what_is_not_a_date_is_not_read_as_one(typed):
    assert parse_day(typed) is None


def test_a_typed_date_is_accepted_by_the_form(language):
    form = posted(DayForm, day="6.1.2027")
    assert form.validate()
    assert form.day.data == date(2027, 1, 6)


def test_a_wrong_date_names_the_expected_form_and_is_shown_again(language):
    form = posted(DayForm, day="31.02.2027")
    assert not form.validate()
    expected = {
        "de": "Bitte ein Datum wie 06.01.2027 eingeben.",
        "en": "Please enter a date such as 06.01.2027.",
    }[language]
    assert form.day.errors == [expected]
    assert 'value="31.02.2027"' in form.day()


def test_a_missing_date_is_required(language):
    form = posted(DayForm, day="")
    assert not form.validate()
    assert form.day.errors
    assert "06.01.2027" not in form.day.errors[0]


def test_the_date_renders_as_a_date_picker_with_the_iso_value(language):
    form = DayForm(day=date(2027, 1, 6))
    html = form.day()
    assert 'type="date"' in html
    assert 'value="2027-01-06"' in html


def test_german_states_come_first_by_their_names_grouped_by_country(language):
    form = RegionForm()
    choices = list(form.region.choices)
    groups = list(dict.fromkeys(c.optgroup for c in choices))
    germany = {"de": "Deutschland", "en": "Germany"}[language]
    assert groups[:3] == [
        germany,
        {"de": "Österreich", "en": "Austria"}[language],
        "Schweiz" if language == "de" else "Switzerland",
    ]
    states = [c for c in choices if c.optgroup == germany and c.value != "DE"]
    assert len(states) == 16
    assert (states[0].value, states[0].label) == ("DE-BW", "Baden-Württemberg")
    names = [c.label for c in states]
    # Every name in the reader's language, each country's in their order.
    if language == "de":
        assert names.index("Sachsen-Anhalt") < names.index("Thüringen")
    else:
        assert names.index("Saxony-Anhalt") < names.index("Thuringia")
    assert names == sorted(names, key=lambda n: n.replace("ü", "u").casefold())
    by_value = {c.value: c.label for c in choices}
    assert by_value["AT-9"] == {"de": "Wien", "en": "Vienna"}[language]
    assert by_value["CH-ZH"] == {"de": "Zürich", "en": "Zurich"}[language]
    assert by_value["CH-GE"] == {"de": "Genf", "en": "Geneva"}[language]
    # The city-level holiday regions of the package have no ISO code.
    assert not any("Augsburg" in value for value in by_value)


def test_the_region_defaults_to_what_the_form_user_gives(language):
    html = RegionForm(region="DE-BY").region()
    bavaria = {"de": "Bayern", "en": "Bavaria"}[language]
    assert f'<option selected value="DE-BY">{bavaria}</option>' in html
    assert "<optgroup" in html


def test_a_stored_region_the_list_does_not_offer_stays_choosable(language):
    form = RegionForm(formdata=MultiDict({"region": "FR"}), region="FR")
    assert form.validate()
    assert form.region.data == "FR"
    assert "FR" in {c.value for c in form.region.choices}


def test_a_region_that_is_neither_offered_nor_stored_is_refused(language):
    form = posted(RegionForm, region="FR")
    assert not form.validate()
    expected = {
        "de": "Bitte eine Region aus der Liste wählen.",
        "en": "Please choose a region from the list.",
    }[language]
    assert form.region.errors == [expected]


@pytest.mark.parametrize(
    ("amount", "unit", "offset"),
    [
        ("3", "w", Offset(3, Unit.WEEKS)),
        ("0", "d", Offset(0, Unit.DAYS)),
        (" 6 ", "m", Offset(6, Unit.MONTHS)),
    ],
)
def test_a_gap_is_a_number_and_a_unit(language, amount, unit, offset):
    form = GapForm(formdata=MultiDict({"gap-amount": amount, "gap-unit": unit}))
    assert form.validate()
    assert form.gap.data == offset


def test_an_empty_gap_is_none_and_allowed_when_optional(language):
    form = GapForm(formdata=MultiDict({"gap-amount": "", "gap-unit": "w"}))
    assert form.validate()
    assert form.gap.data is None


@pytest.mark.parametrize(
    ("amount", "unit"), [("3.5", "w"), ("-1", "d"), ("drei", "w"), ("3", "y"), ("1000", "d")]
)
def test_a_gap_that_is_not_a_whole_number_and_a_unit_is_refused(language, amount, unit):
    form = GapForm(formdata=MultiDict({"gap-amount": amount, "gap-unit": unit}))
    assert not form.validate()
    expected = {
        "de": "Bitte eine ganze Zahl ab 0 eingeben und Tage, Wochen oder Monate wählen.",
        "en": "Please enter a whole number of 0 or more and choose days, weeks or months.",
    }[language]
    assert form.gap.errors == [expected]
    assert f'value="{amount}"' in form.gap()


def test_a_gap_in_the_short_form_of_a_script_is_read(language):
    form = GapForm(formdata=MultiDict({"gap": "2m"}))
    assert form.validate()
    assert form.gap.data == Offset(2, Unit.MONTHS)


def test_the_gap_renders_a_labelled_number_and_unit_list(language):
    form = GapForm(gap=Offset(3, Unit.WEEKS))
    html = form.gap()
    assert isinstance(html, Markup)
    assert '<input id="gap" inputmode="numeric" max="999" min="0" name="gap-amount"' in html
    assert 'value="3"' in html
    assert 'name="gap-unit"' in html
    weeks = {"de": "Wochen", "en": "weeks"}[language]
    assert f'<option selected value="w">{weeks}</option>' in html
    assert 'aria-label="' in html
    assert str(form.gap.label).startswith('<label for="gap"')


def test_pages_name_a_region_as_its_list_does():
    """The `region` filter of the pages and the region list share one name."""
    from app.i18n import region_name

    assert [region_name("CH-GE", lang) for lang in ("de", "en")] == ["Genf", "Geneva"]
    assert [region_name("DE-BY", lang) for lang in ("de", "en")] == ["Bayern", "Bavaria"]
    assert [region_name("DE", lang) for lang in ("de", "en")] == ["Deutschland", "Germany"]
    assert region_name("FR-XX", "de") == "FR-XX"


class DurationForm(FlaskForm):
    duration = DurationField("Duration", validators=[Optional()])


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("8 Std.", "8h"),
        ("90 Min.", "1h30min"),  # whole hours first, as the file is written
        ("45 Min.", "45min"),
        ("8 Stunden, 30 Minuten", "8h30min"),
        ("1,5 Std.", "1h30min"),
        # The hours' fraction and the minutes add up, not 1h60min.
        ("1,5 Std. 30 Min.", "2h"),
        ("1,5 Std., 45 Min.", "2h15min"),
        ("7 h 30 min", "7h30min"),
        ("2 hours", "2h"),
        ("7h30min", "7h30min"),  # as the curriculum file writes it
        ("", ""),
    ],
)
def test_a_duration_is_read_as_people_write_it(language, typed, kept):
    form = DurationForm(formdata=MultiDict({"duration": typed}))
    assert form.validate()
    assert form.duration.data == kept
    assert not form.duration.unreadable


@pytest.mark.parametrize("typed", ["8", "acht Stunden", "8 Tage", "1,25 Min.", "2 h 3 h", "-2 h"])
def test_what_is_not_a_duration_goes_on_as_typed_to_be_refused(language, typed):
    form = DurationForm(formdata=MultiDict({"duration": typed}))
    # The curriculum's check refuses it with the element's other problems.
    assert form.validate()
    assert form.duration.unreadable
    assert form.duration.data == typed
    assert f'value="{typed}"' in form.duration()
    with pytest.raises(ValueError, match="8 h, 90 min or 7 h 30 min|8 Std., 90 Min."):
        read_duration(typed)


@pytest.mark.parametrize(
    ("kept", "de", "en"),
    [
        ("8h", "8 Std.", "8 h"),
        ("45min", "45 Min.", "45 min"),
        ("90min", "1 Std. 30 Min.", "1 h 30 min"),
        ("7h30min", "7 Std. 30 Min.", "7 h 30 min"),
    ],
)
def test_a_duration_is_shown_the_reader_s_way(language, kept, de, en):
    form = DurationForm(duration=kept)
    shown = {"de": de, "en": en}[language]
    assert f'value="{shown}"' in form.duration()
