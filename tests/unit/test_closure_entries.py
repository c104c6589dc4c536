"""Closure days as people type them into a form, and as scripts write them."""

from __future__ import annotations

from datetime import date

import pytest

from app.closures import parse_closures
from app.services.errors import InvalidInput


def test_a_person_types_german_dates_and_ranges():
    days = parse_closures(
        "Schließtage",
        ["24.12.2027–26.12.2027 Betriebsruhe", "6.1.2027", "2027-05-05..2027-05-06 x"],
        typed=True,
    )
    assert days == {
        date(2027, 12, 24): "Betriebsruhe",
        date(2027, 12, 25): "Betriebsruhe",
        date(2027, 12, 26): "Betriebsruhe",
        date(2027, 1, 6): "",
        date(2027, 5, 5): "x",
        date(2027, 5, 6): "x",
    }


@pytest.mark.parametrize("entry", ["31.02.2027", "24.12.27", "morgen"])
def test_a_typed_entry_that_is_no_date_is_refused_with_an_example(entry):
    with pytest.raises(InvalidInput) as refused:
        parse_closures("Schließtage", [entry], typed=True)
    assert str(refused.value) == f"Schließtage: '{entry}' is not a date such as 24.12.2027"


def test_scripts_keep_the_iso_form():
    with pytest.raises(InvalidInput) as refused:
        parse_closures("--closed", ["24.12.2027"])
    assert "(YYYY-MM-DD)" in str(refused.value)
