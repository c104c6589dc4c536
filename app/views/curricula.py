"""The workbench: curricula, their versions on a relative time axis, forks,
drafts edited element by element, upstream changes, moving cohorts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.exports.timeline import Bar, Lane, Legend, timeline_svg
from app.extensions import db
from app.forms.curricula import (
    CertificateForm,
    DraftForm,
    ElementForm,
    ForkForm,
    ImportForm,
    NewElementForm,
    TakeForm,
)
from app.i18n import Translator, refusal, translator
from app.models import Cohort, CurriculumRecord, CurriculumVersion, Organisation
from app.services import curricula as workbench
from app.services.cohorts import TrainerConflict
from app.services.curricula import DraftChanged, WorkbenchError
from app.views.access import organisation_ids, owned_or_404
from app.views.cohorts import PLANNERS
from cohorts.errors import CoreError
from curricula.loader import CurriculumError
from curricula.messages import msg
from curricula.model import MODE_TITLES, STANDARD_KINDS, Curriculum, Mode, Span
from curricula.timeline import nominal_layout
from curricula.versions import MergeConflict

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
}


def _record(curriculum_id: int) -> CurriculumRecord:
    """A standard (everyone sees those) or a curriculum of the user's organisations."""
    record = db.session.get(CurriculumRecord, curriculum_id)
    if record is None or (
        record.organisation_id is not None and record.organisation_id not in organisation_ids()
    ):
        abort(404)
    return record


def _editable(curriculum_id: int) -> CurriculumRecord:
    record = _record(curriculum_id)
    if record.is_standard or current_user.role not in PLANNERS:
        abort(403)
    return record


def _version(record: CurriculumRecord, version_id: int) -> CurriculumVersion:
    version = db.session.get(CurriculumVersion, version_id)
    if version is None or version.curriculum_id != record.id:
        abort(404)
    return version


@bp.get("")
def index() -> str:
    return render_template("curricula/index.html", records=workbench.visible(organisation_ids()))


@bp.get("/<int:curriculum_id>")
def show(curriculum_id: int) -> str:
    record = _record(curriculum_id)
    tr = translator()
    draft = workbench.draft_of(record)
    newest = workbench.latest_published(record)
    shown = draft or newest
    fork_form = ForkForm()
    fork_form.organisation.choices = [
        (o.id, o.name) for o in sorted(current_user.organisations, key=lambda o: o.name)
    ]
    return render_template(
        "curricula/show.html",
        record=record,
        draft=draft,
        newest=newest,
        shown=shown,
        model=shown.model if shown else None,
        picture=_shape(shown.model, tr) if shown else None,
        can_edit=not record.is_standard and current_user.role in PLANNERS,
        can_fork=record.is_standard
        and current_user.role in PLANNERS
        and bool(fork_form.organisation.choices),
        fork_form=fork_form,
        draft_form=DraftForm(version=draft.lock_version if draft else 0),
        new_element=NewElementForm(version=draft.lock_version if draft else 0),
        import_form=ImportForm(),
        upstream=workbench.upstream_state(record),
        own_changes=workbench.own_changes(shown) if shown else (),
        movable=workbench.movable_cohorts(record, newest) if newest else [],
        forks=[f for f in _forks(record)],
    )


