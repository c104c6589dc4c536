"""Fields that several forms share: a date typed the German way or picked,
a region chosen by its name, a gap as a number and a unit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DateField, Field, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.widgets import html_params

from app.i18n import region_choices
from curricula.model import Offset, Unit

# The year has four digits: "6.1.27" is as easily 1927 as 2027.
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
# What an <input type="date"> sends.
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")

DATE_MESSAGE = _l("Please enter a date such as 06.01.2027.")
REGION_MESSAGE = _l("Please choose a region from the list.")


def parse_day(text: str) -> date | None:
    """The date in `text` (06.01.2027, 6.1.2027 or 2027-01-06), or None."""
    text = text.strip()
    if match := _GERMAN_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31.02.2027
        return None


class DayField(DateField):  # type: ignore[misc]
    """A date typed as 06.01.2027 or 6.1.2027, or picked with the browser's
    date picker (which sends 2027-01-06).

    For a required date use InputRequired, not DataRequired: a date that
    cannot be read then says how to write one rather than "required".
    """

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"type": "date", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data and self.process_errors:
            return str(self.raw_data[0])
        # An <input type="date"> takes only the ISO form as its value.
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = parse_day(valuelist[0])
        if self.data is None:
            raise ValueError(str(DATE_MESSAGE))


class RegionField(SelectField):  # type: ignore[misc]
    """A region (ISO 3166-2 such as DE-BW) chosen by its name: the German
    states first, then Austria's and Switzerland's, in groups per country.

    The form's user gives the default (the organisation's region) when
    building the form: `CohortForm(region=organisation.region)` or `obj=`.
    A region given so that the list does not offer (another country) stays
    choosable, so that saving the form again keeps it.
    """

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.pop("choices", None)
        kwargs.setdefault("invalid_choice_message", REGION_MESSAGE)
        super().__init__(label, validators, choices=[], **kwargs)

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)
        stored = self.object_data if isinstance(self.object_data, str) else ""
        self.choices = [
            SelectChoice(code, name, optgroup=group)
            for code, name, group in region_choices(extra=(stored,) if stored else ())
        ]

    def offer(self, code: str) -> None:
        """Keep `code` choosable (an organisation's region the list lacks)."""
        if code and code not in {c.value for c in self.choices}:
            self.choices = [
                *self.choices,
                *(
                    SelectChoice(value, name, optgroup=group)
                    for value, name, group in region_choices(extra=(code,))
                    if value == code
                ),
            ]


GAP_UNITS: dict[Unit, Any] = {
    Unit.DAYS: _l("days"),
    Unit.WEEKS: _l("weeks"),
    Unit.MONTHS: _l("months"),
}
GAP_MESSAGE = _l("Please enter a whole number of 0 or more and choose days, weeks or months.")
GAP_LARGEST = 999


def _element(tag: str, content: Markup | None = None, **attributes: Any) -> Markup:
    html = f"<{tag} {html_params(**attributes)}>"
    if content is not None:
        html += f"{content}</{tag}>"
    return Markup(html)  # noqa: S704 -- html_params escapes each value, content is Markup


class GapWidget:
    """A number box and a unit list side by side. The field's label points
    at the number; the list names itself for screen readers."""

    def __call__(self, field: GapField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        described = {k: v for k, v in kwargs.items() if k.replace("_", "-") == "aria-describedby"}
        number = _element(
            "input",
            type="number",
            name=f"{field.name}-amount",
            value=field.amount_text(),
            min=0,
            max=GAP_LARGEST,
            step=1,
            inputmode="numeric",
            required=bool(field.flags.required),
            **kwargs,
        )
        unit = field.unit_value()
        options = Markup("").join(
            _element("option", escape(title), value=u.value, selected=u.value == unit)
            for u, title in GAP_UNITS.items()
        )
        select = _element(
            "select",
            options,
            id=f"{kwargs['id']}-unit",
            name=f"{field.name}-unit",
            aria_label=str(_l("Unit")),
            **described,
        )
        return Markup('<span class="gap">{} {}</span>').format(number, select)


class GapField(Field):  # type: ignore[misc]
    """A distance such as three weeks, entered as a number and a unit
    (Tage, Wochen, Monate). Its data is the curriculum model's `Offset`,
    None when the number is left empty.

    The page posts `<name>-amount` and `<name>-unit`; a single `<name>` such
    as "3w" (a script) is read as well.
    """

    widget = GapWidget()

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        default_unit: Unit = Unit.WEEKS,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.default_unit = default_unit
        self._amount: str | None = None
        self._unit: str | None = None

    def process(self, formdata: Any, data: Any = unset_value, **kwargs: Any) -> None:
        super().process(formdata, data, **kwargs)
        self._amount = self._unit = None
        if formdata is None or f"{self.name}-amount" not in formdata:
            return
        # WTForms hands a field the values under its own name only; the two
        # parts have names of their own.
        self._amount = formdata.get(f"{self.name}-amount", "").strip()
        self._unit = formdata.get(f"{self.name}-unit")
        self.raw_data = [self._amount] if self._amount else []
        try:
            self.data = self._parts_offset(self._amount, self._unit)
        except ValueError as error:
            self.data = None
            self.process_errors.append(error.args[0])

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = Offset.parse(valuelist[0])
            except ValueError as error:
                raise ValueError(str(GAP_MESSAGE)) from error

    @staticmethod
    def _parts_offset(amount: str, unit: str | None) -> Offset | None:
        if not amount:
            return None
        units = {u.value: u for u in GAP_UNITS}
        if not amount.isdigit() or int(amount) > GAP_LARGEST or unit not in units:
            raise ValueError(str(GAP_MESSAGE))
        return Offset(int(amount), units[unit])

    def amount_text(self) -> str:
        if self._amount is not None and self.process_errors:
            return self._amount
        return str(self.data.amount) if isinstance(self.data, Offset) else ""

    def unit_value(self) -> str:
        if self._unit is not None:
            return self._unit
        return self.data.unit.value if isinstance(self.data, Offset) else self.default_unit.value
