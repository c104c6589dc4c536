"""The one commit point of each request and command.

A handler parses its input, calls one service and maps the result; it never
commits or rolls back. The decorator around it does, once:

- the handler returned an answer below 400 to a request that may change
  something: commit (a concurrent edit the database finds at this moment is
  reported like any other stale edit);
- the handler returned an error status, or raised anything: roll back.

A refusal (`DomainError`, or a message error of the planning core), raised by
the handler or found at the commit, becomes the door's answer in `refused`,
the app's error handler for them: on a page, its reason on top of the page
the form was on (303, so a reload sends nothing again); in the API, the JSON
error shape with the refusal's status and code. On the command line
`app.cli.main` prints it and exits with 2 (bad input) or 1 (refused).

Routes that change something carry `@transactions.web` or
`@transactions.api`, commands `@transactions.cli`; a test built from the URL
map holds every such route to it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Forbidden, NotFound

from app.api.errors import error_response
from app.extensions import db
from app.i18n import refusal, sentence, translator
from app.services.errors import DomainError, StaleEdit, code_of, status_of
from curricula.messages import MessageError, msg

F = TypeVar("F", bound=Callable[..., Any])

MARK = "__commit_point__"
BACK = "__refusal_returns_to__"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Clash(DomainError):
    """The database refused the change as a whole (a unique value someone
    saved at the same moment): reported as a conflict, nothing is saved."""

    code = "conflict"

    def __init__(self) -> None:
        super().__init__(
            msg("the change clashes with one saved at the same moment; please try again")
        )


def _finish(succeeded: bool) -> None:
    """Commit or roll back the request's transaction; a concurrent change that
    the commit finds becomes StaleEdit, a broken constraint Clash."""
    if request_is_safe():
        return  # nothing to keep; the request's end closes the session
    if not succeeded:
        db.session.rollback()
        return
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit() from None
    except IntegrityError:
        db.session.rollback()
        raise Clash() from None


def request_is_safe() -> bool:
    return request.method in SAFE_METHODS


def _run(view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    try:
        result = view(*args, **kwargs)
    except BaseException:
        if not request_is_safe():
            db.session.rollback()
        raise
    _finish(_status(result) < 400)
    return result


def _status(result: Any) -> int:
    """The status of what a view returned: a response, `(body, status, …)`, or
    a body (a page, or a record the API serialises) meaning 200."""
    if isinstance(result, Response):
        return result.status_code
    if isinstance(result, tuple) and len(result) > 1 and isinstance(result[1], int):
        return result[1]
    return 200


def web(view: F | None = None, *, back: Callable[..., str] | None = None) -> Any:
    """The commit point of a page's form post (see the module's text).
    `back(**view_args)` names the page a refusal returns to when the browser
    sent no page of ours as its Referer (the default: the overview)."""

    def decorate(handler: F) -> F:
        wrapped = _commit_point(handler, "web")
        setattr(wrapped, BACK, back)
        return wrapped

    return decorate(view) if view is not None else decorate


def api(view: F) -> F:
    """The commit point of an API operation."""
    return _commit_point(view, "api")


def _commit_point(view: F, door: str) -> F:
    @wraps(view)
    def handle(*args: Any, **kwargs: Any) -> Any:
        return _run(view, args, kwargs)

    setattr(handle, MARK, door)
    return handle  # type: ignore[return-value]


def refused(error: MessageError) -> ResponseReturnValue:
    """The answer to a refusal, wherever it was raised (registered as the
    error handler of MessageError): the API's error shape under /api/; on a
    page its reason on top of the page the form was on. A record the actor
    may not see, or a role's limit, answers as any page would (404, 403)."""
    status = status_of(error)
    if request.path.startswith("/api/"):
        message = sentence(str(error.message))
        field = getattr(error, "field", None)
        details = {field: [message]} if field else None
        return error_response(status, message, details, code=code_of(error))
    if status in (403, 404):
        # Raising from an error handler would end in a 500: answer as the page's own 403/404.
        page_error = Forbidden() if status == 403 else NotFound()
        return current_app.handle_http_exception(page_error)
    tr = translator()
    if wants_json_answer():
        body = {"error": {"code": code_of(error), "message": tr.localize(error.message)}}
        return body, status
    flash(refusal(tr.localize(error.message)), f"error refused-{code_of(error)}")
    return redirect(back_url(), 303)


def wants_json_answer() -> bool:
    """A script on the page (the attendance grid) asks for JSON."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def back_url() -> str:
    """The page the form was sent from, if it is one of ours; else the overview."""
    referrer = request.referrer
    if referrer:
        parts = urlsplit(referrer)
        if parts.netloc == request.host and parts.scheme in ("http", "https"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    view = current_app.view_functions.get(request.endpoint or "")
    back = getattr(view, BACK, None)
    if back is not None:
        return back(**(request.view_args or {}))
    return url_for("dashboard.index")


def cli(command: F) -> F:
    """The commit point of a command: commit when it ends normally, roll back
    on any error (which `app.cli.main` turns into a message and exit code)."""

    @wraps(command)
    def handle(*args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs)
            try:
                db.session.commit()
            except StaleDataError:
                raise StaleEdit() from None
        except BaseException:
            db.session.rollback()
            raise
        return result

    setattr(handle, MARK, "cli")
    return handle  # type: ignore[return-value]


def is_commit_point(view: Callable[..., Any]) -> bool:
    return getattr(view, MARK, None) is not None
