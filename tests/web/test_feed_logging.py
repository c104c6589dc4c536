"""Secret links never reach the logs, also the server's request lines."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Organisation, Participant, Purpose
from app.services import tokens
from tests.conftest import app_for, separate_database

CODE = "7KQ2M9XD4TRAHC3P"


def test_feed_and_page_tokens_and_certificate_codes_are_hidden_in_request_logs(tmp_path, caplog):
    with separate_database(tmp_path, "log_check") as url:
        app = app_for(url)
        with app.app_context():
            db.create_all()
            org = Organisation(name="Log AG")
            person = Participant(
                organisation=org, first_name="A", last_name="B", email="a@b.example"
            )
            db.session.add_all([org, person])
            db.session.flush()
            page = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
            feed = tokens.issue(Purpose.PARTICIPANT_FEED, person.id, org.id, None)
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{server.server_port}"
            with caplog.at_level(logging.INFO):
                for path in (f"/feeds/{feed}.ics", f"/p/{page}", f"/p/{page}/calendar.ics"):
                    with urllib.request.urlopen(base + path) as response:  # noqa: S310
                        assert response.status == 200
                with pytest.raises(urllib.error.HTTPError) as unknown:
                    urllib.request.urlopen(base + f"/verify/{CODE}")  # noqa: S310
                assert unknown.value.code == 404
                unknown.value.close()
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.drop_all()
                db.engine.dispose()
    requests = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(requests) == 4
    assert all("[hidden]" in line for line in requests)
    assert feed not in caplog.text
    assert page not in caplog.text
    assert CODE not in caplog.text
    assert all(" 200 " in line for line in requests[:3])
