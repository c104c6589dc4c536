"""Settings forms that carry the record's lock version, so that a change
someone else saved in the meantime is reported instead of overwritten."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request

from app.i18n import translator

F = TypeVar("F")


def form_for(form_class: type[F], record: Any) -> F:
    """The form, filled from `record` when the page is first shown."""
    form = form_class(obj=record if request.method == "GET" else None)  # type: ignore[call-arg]
    if request.method == "GET":
        form.version.data = str(record.lock_version)  # type: ignore[attr-defined]
    return form


def changed_meanwhile(form: Any, record: Any) -> bool:
    return bool(form.version.data != str(record.lock_version))


def stale_settings() -> str:
    return translator().gettext(
        "Someone else changed these settings in the meantime; nothing was saved. "
        "The page shows the current state."
    )
