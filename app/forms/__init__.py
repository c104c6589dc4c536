"""WTForms: the shape of fields only; no queries, no business rules."""

from __future__ import annotations

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxListField(SelectMultipleField):  # type: ignore[misc]
    """A choice of several as checkboxes: easier than a multi-select on a tablet."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
