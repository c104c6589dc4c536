"""The workbench: curricula, their versions on a relative time axis, forks,
drafts edited element by element, upstream changes, moving cohorts.

Each handler parses its form, calls one use case of `app.services.curricula`
and maps the result; refusals and the commit are the commit point's
(`app.transactions`)."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app import transactions
from app.downloads import file_response
from app.exports.descriptions import certificate_rule
from app.exports.timeline import Bar, Lane, Legend, timeline_svg
from app.forms.curricula import (
    DURATION_MESSAGE,
    CertificateForm,
    DraftForm,
    ElementForm,
    ForkForm,
    ImportForm,
    NewElementForm,
    PublishForm,
    RenameForm,
    TakeForm,
)
from app.i18n import Translator, current_language, refusal, sentence, translator
from app.models import CurriculumVersion
from app.services import curricula as workbench
from app.services.curricula import InvalidCurriculum, WorkbenchError
from app.views.access import actor
from curricula import editing
from curricula.editing import Direction, ElementInput
from curricula.model import (
    MODE_TITLES,
    STANDARD_KINDS,
    AtLeast,
    Curriculum,
    Mode,
    Offset,
    Span,
    Text,
)
from curricula.timeline import nominal_layout

bp = Blueprint("curricula", __name__, url_prefix="/curricula")

# Form fields by the loader's field names, so a problem shows at its field.
_FIELDS = {
    "gap": "gap_preferred",
    "gap.min": "gap_min",
    "gap.preferred": "gap_preferred",
    "gap.max": "gap_max",
    "title": "title_de",
    "title.de": "title_de",
    "title.en": "title_en",
    "teaching_hours": "teaching_units",
    "topic.de": "topics_de",
    "topic.en": "topics_en",
}
# The certificate rule's fields by the loader's field names.
_RULE_FIELDS = {
    "certificate.required": "required",
    "certificate.min_hours_share": "min_hours_percent",
}


@bp.app_template_global("version_label")
def version_label(version: CurriculumVersion, *, with_curriculum: bool = True) -> str:
    """A curriculum version named the one way on every page ("…, Version 2")."""
    return workbench.version_label(version, current_language(), with_curriculum=with_curriculum)


@bp.get("")
def index() -> str:
    return render_template(
        "curricula/index.html",
        rows=workbench.overview(actor()),
        curriculum_label=workbench.choice_label,
    )


@bp.get("/<int:curriculum_id>")
def show(curriculum_id: int) -> str:
    return _show(curriculum_id)


def _show(
    curriculum_id: int,
    *,
    new_element: NewElementForm | None = None,
    rename: RenameForm | None = None,
) -> str:
    """The curriculum's page; a form sent back with its errors is shown as sent."""
    page = workbench.curriculum_page(actor(), curriculum_id)
    tr = translator()
    shown, draft = page.shown, page.draft
    fork_form = ForkForm()
    fork_form.organisation.choices = [(o.id, o.name) for o in page.fork_organisations]
    version = draft.lock_version if draft else 0
    record = page.record
    if rename is None:
        rename = RenameForm(
            formdata=None,
            prefix="rename",
            version=workbench.title_version(record),
            title_de=record.title_de,
            title_en=record.title_en,
        )
    model = shown.model if shown else None
    return render_template(
        "curricula/show.html",
        curriculum_label=workbench.choice_label,
        rule=certificate_rule(model, tr) if model else None,
        number=tr.number,
        rename_form=rename,
        record=page.record,
        upstream_record=page.upstream_record,
        draft=draft,
        newest=page.newest,
        shown=shown,
        model=shown.model if shown else None,
        picture=_shape(shown.model, tr) if shown else None,
        can_edit=page.can_edit,
        can_fork=page.can_fork,
        fork_form=fork_form,
        draft_form=DraftForm(version=version),
        new_element=new_element or NewElementForm(formdata=None, version=version),
        import_form=ImportForm(),
        upstream=page.upstream,
        own_changes=page.own_changes,
        movable=page.movable,
        forks=page.forks,
    )


