"""Answers for what went wrong: HTML pages for people, the API's JSON shape
under /api/, 400 for input the database cannot take, and 503 while the
database is unreachable."""

from __future__ import annotations

import logging
from functools import cache

from flask import Flask, Response, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app import transactions
from app.api import errors
from app.views import personal
from curricula.messages import MessageError


def init_app(app: Flask) -> None:
    for status in (400, 401, 403, 404, 405, 409, 410, 413, 422, 429):
        app.register_error_handler(status, _error_page(status))
    app.after_request(_retry_after_throttling)
    app.before_request(_refuse_nul_characters)
    # A value the database cannot store (PostgreSQL: NUL bytes, numbers out of
    # range) is bad input, not a server error; nothing was saved.
    app.register_error_handler(DataError, _unstorable_value)
    app.register_error_handler(500, _server_error)
    # A use case refused by a business rule: rolled back by the commit point.
    app.register_error_handler(MessageError, transactions.refused)
    # The database is down or restarting: say so and let the client retry.
    # SQLAlchemy drops the broken connections, so the app recovers by itself.
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)


def _error_page(status: int):  # type: ignore[no-untyped-def]
    def handler(error: HTTPException) -> ResponseReturnValue:
        if errors.wants_json():
            return errors.from_http_exception(error)
        # A missing or expired CSRF token is a 400 like any other bad request,
        # but its cause is one the user can act on; the personal page's
        # forms lead back to the page (the person has no other way there).
        expired = isinstance(error, CSRFError)
        if expired and (back := personal.form_expired()) is not None:
            return back
        # An address under a personal link that has ended says so.
        if status == 404 and (ended := personal.not_found()) is not None:
            return ended
        nul = g.get("nul_fields")
        return render_template(
            "error.html", status=status, expired=expired, nul=nul, nul_labels=_labels(nul)
        ), status

    return handler


def _retry_after_throttling(response: Response) -> Response:
    if response.status_code == 429:
        response.headers.setdefault("Retry-After", "60")
    return response


def _refuse_nul_characters() -> None:
    """NUL is never part of a text people type, and PostgreSQL cannot store it.
    It comes with text pasted from another program; the page says so and
    names the field where it can."""
    if request.method in ("GET", "HEAD") and b"%00" not in request.query_string:
        return  # the common case, checked without parsing anything
    fields = [
        name
        for values in (request.args, request.form)
        for name, value in values.items(multi=True)
        if "\0" in value
    ]
    body = request.get_data(as_text=True) if request.is_json else ""
    if "\\u0000" in body or "\0" in body:
        fields.append("")
    if fields:
        g.nul_fields = list(dict.fromkeys(fields))
        named = ", ".join(f for f in g.nul_fields if f)
        abort(
            400,
            description="The request contains a NUL character (\\0), which no field takes"
            + (f": {named}." if named else "."),
        )


def _labels(fields: list[str] | None) -> list[str]:
    """The labels people saw for these form fields, where a field of that
    name has the same label on every form (else it is not named)."""
    if not fields:
        return []
    from app.i18n import translator
    from app.notices.wording import quoted

    labels, tr = _form_labels(), translator()
    return [quoted(str(labels[f]), tr) for f in fields if f in labels]


@cache
def _form_labels() -> dict[str, object]:
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    found: dict[str, list[object]] = {}
    forms = list(FlaskForm.__subclasses__())
    while forms:
        form = forms.pop()
        forms.extend(form.__subclasses__())
        for name, field in vars(form).items():
            if isinstance(field, UnboundField):
                label = field.kwargs.get("label", field.args[0] if field.args else None)
                if label is not None:
                    found.setdefault(name, []).append(label)
    return {name: ls[0] for name, ls in found.items() if len({str(x) for x in ls}) == 1}


def _unstorable_value(error: Exception) -> ResponseReturnValue:
    from app.extensions import db

    db.session.rollback()
    if errors.wants_json():
        return errors.error_response(400, "A value cannot be stored; nothing was saved.")
    return render_template("error.html", status=400), 400


def _server_error(error: Exception) -> ResponseReturnValue:
    if errors.wants_json():
        return errors.error_response(500, "The request could not be completed.")
    return render_template("error.html", status=500), 500


def _database_unavailable(error: Exception) -> ResponseReturnValue:
    from app.extensions import db, login

    logging.getLogger(__name__).warning("database unavailable: %s", type(error).__name__)
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.remove()
    if errors.wants_json():
        response = errors.error_response(503, "The database cannot be reached; try again.")
        response.headers["Retry-After"] = "30"
        return response
    # Nobody can be looked up now: every template would try (Flask-Login's
    # current_user), so this request goes on as anonymous, on a page of its own.
    g._login_user = login.anonymous_user()
    page = render_template("unavailable.html")
    return page, 503, {"Retry-After": "30"}
