"""Secret links never reach a log file: their tokens are replaced by a mark.
So are certificate codes, which lead to a person's name.

Werkzeug logs every request line ("GET /feeds/<token>.ics ...") at info level;
a filter on its logger (and on the app's) rewrites the message first.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

SECRET_PATH = re.compile(r"/(feeds|p|verify)/[A-Za-z0-9_-]{16,}")
HIDDEN = r"/\1/[hidden]"


class HideTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = SECRET_PATH.sub(HIDDEN, message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


def init_app(app: Flask) -> None:
    secret_filter = HideTokens()
    for logger in (logging.getLogger("werkzeug"), app.logger):
        if not any(isinstance(f, HideTokens) for f in logger.filters):
            logger.addFilter(secret_filter)
