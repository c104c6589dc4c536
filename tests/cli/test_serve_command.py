"""`qualiplan serve`: the production server, and what it refuses to do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app import MissingSecretKey, create_app
from config import ProductionConfig

QUALIPLAN = str(Path(sys.executable).with_name("qualiplan"))


def test_serve_refuses_to_start_without_a_secret_key(qualiplan, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = qualiplan("serve")
    assert result.code == 2
    assert "SECRET_KEY ist nicht gesetzt" in result.err


def test_the_production_app_refuses_to_start_without_a_secret_key(tmp_path):
    config = type(
        "Unset",
        (ProductionConfig,),
        {"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'q.db'}"},
    )
    with pytest.raises(MissingSecretKey, match="SECRET_KEY is not set"):
        create_app(config)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- loopback
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_serve_runs_gunicorn_and_keeps_secret_links_out_of_its_access_log(tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "SECRET_KEY": "serve-test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'qualiplan.db'}",
    }
    subprocess.run([QUALIPLAN, "db", "upgrade"], env=environment, check=True, capture_output=True)
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [QUALIPLAN, "serve", "--port", str(port), "--workers", "1"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    token = "x" * 43
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                assert get(base + "/health") == 200
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("qualiplan serve did not answer")
        assert get(f"{base}/feeds/{token}.ics") == 404
        assert get(base + "/login") == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "server.log").read_text()
    assert "Booting worker" in output
    assert "/feeds/[hidden]" in output
    assert token not in output
