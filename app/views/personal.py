"""Every address under a participant's personal link (/p/<token>/…): the
page, its forms and its downloads answer alike when the link no longer
works, and a form sent from the page with an expired CSRF token leads back
to the page with the reason.

The link is checked once per request, before the view, for every rule
under PREFIX: a download added later answers an ended link with the same
page as the personal page itself, without a check of its own."""

from __future__ import annotations

import re

from flask import (
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from app.i18n import translator
from app.services import personal_links

PREFIX = "/p/<token>"
# An address under a personal link that no rule matches (a typo, a
# certificate number that is not one): its token, to say the link has ended.
_UNMATCHED = re.compile(r"^/p/(?P<token>[^/]+)(?:/|$)")
_OPENED = "qualiplan_personal_link"


def opened_link(token: str) -> personal_links.Opened:
    """The page `token` opens (looked up once per request), or the answer
    for a link that no longer works."""
    found = g.get(_OPENED)
    if found is None or found[0] != token:
        found = (token, personal_links.opened(token))
        setattr(g, _OPENED, found)
    if found[1] is None:
        abort(gone(token))
    return found[1]


def gone(token: str) -> Response:
    """404 with a page of its own: the person holds a link that no longer
    works, and HR can send a new one. The same for a link never issued, so
    the answer tells nobody which links existed."""
    return make_response(render_template("calendars/gone.html", token=token), 404)


def token_of_request() -> str | None:
    """The personal link the request's address is under, if it is."""
    rule = request.url_rule
    if rule is not None:
        if rule.rule == PREFIX or rule.rule.startswith(PREFIX + "/"):
            token = (request.view_args or {}).get("token")
            return token if isinstance(token, str) else None
        return None
    unmatched = _UNMATCHED.match(request.path)
    return unmatched.group("token") if unmatched else None


def require_working_link() -> None:
    """Before every request (app.views.calendars registers it): an address
    under a link that has ended answers with the link's page."""
    token = token_of_request()
    if token is not None and request.url_rule is not None:
        opened_link(token)


def not_found() -> ResponseReturnValue | None:
    """An address under a link that has ended, which no rule matches: the
    link's page, not "page not found" (None for any other address)."""
    token = token_of_request()
    if token is None or request.url_rule is not None:
        return None
    if personal_links.opened(token) is None:
        return gone(token)
    return None


def form_expired() -> ResponseReturnValue | None:
    """A form of the personal page sent with a missing or expired CSRF token
    (a phone left open overnight): back to the page, which says that
    nothing was changed and gives a fresh token. None off the page."""
    token = token_of_request()
    if token is None:
        return None
    if personal_links.opened(token) is None:
        return gone(token)
    flash(
        translator().gettext("The form had expired, so nothing was saved. Please try again."),
        "error",
    )
    return redirect(url_for("calendars.personal", token=token), 303)
