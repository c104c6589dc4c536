"""The modules that render notifications, imported once so their renderers
are registered (app.notices). Add a line for each new module."""

from app.notices import invitations  # noqa: F401
from app.notices import reminders  # noqa: F401
