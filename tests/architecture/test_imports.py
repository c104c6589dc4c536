"""Every module of the shell imports on its own, whichever is imported first:
a circular import that the app's own import order hides breaks a script or
a command that starts from another module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

PROBE = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("app", "curricula", "cohorts")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ImportError as error:
        failed.append(f"{name}: {error}")
print("\\n".join(failed))
"""


def _modules() -> list[str]:
    found = []
    for package in ("app/services", "app/views", "app/exports", "app/api"):
        for path in sorted((ROOT / package).glob("*.py")):
            found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_each_module_imports_first():
    modules = _modules()
    assert len(modules) > 40
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == ""
