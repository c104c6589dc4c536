"""Errors of the JSON API, always in one shape:

    {"error": {"status": 404, "code": "not_found", "message": "…", "details": {…}}}

`details` holds field problems of a request (422) and is otherwise empty.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int, message: str, details: Any = None, code: str | None = None
) -> Response:
    """The error shape; `code` is a refusal's own stable code, else the status's."""
    response = jsonify(
        error={
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": message,
            "details": details or {},
        }
    )
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="qualiplan"'
    return response


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    details = data.get("messages") if isinstance(data, dict) else None
    message = data.get("message") if isinstance(data, dict) else None
    return error_response(status, message or error.description or "", details)
