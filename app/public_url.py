"""Absolute addresses that leave the site: in e-mails, calendar subscription
addresses, certificates and their QR codes.

They are built on QUALIPLAN_PUBLIC_URL when it is set. The request's Host
header is the client's to choose: a forged one would otherwise put an
attacker's host into a link that Qualiplan sends or prints (and the secret
token with it). Without the setting (one machine, no proxy) the request's
address is the only one known.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint`, on the public address when set.
    Outside a request (the command line) without the setting: only the path."""
    base = current_app.config.get("PUBLIC_URL", "")
    if not has_request_context():
        path = current_app.url_map.bind("localhost").build(endpoint, values)
        return base + path
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
