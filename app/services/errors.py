"""The one family of errors a use case raises when it refuses.

Each carries a message for people (translated by the door that shows it), a
stable `code` for programs (the API's error code, the parity tests) and the
HTTP status that the web and the API answer with. Services raise them and
never commit; the commit point of the request or command (`app.transactions`)
rolls back and maps them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from curricula.messages import Message, MessageError, msg


class DomainError(MessageError):
    """A business rule refused the use case; nothing it did is kept."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "refused"

    def __init__(self, message: Message, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code  # type: ignore[misc]
        # The form field the problem belongs to, where there is one.
        self.field = field


class NotPermitted(DomainError):
    """The actor's role does not allow the action (403)."""

    status = 403
    code = "forbidden"

    def __init__(self, message: Message | None = None, **kwargs: Any) -> None:
        super().__init__(message or msg("your role does not allow this"), **kwargs)


class NotFound(DomainError):
    """No such record for this actor: records of other organisations are
    reported exactly like records that do not exist (404)."""

    status = 404
    code = "not_found"

    def __init__(self, message: Message | None = None, **kwargs: Any) -> None:
        super().__init__(message or msg("not found"), **kwargs)


class InvalidInput(DomainError):
    """A value is not acceptable (422)."""

    status = 422
    code = "invalid"


class StaleEdit(DomainError):
    """Someone else saved the record after this edit began (409). The one way
    Qualiplan reports a concurrent edit, wherever it is found: a lock version
    sent with a form, or the database's version check at the commit."""

    code = "stale"

    def __init__(self, message: Message | None = None, **kwargs: Any) -> None:
        super().__init__(
            message
            or msg("someone else changed this in the meantime; the page shows the current state"),
            **kwargs,
        )


def expect_version(record: Any, submitted: object) -> None:
    """Refuse an edit begun on an older state of `record` (its lock version
    as the form or request carried it)."""
    if str(submitted) != str(record.lock_version):
        raise StaleEdit()


def code_of(error: MessageError) -> str:
    """The stable code of any refusal, also of the planning core's errors
    (named after their class: PlanningError → planning_error)."""
    if isinstance(error, DomainError):
        return error.code
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def status_of(error: MessageError) -> int:
    return error.status if isinstance(error, DomainError) else 409
