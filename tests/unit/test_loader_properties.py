"""The loader on structured hostile files: whatever a file holds, it is a
curriculum or a list of problems, never another exception; the problems
are short enough to show; a curriculum it takes writes back to itself and
plans, so that nothing fails later at publishing or scheduling."""

from __future__ import annotations

import contextlib
from datetime import date

from hypothesis import HealthCheck, given, settings

from cohorts.calendar import WorkingCalendar
from cohorts.errors import PlanningError
from cohorts.scheduling import plan
from curricula.loader import MAX_PROBLEMS, CurriculumError, load_text
from curricula.writer import to_toml
from tests.hostile_curricula import curriculum_files

CALENDAR = WorkingCalendar("DE-BY")


@given(content=curriculum_files())
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_any_file_is_a_curriculum_or_its_problems(content):
    text = content.decode("utf-8", "surrogatepass")
    problems: list = []
    try:
        curriculum = load_text(text, source="upload")
    except CurriculumError as error:
        problems = error.problems
    if problems:
        assert len(problems) <= MAX_PROBLEMS + 1
        assert all(len(str(problem)) < 2_000 for problem in problems)
        return
    assert load_text(to_toml(curriculum)) == curriculum
    # A refusal with its reason is fine (a gap that no working day keeps).
    with contextlib.suppress(PlanningError):
        plan(curriculum, date(2027, 1, 11), CALENDAR)
