"""The cohort list: every cohort of the user's organisations, searched,
filtered, sorted and a page at a time; the filters live in the address."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.filters import state_title
from app.i18n import current_language, sentence, translator
from app.lists import number, page_numbers, short_day
from app.models import CohortState, CurriculumRecord
from app.services import cohort_list, policy
from app.services.curricula import choice_label, version_label
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
        short_day=partial(short_day, language=language),
        number=partial(number, language=language),
        curriculum_title=curriculum_title,
        # Texts that each row repeats, translated once per page.
        state_words={state: state_title(state) for state in CohortState},
        curriculum_titles={
            row.cohort.version_id: version_label(row.cohort.version, language)
            for row in found.rows
        },
        of_capacity=tr.gettext("%(enrolled)s of %(capacity)s"),
    ), (404 if found.page_missing else 200)


def curriculum_title(record: CurriculumRecord) -> str:
    """A curriculum's name as every page gives it; a fork's with its client."""
    return choice_label(record, current_language())
