"""The commands that set up an installation, run as an admin would run them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).with_name("qualiplan")


@pytest.fixture
def qualiplan_on(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "SECRET_KEY": "test",
        "QUALIPLAN_LANGUAGE": "en",
    }
    env.pop("QUALIPLAN_DEBUG", None)

    def run(*args, stdin=""):
        return subprocess.run(
            [str(COMMAND), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )

    assert run("db", "upgrade").returncode == 0
    return run


def test_first_organisation_and_admin(qualiplan_on):
    created = qualiplan_on("organisations", "create", "Muster AG", "--region", "DE-BY")
    assert created.returncode == 0, created.stderr
    user = qualiplan_on(
        "users",
        "create",
        "--role",
        "admin",
        "--organisation",
        "Muster AG",
        "--password-stdin",
        "Chefin@Muster.example",
        stdin="a long enough password\n",
    )
    assert user.returncode == 0, user.stderr
    assert user.stdout.strip() == "chefin@muster.example (admin)"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["users", "create", "--role", "boss", "--password-stdin", "a@b.example"],
            "x" * 12,
            "Error: --role: 'boss' is not a role; use admin, trainer, consultant, hr",
        ),
        (
            ["users", "create", "--role", "hr", "--password-stdin", "a@b.example"],
            "short\n",
            "Error: the password needs at least 12 characters",
        ),
        (
            [
                "users",
                "create",
                "--role",
                "hr",
                "--organisation",
                "Nirgendwo",
                "--password-stdin",
                "a@b.example",
            ],
            "x" * 12,
            "Error: there is no organisation called 'Nirgendwo'",
        ),
        (
            ["organisations", "create", "X GmbH", "--region", "DE-XX"],
            "",
            "Error: unknown region 'DE-XX': DE has no subdivision 'XX'",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(qualiplan_on, args, stdin, message):
    result = qualiplan_on(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_demo_data_goes_into_an_empty_database_only(qualiplan_on):
    first = qualiplan_on("demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "admin@qualiplan.example" in first.stdout
    assert "lernbegleitung-demo" in first.stdout
    again = qualiplan_on("demo", "--if-empty")
    assert (again.returncode, again.stdout) == (0, "")
    refused = qualiplan_on("demo")
    assert refused.returncode == 2
    assert refused.stderr.startswith("Error: the database has data already")
