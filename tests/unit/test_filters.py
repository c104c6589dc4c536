"""Dates, times, numbers and regions on pages: the reader's way, never the
program's (16.03.2026, not 2026-03-16; 18, not 18.0; Bayern, not DE-BY)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from flask import Flask, render_template_string

from app import filters, i18n
from curricula.loader import load_text
from curricula.messages import msg
from curricula.versions import ChangeKind, Difference, UpstreamChange
from tests.unit.test_loader import MINIMAL, element


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.TRANSLATIONS_DIR)
    i18n.init_app(app)
    filters.init_app(app)
    return app


def render(app, language: str, template: str, **values) -> str:
    with app.test_request_context(f"/?lang={language}"):
        return render_template_string(template, **values)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "16.03.2026 · Mo. 16.03.2026"), ("en", "16 Mar 2026 · Mon 16 Mar 2026")],
)
def test_dates_with_and_without_their_weekday(app, language, expected):
    day = date(2026, 3, 16)
    assert render(app, language, "{{ d | short_day }} · {{ d | day }}", d=day) == expected


def test_a_stored_iso_date_is_shown_the_readers_way(app):
    assert render(app, "de", "{{ '2026-03-16' | short_day }}") == "16.03.2026"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "18 · 1,5 · 1.234 · 7,33 · 8"), ("en", "18 · 1.5 · 1,234 · 7.33 · 8")],
)
def test_numbers_without_trailing_zeros_and_with_the_readers_separators(app, language, expected):
    template = " · ".join(
        "{{ " + value + " | number }}" for value in ("18.0", "1.5", "1234", "u", "8")
    )
    assert render(app, language, template, u=Decimal("7.33")) == expected


def test_a_time_range_in_the_cohorts_time_zone(app):
    start = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    end = datetime(2026, 3, 16, 11, 15, tzinfo=UTC)
    assert (
        render(app, "de", "{{ s | time_range(e, 'Europe/Berlin') }}", s=start, e=end)
        == "09:00–12:15"
    )
    assert render(app, "en", "{{ s | time_range(e) }}", s=time(9), e=time(12, 15)) == "09:00–12:15"


def test_regions_by_their_names(app):
    assert (
        render(app, "de", "{{ 'DE-BY' | region }}, {{ 'AT-1' | region }}") == "Bayern, Burgenland"
    )
    assert render(app, "de", "{{ 'XX-1' | region }}") == "XX-1"


def test_core_messages_write_fractions_the_readers_way():
    message = msg(
        "teaching hours: {hours} of {total} attended; needs {percent} %",
        hours=7.5,
        total=18.0,
        percent=80,
    )
    assert (
        i18n.Translator("de").localize(message)
        == "Unterrichtszeit: 7,5 von 18 Zeitstunden besucht; nötig sind 80 %"
    )
    assert (
        i18n.Translator("en").localize(message) == "teaching hours: 7.5 of 18 attended; needs 80 %"
    )


def test_an_upstream_change_names_the_element_by_its_title(app):
    curriculum = load_text(
        MINIMAL + element("kickoff", title='{ de = "Auftakt", en = "Kick-off" }')
    )
    added = UpstreamChange(Difference(ChangeKind.ADDED, "kickoff"))
    template = "{{ c | change_summary(model) }}"
    assert render(app, "de", template, c=added, model=curriculum) == "neues Element „Auftakt“"
    assert render(app, "en", template, c=added, model=curriculum) == "new element “Kick-off”"
    assert "kickoff" not in render(app, "de", template, c=added, model=curriculum)
