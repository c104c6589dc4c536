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

    def run(*args, stdin="", **settings):
        return subprocess.run(
            [str(COMMAND), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**env, **settings},
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


def test_an_organisation_with_a_time_zone_and_every_problem_on_one_line(qualiplan_on):
    made = qualiplan_on("organisations", "create", "Wien GmbH", "--timezone", "Europe/Vienna")
    assert made.returncode == 0, made.stderr
    args = ["organisations", "create", "", "--region", "DE-XX", "--timezone", "Mars/X"]
    result = qualiplan_on(*args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: the organisation needs a name; unknown region 'DE-XX'")
    assert line.endswith(
        "'Mars/X' is not a known time zone; a name such as Europe/Berlin is expected"
    )


def test_an_invitation_prints_the_link_to_set_a_password(qualiplan_on):
    assert qualiplan_on("organisations", "create", "Muster AG").returncode == 0
    args = ["users", "invite", "Nina@Muster.example", "--name", "Nina Neu", "--role", "hr"]
    made = qualiplan_on(*args, "--organisation", "Muster AG")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("/reset/")
    refused = qualiplan_on(
        "users", "invite", "x", "--name", "X", "--role", "boss", "--organisation", "Muster AG"
    )
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert line == "Error: 'x' is not an e-mail address; 'boss' is not a role"
    again = qualiplan_on(*args, "--organisation", "Muster AG")
    assert again.stderr.startswith("Error: an account for nina@muster.example exists already")


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


def test_an_admin_who_lost_the_password_gets_a_link_and_accounts_can_be_deactivated(
    qualiplan_on, tmp_path
):
    from datetime import UTC, datetime

    from app.extensions import db
    from app.models import User
    from app.services import password_resets
    from tests.conftest import app_for

    assert qualiplan_on("organisations", "create", "Muster AG").returncode == 0
    for email in ("chefin@muster.example", "t@muster.example"):
        made = qualiplan_on(
            "users",
            "create",
            "--role",
            "admin",
            "--organisation",
            "Muster AG",
            "--password-stdin",
            email,
            stdin="a long enough password\n",
        )
        assert made.returncode == 0, made.stderr
    public = "https://qualiplan.example.org"
    link = qualiplan_on(
        "users", "reset-link", "Chefin@Muster.example", QUALIPLAN_PUBLIC_URL=public
    )
    assert link.returncode == 0, link.stderr
    assert link.stdout.startswith(f"{public}/reset/")
    token = link.stdout.strip().rsplit("/", 1)[1]
    bare = qualiplan_on("users", "reset-link", "t@muster.example")
    assert bare.stdout.startswith("/reset/")  # without the setting only the path

    assert qualiplan_on("users", "deactivate", "t@muster.example").stdout == (
        "t@muster.example: deactivated\n"
    )
    unknown = qualiplan_on("users", "deactivate", "nobody@muster.example")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("Error: there is no account for nobody@muster.example")

    app = app_for(f"sqlite:///{tmp_path / 'fresh.db'}")
    with app.app_context():
        holder = password_resets.holder(token, datetime.now(UTC))
        assert holder is not None
        assert holder.email == "chefin@muster.example"
        gone = db.session.scalar(db.select(User).where(User.email == "t@muster.example"))
        assert not gone.active
        assert gone.reset_token_hash is None  # the link in flight ended too
        db.engine.dispose()
    assert qualiplan_on("users", "activate", "t@muster.example").stdout == (
        "t@muster.example: active\n"
    )
