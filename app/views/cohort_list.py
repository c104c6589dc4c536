"""The cohort list: every cohort of the user's organisations, searched,
filtered, sorted and a page at a time; the filters live in the address."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.i18n import current_language, sentence, translator
from app.models import CurriculumRecord
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
        short_day=short_day,
        number=number,
        curriculum_title=curriculum_title,
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


def short_day(day: date) -> str:
    """A date in a list: 16.03.2026 (16 Mar 2026 in English)."""
    language = current_language()
    return format_date(day, "dd.MM.yyyy" if language == "de" else "d MMM yyyy", locale=language)


def number(value: int) -> str:
    return format_decimal(value, locale=current_language())


def curriculum_title(record: CurriculumRecord) -> str:
    """A curriculum's title; a fork's with its client's name."""
    title = record.title(current_language())
    if record.organisation is None:
        return title
    return translator().gettext(
        "%(title)s (for %(client)s)", title=title, client=record.organisation.name
    )
