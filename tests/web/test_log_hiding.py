"""A certificate code typed into the check form travels as `?code=…`; the
request line in the log hides it as it hides the path form `/verify/<code>`."""

from __future__ import annotations

import logging

import pytest

from app import throttle
from app.logs import HideTokens
from tests.real_server import fetch, served

CODE = "7KQ2M9XD4TRAHC3P"


def test_a_code_sent_by_the_check_form_is_hidden_in_the_request_log(tmp_path, caplog):
    with served(tmp_path, "code_log") as (app, base), caplog.at_level(logging.INFO):
        for query in (f"code={CODE}", "code=7kq2-m9xd-4tra-hc3p", "code=7KQ2+M9XD+4TRA+HC3P"):
            response = fetch(f"{base}/verify?{query}&lang=de")
            assert response.status == 302
            assert fetch(base + response.getheader("Location")).status == 404
        throttle.reset(app)
    requests = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(requests) == 6
    assert all("[hidden]" in line for line in requests)
    assert "?code=[hidden]&lang=de" in requests[0]
    for secret in (CODE, "7kq2-m9xd", "7KQ2+M9XD"):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /verify?code={CODE} HTTP/1.1", "GET /verify?code=[hidden] HTTP/1.1"),
        (
            f"GET /verify?lang=en&code={CODE} HTTP/1.1",
            "GET /verify?lang=en&code=[hidden] HTTP/1.1",
        ),
        (
            '"GET /verify?code=7KQ2%20M9XD HTTP/1.1" 302',
            '"GET /verify?code=[hidden] HTTP/1.1" 302',
        ),
        (f"GET /reset/{'r' * 43} HTTP/1.1", "GET /reset/[hidden] HTTP/1.1"),
        ("GET /verify HTTP/1.1", "GET /verify HTTP/1.1"),
    ],
)
def test_the_gunicorn_access_log_hides_the_same(line, expected):
    """gunicorn formats its access line from a dict of atoms (%(r)s is the request line)."""
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(r)s", None, None)
    record.args = {"r": line}
    assert HideTokens().filter(record)
    assert record.getMessage() == expected
