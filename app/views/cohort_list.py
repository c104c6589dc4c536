"""The cohort list: every cohort of the user's organisations, searched,
filtered, sorted and a page at a time; the filters live in the address."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache, partial

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.filters import state_title
from app.i18n import current_language, sentence, translator
from app.models import CohortState, CurriculumRecord
from app.services import cohort_list, policy
from app.services.policy import Action
from app.views.access import actor

bp = Blueprint("cohort_list", __name__)


@bp.get("/cohorts")
def index() -> ResponseReturnValue:
    acting = actor()
    filters, notices = cohort_list.read_filters(request.args)
    found = cohort_list.cohort_list(acting, filters, datetime.now(UTC).date())
    tr = translator()
    language = tr.language
    me = acting.user
    trainer_ids = {t.id for t in found.options.trainers}
    return render_template(
        "cohorts/index.html",
        found=found,
        filters=found.filters,
        notices=[sentence(tr.localize(n)) for n in [*notices, *found.notices]],
        page_numbers=page_numbers(found.page, found.pages),
        can_plan=policy.may(acting, Action.PLAN),
        my_id=me.id if me is not None and me.id in trainer_ids else None,
        short_day=partial(_short_day, language=language),
        number=partial(_number, language=language),
        curriculum_title=curriculum_title,
        # Texts that each row repeats, translated once per page.
        state_words={state: state_title(state) for state in CohortState},
        curriculum_titles={
            row.cohort.version_id: curriculum_title(row.cohort.version.curriculum)
            + ", "
            + tr.gettext("version %(number)s", number=row.cohort.version.number)
            for row in found.rows
        },
        of_capacity=tr.gettext("%(enrolled)s of %(capacity)s"),
    ), (404 if found.page_missing else 200)


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The pages to link to: the first, the last and two around the current
    one; None where pages are left out (shown as an ellipsis)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


# Both are asked for every row: Babel parses its locale on each call.
@lru_cache(maxsize=4096)
def _short_day(day: date, language: str) -> str:
    """A date in a list: 16.03.2026 (16 Mar 2026 in English)."""
    return format_date(day, "dd.MM.yyyy" if language == "de" else "d MMM yyyy", locale=language)


@lru_cache(maxsize=4096)
def _number(value: int, language: str) -> str:
    return format_decimal(value, locale=language)


def curriculum_title(record: CurriculumRecord) -> str:
    """A curriculum's title; a fork's with its client's name."""
    title = record.title(current_language())
    if record.organisation is None:
        return title
    return translator().gettext(
        "%(title)s (for %(client)s)", title=title, client=record.organisation.name
    )