def _forks(record: CurriculumRecord) -> list[CurriculumRecord]:
    return [r for r in workbench.visible(organisation_ids()) if r.upstream_id == record.id]


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
    record = _record(curriculum_id)
    version = _version(record, version_id)
    name = f"{record.key}-v{version.number}.toml"
    return Response(
        version.source,
        content_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/<int:curriculum_id>/fork")
def fork(curriculum_id: int) -> ResponseReturnValue:
    record = _record(curriculum_id)
    if current_user.role not in PLANNERS:
        abort(403)
    form = ForkForm()
    form.organisation.choices = [(o.id, o.name) for o in current_user.organisations]
    tr = translator()
    newest = workbench.latest_published(record)
    if not form.validate_on_submit() or newest is None:
        flash(tr.gettext("Choose the organisation the copy is for."), "error")
        return redirect(url_for("curricula.show", curriculum_id=record.id))
    organisation = owned_or_404(Organisation, form.organisation.data, "id")
    try:
        copy = workbench.fork(newest, organisation, current_user)
        db.session.commit()
    except WorkbenchError as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
        return redirect(url_for("curricula.show", curriculum_id=record.id))
    flash(
        tr.gettext(
            "A draft for %(organisation)s is ready to adapt.", organisation=organisation.name
        ),
        "success",
    )
    return redirect(url_for("curricula.show", curriculum_id=copy.id))


def _draft_action(curriculum_id: int, work: Any, form: Any = None) -> ResponseReturnValue:
    """One change of the draft in a transaction; a refusal changes nothing."""
    record = _editable(curriculum_id)
    form = form or DraftForm()
    tr = translator()
    if not form.validate_on_submit() or not str(form.version.data).isdigit():
        flash(tr.gettext("The form was incomplete or has expired; please try again."), "error")
        return redirect(url_for("curricula.show", curriculum_id=record.id))
    try:
        done = work(record, int(form.version.data))
        db.session.commit()
    except CurriculumError as error:
        db.session.rollback()
        for problem in error.problems:
            flash(refusal(tr.localize(problem.describe())), "error")
    except (WorkbenchError, MergeConflict, CoreError) as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
    except StaleDataError:
        db.session.rollback()
        flash(refusal(tr.localize(DraftChanged().message)), "error")
    else:
        if done:
            flash(done, "success")
    return redirect(url_for("curricula.show", curriculum_id=record.id))


@bp.post("/<int:curriculum_id>/draft")
def start_draft(curriculum_id: int) -> ResponseReturnValue:
    def work(record: CurriculumRecord, _: int) -> str:
        draft = workbench.start_draft(record)
        return translator().gettext("Draft of version %(number)d started.", number=draft.number)

    return _draft_action(curriculum_id, work)


def _the_draft(record: CurriculumRecord) -> CurriculumVersion:
    draft = workbench.draft_of(record)
    if draft is None:
        raise WorkbenchError(msg("there is no draft; start one first"))
    return draft


@bp.post("/<int:curriculum_id>/draft/publish")
def publish(curriculum_id: int) -> ResponseReturnValue:
    def work(record: CurriculumRecord, expected: int) -> str:
        draft = _the_draft(record)
        number = draft.number
        workbench.publish(draft, current_user, expected_version=expected)
        return translator().gettext(
            "Version %(number)d is published; it never changes again.", number=number
        )

    return _draft_action(curriculum_id, work)


@bp.post("/<int:curriculum_id>/draft/discard")
def discard(curriculum_id: int) -> ResponseReturnValue:
    def work(record: CurriculumRecord, expected: int) -> str:
        workbench.discard(_the_draft(record), expected_version=expected)
        return translator().gettext("The draft was discarded.")

    return _draft_action(curriculum_id, work)


@bp.post("/<int:curriculum_id>/draft/elements")
def add_element(curriculum_id: int) -> ResponseReturnValue:
    form = NewElementForm()

    def work(record: CurriculumRecord, expected: int) -> str:
        draft = _the_draft(record)
        key = form.key.data.strip()

        def change(data: dict[str, Any]) -> None:
            last = data["elements"][-1]
            data["elements"].append(
                {
                    "key": key,
                    "kind": last["kind"],
                    "title": {"de": form.title_de.data.strip(), "en": form.title_en.data.strip()},
                    "mode": last["mode"],
                    "start": "09:00",
                    "duration": "4h",
                    "after": last["key"],
                    "gap": {"min": "1w", "preferred": "2w", "max": "4w"},
                    "teaching_hours": 4,
                }
            )

        workbench.edit(draft, change, expected_version=expected)
        return translator().gettext("The element %(key)s was added.", key=key)

    return _draft_action(curriculum_id, work, form)


@bp.post("/<int:curriculum_id>/draft/elements/<key>/remove")
def remove_element(curriculum_id: int, key: str) -> ResponseReturnValue:
    def work(record: CurriculumRecord, expected: int) -> str:
        draft = _the_draft(record)
        _known(draft, key)

        def change(data: dict[str, Any]) -> None:
            data["elements"] = [e for e in data["elements"] if e["key"] != key]
            rule = data["certificate"]
            rule["required"] = [k for k in rule["required"] if k != key]
            for at_least in rule.get("at_least", []):
                at_least["of"] = [k for k in at_least["of"] if k != key]

        workbench.edit(draft, change, expected_version=expected)
        return translator().gettext("The element %(key)s was removed.", key=key)

    return _draft_action(curriculum_id, work)


@bp.post("/<int:curriculum_id>/draft/elements/<key>/up")
def move_up(curriculum_id: int, key: str) -> ResponseReturnValue:
    return _move_element(curriculum_id, key, "up")


@bp.post("/<int:curriculum_id>/draft/elements/<key>/down")
def move_down(curriculum_id: int, key: str) -> ResponseReturnValue:
    return _move_element(curriculum_id, key, "down")


def _move_element(curriculum_id: int, key: str, direction: str) -> ResponseReturnValue:
    def work(record: CurriculumRecord, expected: int) -> str:
        draft = _the_draft(record)
        _known(draft, key)

        def change(data: dict[str, Any]) -> None:
            elements = data["elements"]
            index = next(i for i, e in enumerate(elements) if e["key"] == key)
            other = index - 1 if direction == "up" else index + 1
            if 0 <= other < len(elements):
                elements[index], elements[other] = elements[other], elements[index]
            if elements and "after" in elements[0] and elements[0]["after"] is not None:
                raise WorkbenchError(msg("the first element must sit on the cohort start"))

        workbench.edit(draft, change, expected_version=expected)
        return ""

    return _draft_action(curriculum_id, work)


def _known(draft: CurriculumVersion, key: str) -> None:
    if key not in {e.key for e in draft.model.elements}:
        abort(404)


@bp.route("/<int:curriculum_id>/draft/elements/<key>", methods=["GET", "POST"])
def edit_element(curriculum_id: int, key: str) -> ResponseReturnValue:
    record = _editable(curriculum_id)
    draft = workbench.draft_of(record)
    if draft is None:
        abort(404)
    model = draft.model
    _known(draft, key)
    tr = translator()
    form = ElementForm()
    _choices(form, model, key, tr)
    data = workbench.element_data(model, key)
    if not form.is_submitted():
        _fill(form, data, draft)
    elif form.validate_on_submit() and str(form.version.data).isdigit():
        values = _values(form, data)

        def change(mapping: dict[str, Any]) -> None:
            mapping["elements"] = [values if e["key"] == key else e for e in mapping["elements"]]

        if _save_draft(
            draft, change, form.version.data, lambda error: _show_problems(form, error, key, tr)
        ):
            return redirect(
                url_for("curricula.show", curriculum_id=record.id, _anchor=f"element-{key}")
            )
    status = 400 if form.is_submitted() else 200
    element = model.element(key)
    return render_template(
        "curricula/element.html", record=record, draft=draft, element=element, form=form
    ), status


def _save_draft(
    draft: CurriculumVersion,
    change: Any,
    version: str,
    on_problems: Any,
) -> bool:
    """Store one change of the draft from a form page; True when it was saved.
    The loader's problems go to `on_problems`, to be shown at their fields."""
    tr = translator()
    try:
        workbench.edit(draft, change, expected_version=int(version))
        db.session.commit()
    except CurriculumError as error:
        db.session.rollback()
        on_problems(error)
        return False
    except (WorkbenchError, StaleDataError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, WorkbenchError) else DraftChanged().message
        flash(refusal(tr.localize(message)), "error")
        return False
    flash(tr.gettext("Saved. Publish the draft when it is ready."), "success")
    return True


def _choices(form: ElementForm, model: Curriculum, key: str, tr: Translator) -> None:
    kinds = [(k, t.get(tr.language)) for k, t in STANDARD_KINDS.items()]
    kinds += [(k, t.get(tr.language)) for k, t in model.custom_kinds]
    form.kind.choices = kinds
    form.mode.choices = [(m.value, MODE_TITLES[m].get(tr.language)) for m in Mode]
    others = [(e.key, e.title.get(tr.language)) for e in model.elements if e.key != key]
    first = model.elements[0].key == key
    form.after.choices = ([("", tr.gettext("– the cohort's start –"))] if first else []) + others


def _fill(form: ElementForm, data: dict[str, Any], draft: CurriculumVersion) -> None:
    form.version.data = str(draft.lock_version)
    form.kind.data, form.mode.data = data["kind"], data["mode"]
    form.title_de.data, form.title_en.data = data["title"]["de"], data["title"]["en"]
    form.start.data = data.get("start", "")
    form.duration.data = data.get("duration", "")
    form.span.data = data.get("span", "")
    form.after.data = data.get("after") or ""
    gap = data.get("gap", {})
    form.gap_min.data = gap.get("min", "")
    form.gap_preferred.data = gap.get("preferred", "")
    form.gap_max.data = gap.get("max", "")
    form.teaching_hours.data = str(data.get("teaching_hours", 0)).replace(".", ",")
    form.counts_for_certificate.data = data.get("counts_for_certificate", True)
    form.topics.data = "\n".join(f"{t['de']} | {t['en']}" for t in data.get("topics", []))


def _values(form: ElementForm, current: dict[str, Any]) -> dict[str, Any]:
    """The form in the file format's terms; the loader judges them."""
    values: dict[str, Any] = {
        "key": current["key"],
        "kind": form.kind.data,
        "title": {"de": form.title_de.data.strip(), "en": form.title_en.data.strip()},
        "mode": form.mode.data,
    }
    if (form.span.data or "").strip():
        values["span"] = form.span.data.strip()
    else:
        for name in ("start", "duration"):
            text = (getattr(form, name).data or "").strip()
            if text:
                values[name] = text
    if form.after.data:
        values["after"] = form.after.data
        gap = {
            bound: text.strip()
            for bound, text in (
                ("min", form.gap_min.data),
                ("preferred", form.gap_preferred.data),
                ("max", form.gap_max.data),
            )
            if text and text.strip()
        }
        if gap:
            values["gap"] = gap
    hours = (form.teaching_hours.data or "0").strip().replace(",", ".")
    try:
        values["teaching_hours"] = float(hours)
    except ValueError:
        values["teaching_hours"] = hours  # the loader names the problem
    if not form.counts_for_certificate.data:
        values["counts_for_certificate"] = False
    topics = []
    for line in (form.topics.data or "").splitlines():
        if line.strip():
            german, _, english = line.partition("|")
            topics.append({"de": german.strip(), "en": (english or german).strip()})
    if topics:
        values["topics"] = topics
    for name in ("description", "preparation"):
        if name in current:
            values[name] = current[name]
    return values


def _show_problems(form: ElementForm, error: CurriculumError, key: str, tr: Translator) -> None:
    for problem in error.problems:
        name = _FIELDS.get(problem.field or "", problem.field or "")
        field = getattr(form, name, None) if problem.element == key else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, tr.localize(problem.message)]
        else:
            flash(refusal(tr.localize(problem.describe())), "error")