def _shape(curriculum: Curriculum, tr: Translator) -> Any:
    """The elements on a relative axis: weeks from the start."""
    origin = date(2001, 1, 1)  # a Monday; only distances count
    layout = {p.element: p for p in nominal_layout(curriculum)}
    lanes = []
    for element in curriculum.elements:
        placed = layout[element.key]
        first = origin + timedelta(days=placed.first_day)
        last = origin + timedelta(days=placed.last_day)
        weeks = tr.ngettext("week %(num)d", "week %(num)d", placed.first_day // 7 + 1)
        lanes.append(
            Lane(
                label=element.title.get(tr.language),
                bars=(
                    Bar(
                        first,
                        last,
                        f"{element.title.get(tr.language)}: {weeks}",
                        "span" if isinstance(element.length, Span) else "meeting",
                        key=element.key,
                    ),
                ),
            )
        )
    end = origin + timedelta(days=max(p.last_day for p in layout.values()) + 3)
    return timeline_svg(
        lanes,
        origin,
        end,
        [],
        title=tr.gettext(
            "%(title)s from its start, in weeks", title=curriculum.title.get(tr.language)
        ),
        tick_label=lambda day: (
            tr.gettext("week %(number)d", number=(day - origin).days // 7 + 1)
            if (day - origin).days % (7 if (end - origin).days <= 120 else 28) == 0
            else None
        ),
        legend=Legend(
            meeting=tr.gettext("day or online session"), span=tr.gettext("self-study phase")
        ),
    )


@bp.get("/<int:curriculum_id>/versions/<int:version_id>.toml")
def export(curriculum_id: int, version_id: int) -> Response:
    record, version = workbench.exported_version(actor(), curriculum_id, version_id)
    response = file_response(
        version.source.encode("utf-8"), "application/toml", f"{record.key}-v{version.number}.toml"
    )
    response.content_type = "application/toml; charset=utf-8"
    return response


@bp.post("/<int:curriculum_id>/fork")
@transactions.web
def fork(curriculum_id: int) -> ResponseReturnValue:
    chosen = ForkForm().organisation.data
    copy = workbench.fork_curriculum(
        actor(), curriculum_id, chosen if isinstance(chosen, int) else None
    )
    organisation = copy.organisation.name if copy.organisation else ""
    flash(
        translator().gettext(
            "A draft for %(organisation)s is ready to adapt.", organisation=organisation
        ),
        "success",
    )
    return redirect(url_for("curricula.show", curriculum_id=copy.id), 303)


def _back(curriculum_id: int, done: str = "", anchor: str | None = None) -> ResponseReturnValue:
    if done:
        flash(done, "success")
    return redirect(url_for("curricula.show", curriculum_id=curriculum_id, _anchor=anchor), 303)


def _expected() -> str | None:
    """The lock version of what the page showed, as its form sent it."""
    value = DraftForm().version.data
    return str(value) if value is not None else None


@bp.post("/<int:curriculum_id>/draft")
@transactions.web
def start_draft(curriculum_id: int) -> ResponseReturnValue:
    draft = workbench.begin_draft(actor(), curriculum_id)
    tr = translator()
    return _back(
        curriculum_id, tr.gettext("Draft of version %(number)d started.", number=draft.number)
    )


@bp.get("/<int:curriculum_id>/draft/publish")
def confirm_publish(curriculum_id: int) -> ResponseReturnValue:
    """What publishing the draft will do, before anything happens."""
    preview = workbench.preview_publish(actor(), curriculum_id)
    return render_template(
        "curricula/confirm_publish.html",
        preview=preview,
        curriculum_label=workbench.choice_label,
        form=PublishForm(formdata=None, version=preview.draft.lock_version, confirmed="yes"),
    )


@bp.post("/<int:curriculum_id>/draft/publish")
@transactions.web
def publish(curriculum_id: int) -> ResponseReturnValue:
    form = PublishForm()
    expected = str(form.version.data) if form.version.data is not None else None
    if form.confirmed.data != "yes":
        # Nothing changes before the planner has seen what publishing does;
        # a page that showed an older draft is told so first.
        workbench.preview_publish(actor(), curriculum_id, expected_version=expected)
        return redirect(url_for("curricula.confirm_publish", curriculum_id=curriculum_id), 303)
    version = workbench.publish_draft(actor(), curriculum_id, expected_version=expected)
    done = translator().gettext(
        "Version %(number)d is published; it never changes again.", number=version.number
    )
    return _back(curriculum_id, done)


@bp.post("/<int:curriculum_id>/name")
@transactions.web
def rename(curriculum_id: int) -> ResponseReturnValue:
    """A fork's German and English title; errors at their fields."""
    form = RenameForm(prefix="rename")
    tr = translator()
    if form.validate():
        try:
            workbench.rename_curriculum(
                actor(),
                curriculum_id,
                Text(form.title_de.data, form.title_en.data),
                expected_version=form.version.data,
            )
        except InvalidCurriculum as error:
            _problems_at_fields(form, error, tr, element=None)
        else:
            return _back(curriculum_id, tr.gettext("The curriculum was renamed."))
    else:
        workbench.get_editable(actor(), curriculum_id)  # not found stays not found
    return _show(curriculum_id, rename=form), 400


@bp.post("/<int:curriculum_id>/draft/discard")
@transactions.web
def discard(curriculum_id: int) -> ResponseReturnValue:
    workbench.discard_draft(actor(), curriculum_id, expected_version=_expected())
    return _back(curriculum_id, translator().gettext("The draft was discarded."))


@bp.post("/<int:curriculum_id>/draft/elements")
@transactions.web
def add_element(curriculum_id: int) -> ResponseReturnValue:
    form = NewElementForm()
    tr = translator()
    if form.validate():
        title = Text(form.title_de.data, (form.title_en.data or "").strip() or form.title_de.data)
        try:
            key = workbench.add_element(
                actor(), curriculum_id, title, expected_version=form.version.data
            )
        except InvalidCurriculum as error:
            _problems_at_fields(form, error, tr, element=None, any_element=True)
        else:
            added = title.get(tr.language).strip()
            return _back(
                curriculum_id,
                tr.gettext("The element %(title)s was added.", title=added),
                anchor=f"element-{key}",
            )
    else:
        # Another organisation's curriculum is not found, whatever the form says.
        workbench.get_editable(actor(), curriculum_id)
    return _show(curriculum_id, new_element=form), 400


@bp.post("/<int:curriculum_id>/draft/elements/<key>/remove")
@transactions.web
def remove_element(curriculum_id: int, key: str) -> ResponseReturnValue:
    tr = translator()
    gone = workbench.remove_element(actor(), curriculum_id, key, expected_version=_expected())
    title = gone.title.get(tr.language)
    return _back(curriculum_id, tr.gettext("The element %(title)s was removed.", title=title))


@bp.post("/<int:curriculum_id>/draft/elements/<key>/up")
@transactions.web
def move_up(curriculum_id: int, key: str) -> ResponseReturnValue:
    return _move_element(curriculum_id, key, "up")


@bp.post("/<int:curriculum_id>/draft/elements/<key>/down")
@transactions.web
def move_down(curriculum_id: int, key: str) -> ResponseReturnValue:
    return _move_element(curriculum_id, key, "down")


def _move_element(curriculum_id: int, key: str, direction: Direction) -> ResponseReturnValue:
    workbench.move_element(actor(), curriculum_id, key, direction, expected_version=_expected())
    return _back(curriculum_id, anchor=f"element-{key}")


@bp.route("/<int:curriculum_id>/draft/elements/<key>", methods=["GET", "POST"])
@transactions.web
def edit_element(curriculum_id: int, key: str) -> ResponseReturnValue:
    page = workbench.draft_element(actor(), curriculum_id, key)
    tr = translator()
    form = ElementForm()
    _choices(form, page, tr)
    if not form.is_submitted():
        _fill(form, page.given, page.draft.lock_version)
    elif form.validate():
        try:
            workbench.change_element(
                actor(), curriculum_id, key, _given(form), expected_version=form.version.data
            )
        except (InvalidCurriculum, WorkbenchError) as error:
            _show_problems(form, error, key, tr)
            if form.duration.unreadable and form.duration.errors:
                # The check's text names the file's way of writing a duration.
                form.duration.errors = [str(DURATION_MESSAGE)]
        else:
            flash(tr.gettext("Saved. Publish the draft when it is ready."), "success")
            return _back(curriculum_id, anchor=f"element-{key}")
    status = 400 if form.is_submitted() else 200
    return render_template(
        "curricula/element.html",
        record=page.record,
        draft=page.draft,
        element=page.element,
        form=form,
    ), status


def _choices(form: ElementForm, page: workbench.DraftElement, tr: Translator) -> None:
    model = page.draft.model
    kinds = [(k, t.get(tr.language)) for k, t in STANDARD_KINDS.items()]
    kinds += [(k, t.get(tr.language)) for k, t in model.custom_kinds]
    form.kind.choices = kinds
    form.mode.choices = [(m.value, MODE_TITLES[m].get(tr.language)) for m in Mode]
    others = [(k, model.element(k).title.get(tr.language)) for k in page.after]
    start = [("", tr.gettext("– the cohort's start –"))] if page.on_start else []
    form.after.choices = start + others
    form.teaching_units.label.text = tr.gettext(
        "Teaching units of %(minutes)d minutes", minutes=model.unit_minutes
    )


_TEXTS = tuple(f.name for f in fields(ElementInput) if f.name != "counts_for_certificate")
# Distances, entered as a number and a unit; ElementInput holds them as "3w".
_DISTANCES = ("span", "gap_min", "gap_preferred", "gap_max")


def _fill(form: ElementForm, given: ElementInput, version: int) -> None:
    form.version.data = str(version)
    for name in _TEXTS:
        text = getattr(given, name)
        if name in _DISTANCES:
            getattr(form, name).data = Offset.parse(text) if text else None
        else:
            getattr(form, name).data = text
    form.counts_for_certificate.data = given.counts_for_certificate


def _given(form: ElementForm) -> ElementInput:
    texts = {
        name: str(getattr(form, name).data or "")
        if name in _DISTANCES
        else getattr(form, name).data or ""
        for name in _TEXTS
    }
    return ElementInput(**texts, counts_for_certificate=bool(form.counts_for_certificate.data))


def _show_problems(
    form: ElementForm, error: InvalidCurriculum | WorkbenchError, key: str, tr: Translator
) -> None:
    """Each problem at its field where the form has one, else on top of the page."""
    if isinstance(error, InvalidCurriculum):
        _problems_at_fields(form, error, tr, element=key)
    elif not _at_field(form, error.field, tr.localize(error.message)):
        raise error


def _problems_at_fields(
    form: Any,
    error: InvalidCurriculum,
    tr: Translator,
    *,
    element: str | None,
    any_element: bool = False,
    names: dict[str, str] = _FIELDS,
) -> None:
    """Every problem of the curriculum at the form's field it concerns (of
    the element `element`, or of the curriculum itself when None; of any
    element with `any_element`); the rest on top of the page."""
    for problem in error.problems:
        ours = any_element or problem.element == element
        text = sentence(tr.localize(problem.message))
        if not (ours and _at_field(form, problem.field, text, names)):
            flash(refusal(tr.localize(problem.describe())), "error")


def _at_field(form: Any, name: str | None, text: str, names: dict[str, str] = _FIELDS) -> bool:
    field = getattr(form, names.get(name, name), None) if name else None
    if field is None or not hasattr(field, "errors") or not hasattr(field, "label"):
        return False
    field.errors = [*field.errors, text]
    return True


@bp.route("/<int:curriculum_id>/draft/certificate", methods=["GET", "POST"])
@transactions.web
def certificate(curriculum_id: int) -> ResponseReturnValue:
    """The certificate rule of the draft: required elements and "at least n of"."""
    record, draft = workbench.editable_draft(actor(), curriculum_id)
    model = draft.model
    tr = translator()
    form = CertificateForm()
    choices = [
        (k, model.element(k).title.get(tr.language)) for k in editing.certificate_choices(model)
    ]
    form.required.choices = choices
    if not form.is_submitted():
        form.version.data = str(draft.lock_version)
        form.required.data = list(model.certificate.required)
        for group in model.certificate.at_least:
            form.at_least.append_entry({"count": group.count, "of": list(group.of)})
        share = model.certificate.min_hours_share
        form.min_hours_percent.data = round(share * 100) if share is not None else None
    if not form.at_least.entries or _filled(form.at_least.entries[-1].form):
        form.at_least.append_entry()  # room for one more rule
    for entry in form.at_least:
        entry.form.of.choices = choices
    if form.is_submitted() and form.validate():
        rules, entries = _rules(form, tr)
        if rules is not None:
            percent = form.min_hours_percent.data
            try:
                workbench.change_certificate_rule(
                    actor(),
                    curriculum_id,
                    required=form.required.data or [],
                    at_least=rules,
                    min_hours_share=percent / 100 if percent else None,
                    expected_version=form.version.data,
                )
            except InvalidCurriculum as error:
                _rule_problems(form, error, entries, tr)
            else:
                flash(tr.gettext("Saved. Publish the draft when it is ready."), "success")
                return _back(curriculum_id)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "curricula/certificate.html",
        record=record,
        draft=draft,
        form=form,
        curriculum_label=workbench.choice_label,
    ), status


def _filled(group: Any) -> bool:
    return group.count.data is not None or bool(group.of.data)


def _rules(form: CertificateForm, tr: Translator) -> tuple[list[AtLeast] | None, list[Any]]:
    """The filled rules of "at least n of", and the form of each; None where
    one is half filled (its field then says what is missing)."""
    rules: list[AtLeast] = []
    entries: list[Any] = []
    complete = True
    for entry in form.at_least:
        group = entry.form
        if not _filled(group):
            continue
        if group.count.data is None:
            group.count.errors = [*group.count.errors, tr.gettext("Give how many of them.")]
            complete = False
        elif not group.of.data:
            group.of.errors = [*group.of.errors, tr.gettext("Choose the elements of this rule.")]
            complete = False
        else:
            rules.append(AtLeast(group.count.data, tuple(group.of.data)))
            entries.append(group)
    return (rules if complete else None), entries


_RULE_PART = re.compile(r"^certificate\.at_least\[(\d+)\](?:\.(count|of))?$")


def _rule_problems(
    form: CertificateForm, error: InvalidCurriculum, entries: list[Any], tr: Translator
) -> None:
    """Each problem of the rule at the field it concerns; the rest on top."""
    for problem in error.problems:
        text = sentence(tr.localize(problem.message))
        name = problem.field or ""
        part = _RULE_PART.match(name)
        field = None
        if part and int(part.group(1)) <= len(entries):
            field = getattr(entries[int(part.group(1)) - 1], part.group(2) or "of")
        elif name in _RULE_FIELDS:
            field = getattr(form, _RULE_FIELDS[name])
        elif name == "certificate":
            field = form.required
        if field is None:
            flash(refusal(tr.localize(problem.describe())), "error")
        else:
            field.errors = [*field.errors, text]


@bp.post("/<int:curriculum_id>/import")
@transactions.web
def import_file(curriculum_id: int) -> ResponseReturnValue:
    upload = ImportForm().file.data
    workbench.import_file(actor(), curriculum_id, upload.read() if upload else None)
    done = translator().gettext("The file is now the draft; check it and publish.")
    return _back(curriculum_id, done)


@bp.post("/<int:curriculum_id>/upstream/take")
@transactions.web
def take_upstream(curriculum_id: int) -> ResponseReturnValue:
    form = TakeForm()
    workbench.take_upstream_change(
        actor(),
        curriculum_id,
        form.change.data,
        overwrite=form.overwrite.data == "1",
        expected_version=form.version.data,
    )
    return _back(curriculum_id, translator().gettext("The change is in the draft now."))


@bp.post("/<int:curriculum_id>/upstream/keep")
@transactions.web
def keep_mine(curriculum_id: int) -> ResponseReturnValue:
    workbench.keep_fork_as_is(actor(), curriculum_id, expected_version=_expected())
    done = translator().gettext("The remaining changes were left out; the draft is in step.")
    return _back(curriculum_id, done)


@bp.route("/<int:curriculum_id>/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@transactions.web
def move_cohort(curriculum_id: int, cohort_id: int) -> ResponseReturnValue:
    """Preview a planned cohort's dates on the newest version, then move it."""
    tr = translator()
    if request.method == "POST":
        moved = workbench.move_cohort_to_version(
            actor(),
            curriculum_id,
            cohort_id,
            expected_version=_expected(),
            today=date.today(),
            language=tr.language,
        )
        flash(
            tr.gettext(
                "%(name)s now follows version %(number)d.",
                name=moved.cohort.name,
                number=moved.version.number,
            ),
            "success",
        )
        return redirect(url_for("cohorts.show", cohort_id=cohort_id), 303)
    preview = workbench.preview_version_move(
        actor(), curriculum_id, cohort_id, today=date.today(), language=tr.language
    )
    return render_template(
        "curricula/move.html",
        record=preview.record,
        cohort=preview.cohort,
        version=preview.version,
        rows=preview.rows,
        form=DraftForm(version=preview.cohort.lock_version),
    )
