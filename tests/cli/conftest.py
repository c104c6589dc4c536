from dataclasses import dataclass

import pytest

from app.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def qualiplan(capsys, monkeypatch):
    """Run the `qualiplan` command in-process, as the console script does."""
    monkeypatch.delenv("QUALIPLAN_LANGUAGE", raising=False)

    def run(*args: str) -> Result:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        return Result(exited.value.code, captured.out, captured.err)

    return run


@pytest.fixture
def schedule(qualiplan):
    """`qualiplan schedule` for a cohort; extra arguments are appended."""

    def run(
        *extra: str, curriculum: str = "compact", start: str = "2027-03-01", region: str = "DE-BE"
    ) -> Result:
        return qualiplan(
            "schedule", "--curriculum", curriculum, "--start", start, "--region", region, *extra
        )

    return run
