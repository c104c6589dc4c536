"""The modules that render notifications, imported once so their renderers
are registered (app.notices). Add a line for each new module."""

# One line per module, each added on its own, in no particular order.
# ruff: noqa: I001

from app.notices import invitations  # noqa: F401
from app.notices import reminders  # noqa: F401
from app.notices import digest  # noqa: F401
from app.notices import offers  # noqa: F401
from app.notices import registrations  # noqa: F401
