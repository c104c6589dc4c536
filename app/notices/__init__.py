"""What each kind of notification says: one renderer per kind, a plain
function from the notification's recorded payload to an e-mail message
(without From, To and Message-ID, which the delivery sets).

Renderers read only the payload and the language, never the database:
the message says what was true when the change happened, however late the
worker sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

Renderer = Callable[[Mapping[str, Any], str], EmailMessage]
# Where a text message's one-time link goes: the link itself is kept apart
# in the payload (app.services.notifications.SECRETS).
LINK = "{link}"

_RENDERERS: dict[str, Renderer] = {}


def _l(text: str) -> str:
    """Marks a text for the catalog (the extraction's keyword); translated
    when a message is written, in the recipient's language (not the
    request's)."""
    return text


class UnknownKind(LookupError):
    """A notification of a kind no renderer is registered for."""


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        if kind in _RENDERERS:
            raise ValueError(f"two renderers for notifications of kind {kind!r}")
        _RENDERERS[kind] = function
        return function

    return register


def render(kind: str, payload: Mapping[str, Any], language: str) -> EmailMessage:
    try:
        function = _RENDERERS[kind]
    except KeyError:
        raise UnknownKind(kind) from None
    return function(payload, language)


def kinds() -> frozenset[str]:
    return frozenset(_RENDERERS)


@renderer("text")
def _text(payload: Mapping[str, Any], language: str) -> EmailMessage:
    """A message whose words were made when it was recorded (already in the
    recipient's language): subject and body, a one-time "link" put where the
    body says LINK, and optionally one attachment {"content": text,
    "filename": …, "subtype": e.g. "calendar", "params": {…}}."""
    message = EmailMessage()
    message["Subject"] = payload["subject"]
    body = payload["body"]
    if "link" in payload:
        body = body.replace(LINK, payload["link"])
    message.set_content(body)
    attachment = payload.get("attachment")
    if attachment:
        message.add_attachment(
            attachment["content"],
            subtype=attachment.get("subtype", "plain"),
            filename=attachment["filename"],
            params=attachment.get("params") or {},
        )
    return message


# Each module registers its kinds when imported; listed here, not discovered.
from app.notices import catalogue  # noqa: E402,F401
