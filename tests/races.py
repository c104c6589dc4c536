"""Two processes doing the same thing at the same moment, on one database.

Each process runs `script` (Python source) with its arguments; the script
touches `<folder>/ready-<key>` once it is set up and waits for `<folder>/go`
before it acts, so that the actions really overlap. What each said comes
back once all are done.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).parents[1]
WAIT_SECONDS = 60


def at_once(
    url: str, folder: Path, script: str, runs: Mapping[object, Sequence[object]]
) -> list[tuple[int, str, str]]:
    """Runs `script` once per key of `runs` (its arguments, then `folder`),
    lets them go together, and returns each one's exit code, output and
    errors, in the order of `runs`."""
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "race-test-secret",
        "QUALIPLAN_QUEUE_URL": "memory://",
        "PYTHONUNBUFFERED": "1",
    }
    started = [
        subprocess.Popen(
            [sys.executable, "-c", script, *map(str, arguments), str(folder)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for arguments in runs.values()
    ]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not all((folder / f"ready-{key}").exists() for key in runs):
            assert time.monotonic() < deadline, [run.poll() for run in started]
            time.sleep(0.05)
        (folder / "go").touch()
        outcomes = [run.communicate(timeout=WAIT_SECONDS) for run in started]
    finally:
        for run in started:
            if run.poll() is None:
                run.kill()
    return [(run.returncode, out, err) for run, (out, err) in zip(started, outcomes, strict=True)]
