"""Errors of the planning core, named after the business condition.

Each carries a `Message` the shell translates for the reader.
"""

from __future__ import annotations

from datetime import date

from curricula.messages import Message, MessageError


class CoreError(MessageError):
    """Any error of the planning core."""


class PlanningError(CoreError):
    """A schedule cannot be made: `element` names what could not be placed,
    `rule` the rule that could not be kept and `window` the days searched."""

    def __init__(
        self,
        message: Message,
        *,
        element: str | None = None,
        rule: str | None = None,
        window: tuple[date, date] | None = None,
    ) -> None:
        self.element = element
        self.rule = rule
        self.window = window
        super().__init__(message)


class UnknownRegion(CoreError, ValueError):
    """The region code is not an ISO 3166-1/3166-2 code the holiday data knows."""


class UnknownTimezone(CoreError, ValueError):
    """The time zone is not a name of the time zone database such as Europe/Berlin."""


class InvalidDelivery(CoreError, ValueError):
    """A cohort's delivery choice for `either` elements must be in person or online."""
