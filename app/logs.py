"""Secret links never reach a log file: their tokens are replaced by a mark.
So are certificate codes, which lead to a person's name, in the path
(`/verify/<code>`) and as the check form sends them (`/verify?code=…`).

Werkzeug logs every request line ("GET /feeds/<token>.ics ...") at info level;
a filter on its logger (and on the app's) rewrites the message first.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

SECRET_PATH = re.compile(r"/(feeds|p|verify|reset)/[A-Za-z0-9_-]{16,}")
HIDDEN = r"/\1/[hidden]"
# The check form sends the code as it was typed (`/verify?code=7KQ2 M9XD…`),
# with spaces or dashes, percent-encoded or not: everything up to the next
# parameter, quote or space of the request line is hidden.
SECRET_PARAMETER = re.compile(r"([?&](?:code|token)=)[^&#\s\"]*", re.IGNORECASE)
HIDDEN_PARAMETER = r"\1[hidden]"


def hide(message: str) -> str:
    return SECRET_PARAMETER.sub(HIDDEN_PARAMETER, SECRET_PATH.sub(HIDDEN, message))


class HideTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = hide(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


def init_app(app: Flask) -> None:
    secret_filter = HideTokens()
    for logger in (logging.getLogger("werkzeug"), app.logger):
        if not any(isinstance(f, HideTokens) for f in logger.filters):
            logger.addFilter(secret_filter)