@bp.route("/<int:curriculum_id>/draft/certificate", methods=["GET", "POST"])
def certificate(curriculum_id: int) -> ResponseReturnValue:
    """The certificate rule of the draft: required elements and "at least n of"."""
    record = _editable(curriculum_id)
    draft = workbench.draft_of(record)
    if draft is None:
        abort(404)
    model = draft.model
    tr = translator()
    form = CertificateForm()
    form.required.choices = [
        (e.key, e.title.get(tr.language)) for e in model.elements if e.counts_for_certificate
    ]
    if not form.is_submitted():
        form.version.data = str(draft.lock_version)
        form.required.data = list(model.certificate.required)
        form.at_least.data = "\n".join(
            f"{r.count}: {', '.join(r.of)}" for r in model.certificate.at_least
        )
        share = model.certificate.min_hours_share
        form.min_hours_percent.data = round(share * 100) if share is not None else None
    elif form.validate_on_submit() and str(form.version.data).isdigit():
        rules = _at_least(form.at_least.data or "")
        if rules is None:
            form.at_least.errors = [
                tr.gettext("Write each rule as a number, a colon and element keys, e.g. 1: a, b")
            ]
        else:

            def change(data: dict[str, Any]) -> None:
                data["certificate"] = {"required": list(form.required.data or [])}
                if rules:
                    data["certificate"]["at_least"] = rules
                if form.min_hours_percent.data:
                    data["certificate"]["min_hours_share"] = form.min_hours_percent.data / 100

            def problems(error: CurriculumError) -> None:
                form.at_least.errors = [tr.localize(p.describe()) for p in error.problems]

            if _save_draft(draft, change, form.version.data, problems):
                return redirect(url_for("curricula.show", curriculum_id=record.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "curricula/certificate.html", record=record, draft=draft, form=form
    ), status


def _at_least(text: str) -> list[dict[str, Any]] | None:
    """Lines "n: key, key" as the file format's at_least tables; None if unreadable."""
    rules: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        count, colon, keys = line.partition(":")
        if not colon or not count.strip().isdigit():
            return None
        rules.append(
            {"count": int(count), "of": [k.strip() for k in keys.split(",") if k.strip()]}
        )
    return rules


@bp.post("/<int:curriculum_id>/import")
def import_file(curriculum_id: int) -> ResponseReturnValue:
    record = _editable(curriculum_id)
    form = ImportForm()
    tr = translator()
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8-sig")
            workbench.import_source(record, text, expected_version=None)
            db.session.commit()
        except UnicodeDecodeError:
            db.session.rollback()
            flash(refusal(tr.gettext("The file is not UTF-8 text.")), "error")
        except CurriculumError as error:
            db.session.rollback()
            for problem in error.problems:
                flash(refusal(tr.localize(problem.describe())), "error")
        except WorkbenchError as error:
            db.session.rollback()
            flash(refusal(tr.localize(error.message)), "error")
        else:
            flash(tr.gettext("The file is now the draft; check it and publish."), "success")
    else:
        flash(tr.gettext("Choose a curriculum file."), "error")
    return redirect(url_for("curricula.show", curriculum_id=record.id))


@bp.post("/<int:curriculum_id>/upstream/take")
def take_upstream(curriculum_id: int) -> ResponseReturnValue:
    form = TakeForm()

    def work(record: CurriculumRecord, expected: int) -> str:
        workbench.take_upstream(
            record,
            form.change.data,
            overwrite=form.overwrite.data == "1",
            expected_version=expected,
        )
        return translator().gettext("The change is in the draft now.")

    return _draft_action(curriculum_id, work, form)


@bp.post("/<int:curriculum_id>/upstream/keep")
def keep_mine(curriculum_id: int) -> ResponseReturnValue:
    def work(record: CurriculumRecord, expected: int) -> str:
        workbench.keep_mine(record, expected_version=expected)
        return translator().gettext("The remaining changes were left out; the draft is in step.")

    return _draft_action(curriculum_id, work)


@bp.route("/<int:curriculum_id>/cohorts/<int:cohort_id>", methods=["GET", "POST"])
def move_cohort(curriculum_id: int, cohort_id: int) -> ResponseReturnValue:
    """Preview a planned cohort's dates on the newest version, then move it."""
    record = _editable(curriculum_id)
    cohort = owned_or_404(Cohort, cohort_id)
    newest = workbench.latest_published(record)
    if newest is None or cohort.version.curriculum_id != record.id:
        abort(404)
    tr = translator()
    form = DraftForm(version=cohort.lock_version)
    saving = request.method == "POST"
    try:
        if saving and not (
            form.validate_on_submit() and form.version.data == str(cohort.lock_version)
        ):
            raise WorkbenchError(
                msg("the cohort changed since the preview; check the new preview")
            )
        rows = workbench.move_to_version(
            cohort,
            newest,
            current_user,
            today=date.today(),
            save_changes=saving,
            language=tr.language,
        )
        if saving:
            db.session.commit()
            flash(
                tr.gettext(
                    "%(name)s now follows version %(number)d.",
                    name=cohort.name,
                    number=newest.number,
                ),
                "success",
            )
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    except (WorkbenchError, CoreError, TrainerConflict) as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
        if saving:
            return redirect(
                url_for("curricula.move_cohort", curriculum_id=record.id, cohort_id=cohort.id)
            )
        return redirect(url_for("curricula.show", curriculum_id=record.id))
    return render_template(
        "curricula/move.html",
        record=record,
        cohort=cohort,
        version=newest,
        rows=rows,
        form=DraftForm(version=cohort.lock_version),
    )
