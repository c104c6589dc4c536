"""The consultant's workbench: fork a standard for a client, edit a draft,
publish it, keep it in step with its upstream, and move planned cohorts to
a newer version.

A draft is the only version that can change; publishing freezes it. Every
edit goes through the rules of editing (`curricula.editing`) and the file
format's loader, so a form and a file obey the same rules and report the
same problems.

The use cases take the actor first, check the policy and raise the domain
errors; they never commit. Below them, the record-level steps (`fork`,
`start_draft`, `edit`, `publish`, `move_to_version`) do the work for callers
that checked already (the use cases, the demo data, tests).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.folding import umlauts_spelled_out
from app.i18n import translations
from app.models import (
    Cohort,
    CohortState,
    CurriculumElement,
    CurriculumRecord,
    CurriculumVersion,
    Organisation,
    Session,
    SessionStatus,
    User,
)
from app.services import history, policy
from app.services.cohorts import check_trainers, new_session, working_calendar
from app.services.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    StaleEdit,
    expect_version,
)
from app.services.policy import Action, Actor
from app.services.standards import add_version
from cohorts.scheduling import Session as PlannedSession
from cohorts.scheduling import plan
from curricula import editing
from curricula.editing import Direction, EditRefused, UnknownElement
from curricula.loader import KEY_PATTERN, CurriculumError, Problem, load_text, size_problem
from curricula.messages import Message, msg
from curricula.model import AtLeast, Curriculum, Element, Mode, Text
from curricula.versions import UpstreamChange, differences, take, upstream_changes
from curricula.writer import to_mapping, to_toml


class WorkbenchError(DomainError):
    """A workbench action that cannot be done (not a draft, no upstream, …)."""

    code = "workbench"


class InvalidCurriculum(InvalidInput):
    """The edit would make a curriculum the file format does not allow;
    `problems` names each, with its element and field where it has them."""

    code = "invalid_curriculum"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            msg(
                "the curriculum would not be valid: {problems}",
                problems=[p.describe() for p in self.problems],
            )
        )


DRAFT_CHANGED = msg(
    "someone else changed this draft in the meantime; "
    "the page now shows the current state, please check and try again"
)
COHORT_CHANGED = msg("the cohort changed since the preview; check the new preview")


# Reading


def may_read(actor: Actor, record: CurriculumRecord) -> bool:
    """Standards are everyone's; any other curriculum its organisation's."""
    return record.organisation_id is None or actor.belongs_to(record.organisation_id)


# Legal forms a client's name may end with; a title that names the client
# without it ("… (Metallwerke Neckartal)") names it all the same.
_LEGAL_FORMS = re.compile(
    r"[\s,]+(gmbh\s*&\s*co\.?\s*kg|ggmbh|gmbh|ag|se|kg|kgaa|ohg|e\.\s?v\.|eg|ug"
    r"|\(haftungsbeschränkt\)|ltd\.?|inc\.?|sa|sarl|s\.a\.|bv|nv)$",
    re.IGNORECASE,
)


def _short_name(name: str) -> str:
    short = name.strip()
    while (shorter := _LEGAL_FORMS.sub("", short)) != short:
        short = shorter
    return short or name.strip()


def choice_label(record: CurriculumRecord, language: str) -> str:
    """How a curriculum is named wherever people choose or list it (the
    cohort list, the new-cohort form, the workbench, the publish page): a
    standard by its title; a fork by its title, then its client, once and
    in one form ("Lernbegleitung kompakt – für Metallwerke Neckartal
    GmbH"). A title that names the client already in a short form at its
    end ("… (Metallwerke Neckartal)", "… – Metallwerke Neckartal") drops
    that ending for the full name; one that names it elsewhere stays as it is."""
    title = record.title(language).strip()
    organisation = record.organisation
    if organisation is None:
        return title
    name = organisation.name.strip()
    short = _short_name(name).casefold()
    ending = re.search(r"\s*(?:\(([^()]*)\)|[–-]\s*(?:für\s+|for\s+)?(.+))$", title)
    if ending and _short_name(ending.group(1) or ending.group(2) or "").casefold() == short:
        title = title[: ending.start()].rstrip()
    elif short in title.casefold():
        return title
    return translations(language).gettext("%(title)s – for %(client)s") % {
        "title": title,
        "client": name,
    }


def version_label(
    version: CurriculumVersion, language: str, *, with_curriculum: bool = True
) -> str:
    """A published version as every page names it: its curriculum's name,
    then the version written out ("…, Version 2"); only "Version 2" where
    the page is about that curriculum already."""
    number = translations(language).gettext("Version %(number)d") % {"number": version.number}
    if not with_curriculum:
        return number
    return f"{choice_label(version.curriculum, language)}, {number}"


def readable(actor: Actor) -> list[CurriculumRecord]:
    """The standards and the curricula of the actor's organisations."""
    query = select(CurriculumRecord).order_by(
        CurriculumRecord.organisation_id.is_not(None), CurriculumRecord.title_de
    )
    if actor.organisation_ids is not None:
        query = query.where(
            CurriculumRecord.organisation_id.is_(None)
            | CurriculumRecord.organisation_id.in_(actor.organisation_ids)
        )
    return list(db.session.scalars(query))


def get_curriculum(actor: Actor, curriculum_id: int) -> CurriculumRecord:
    """The curriculum if the actor may read it, else NotFound."""
    record = db.session.get(CurriculumRecord, curriculum_id)
    if record is None or not may_read(actor, record):
        raise NotFound()
    return record


def get_editable(actor: Actor, curriculum_id: int) -> CurriculumRecord:
    """The curriculum if the actor may change it: never a standard."""
    record = get_curriculum(actor, curriculum_id)
    if record.is_standard:
        raise NotPermitted(
            msg("a standard cannot be edited; fork it for an organisation"),
            code="standard_read_only",
        )
    policy.require(actor, Action.EDIT_CURRICULA, record.organisation_id)
    return record


def shown_upstream(actor: Actor, record: CurriculumRecord) -> CurriculumRecord | None:
    """The curriculum `record` was forked from, where the actor may read it."""
    upstream = record.upstream
    return upstream if upstream is not None and may_read(actor, upstream) else None


def draft_of(record: CurriculumRecord) -> CurriculumVersion | None:
    return next((v for v in record.versions if v.is_draft), None)


def latest_published(record: CurriculumRecord) -> CurriculumVersion | None:
    published = [v for v in record.versions if not v.is_draft]
    return published[-1] if published else None


@dataclass(frozen=True)
class Listed:
    record: CurriculumRecord
    upstream: CurriculumRecord | None  # where the actor may read it


def overview(actor: Actor) -> list[Listed]:
    return [Listed(r, shown_upstream(actor, r)) for r in readable(actor)]


@dataclass(frozen=True)
class Workbench:
    """What the page of one curriculum shows to one actor."""

    record: CurriculumRecord
    upstream_record: CurriculumRecord | None
    draft: CurriculumVersion | None
    newest: CurriculumVersion | None
    can_edit: bool
    can_fork: bool
    fork_organisations: list[Organisation]
    upstream: UpstreamState | None
    own_changes: tuple[UpstreamChange, ...]
    movable: list[Cohort]
    forks: list[CurriculumRecord]

    @property
    def shown(self) -> CurriculumVersion | None:
        return self.draft or self.newest


def curriculum_page(actor: Actor, curriculum_id: int) -> Workbench:
    record = get_curriculum(actor, curriculum_id)
    draft, newest = draft_of(record), latest_published(record)
    shown = draft or newest
    can_edit = not record.is_standard and policy.may(
        actor, Action.EDIT_CURRICULA, record.organisation_id
    )
    organisations = fork_organisations(actor)
    upstream_record = shown_upstream(actor, record)
    return Workbench(
        record=record,
        upstream_record=upstream_record,
        draft=draft,
        newest=newest,
        can_edit=can_edit,
        can_fork=record.is_standard and bool(organisations),
        fork_organisations=organisations,
        upstream=upstream_state(record),
        # Compared with the upstream only where the actor may read it.
        own_changes=own_changes(shown) if shown and upstream_record else (),
        movable=movable_cohorts(actor, record, newest) if newest and can_edit else [],
        forks=[r for r in readable(actor) if r.upstream_id == record.id],
    )


def fork_organisations(actor: Actor) -> list[Organisation]:
    """The organisations the actor may fork a curriculum into."""
    query = select(Organisation).order_by(Organisation.name)
    if actor.organisation_ids is not None:
        query = query.where(Organisation.id.in_(actor.organisation_ids))
    return [o for o in db.session.scalars(query) if policy.may(actor, Action.EDIT_CURRICULA, o.id)]


def editable_draft(actor: Actor, curriculum_id: int) -> tuple[CurriculumRecord, CurriculumVersion]:
    """The curriculum and its draft, for the pages that edit the draft."""
    record = get_editable(actor, curriculum_id)
    draft = draft_of(record)
    if draft is None:
        raise NotFound()
    return record, draft


@dataclass(frozen=True)
class DraftElement:
    """One element of a draft, as its form shows it."""

    record: CurriculumRecord
    draft: CurriculumVersion
    element: Element
    given: editing.ElementInput
    on_start: bool  # the element may sit on the cohort start (it is the first)
    after: tuple[str, ...]  # the elements it may be placed after


def draft_element(actor: Actor, curriculum_id: int, key: str) -> DraftElement:
    record, draft = editable_draft(actor, curriculum_id)
    model = draft.model
    with _judging():
        on_start, after = editing.placement_choices(model, key)
        given = editing.input_of(model, key)
    return DraftElement(record, draft, model.element(key), given, on_start, after)


def exported_version(
    actor: Actor, curriculum_id: int, version_id: int
) -> tuple[CurriculumRecord, CurriculumVersion]:
    record = get_curriculum(actor, curriculum_id)
    version = db.session.get(CurriculumVersion, version_id)
    if version is None or version.curriculum_id != record.id:
        raise NotFound()
    return record, version


# Forking and drafts: the use cases


def fork_curriculum(
    actor: Actor, curriculum_id: int, organisation_id: int | None
) -> CurriculumRecord:
    """A copy of the newest version of a curriculum the actor may read, for
    one of the actor's organisations, as a draft to adapt."""
    source = get_curriculum(actor, curriculum_id)
    policy.require(actor, Action.EDIT_CURRICULA)
    if organisation_id is None:
        raise InvalidInput(
            msg("choose the organisation the copy is for"),
            code="organisation_missing",
            field="organisation",
        )
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.EDIT_CURRICULA, organisation.id)
    newest = latest_published(source)
    if newest is None:
        raise WorkbenchError(msg("only a published version can be forked"), code="not_published")
    return fork(newest, organisation, actor.user)


def begin_draft(actor: Actor, curriculum_id: int) -> CurriculumVersion:
    """The draft of the next version (the one there is, if there is one)."""
    return start_draft(get_editable(actor, curriculum_id))


def publish_draft(
    actor: Actor, curriculum_id: int, *, expected_version: object
) -> CurriculumVersion:
    draft = _the_draft(get_editable(actor, curriculum_id))
    return publish(draft, actor.user, expected_version=expected_version)


@dataclass(frozen=True)
class PublishPreview:
    """What publishing a draft will do, for the page that asks first."""

    record: CurriculumRecord
    draft: CurriculumVersion
    cohorts: list[Cohort]  # planned cohorts that can then move onto it


def preview_publish(
    actor: Actor, curriculum_id: int, *, expected_version: object = None
) -> PublishPreview:
    """Nothing changes; with `expected_version`, a draft changed since the
    page showed it is refused as a stale edit."""
    record = get_editable(actor, curriculum_id)
    draft = _the_draft(record)
    if expected_version is not None:
        _check_draft(draft, expected_version)
    cohorts = movable_cohorts(actor, record, draft)
    if record.upstream_id is not None:
        # The organisation's cohorts on the curriculum this one is a fork of.
        cohorts += db.session.scalars(
            select(Cohort)
            .join(CurriculumVersion, Cohort.version_id == CurriculumVersion.id)
            .where(
                CurriculumVersion.curriculum_id == record.upstream_id,
                Cohort.organisation_id == record.organisation_id,
                Cohort.state == CohortState.PLANNED,
            )
            .order_by(Cohort.start_date)
        )
    return PublishPreview(record, draft, cohorts)


def discard_draft(actor: Actor, curriculum_id: int, *, expected_version: object) -> None:
    draft = _the_draft(get_editable(actor, curriculum_id))
    _check_draft(draft, expected_version)
    draft.curriculum.versions.remove(draft)
    db.session.delete(draft)


def add_element(actor: Actor, curriculum_id: int, title: Text, *, expected_version: object) -> str:
    """A new element at the end of the draft (see `editing.new_element`),
    its key made from its German title; the key as stored."""
    draft = _draft_to_change(actor, curriculum_id, expected_version)
    key = derived_key(title.de, {e.key for e in draft.model.elements})
    _store(draft, lambda c, source: editing.add_element(c, key, title, source=source))
    return key


_NOT_IN_KEYS = re.compile(r"[^a-z0-9]+")
# Room for a number that tells apart elements of the same title.
_KEY_STEM = 56


def derived_key(title: str, taken: Collection[str]) -> str:
    """A key for a new element from its title: lower case, umlauts spelled
    out ("Übungstag 2" → "uebungstag-2"), unique among `taken`. Keys never
    change once made, so that sessions and certificate rules keep naming
    their element when its title changes."""
    stem = _NOT_IN_KEYS.sub("-", umlauts_spelled_out(title)).strip("-")[:_KEY_STEM].strip("-")
    stem = stem or "element"
    key, number = stem, 1
    while key in taken:
        number += 1
        key = f"{stem}-{number}"
    assert KEY_PATTERN.match(key)  # noqa: S101 -- letters, digits and '-', at most 64
    return key


def title_version(record: CurriculumRecord) -> str:
    """What a rename form carries to tell whether the titles changed since
    the page showed them (a curriculum has no lock version of its own)."""
    titles = f"{record.title_de}\n{record.title_en}".encode()
    return hashlib.sha256(titles).hexdigest()[:16]


TITLES_CHANGED = msg(
    "someone else renamed this curriculum in the meantime; "
    "the page now shows the current name, please check and try again"
)


def rename_curriculum(
    actor: Actor, curriculum_id: int, title: Text, *, expected_version: object
) -> CurriculumRecord:
    """A fork's German and English title, checked like titles in a file;
    the draft (if any) takes them, so that publishing keeps them. Published
    versions and issued certificates keep the name they had."""
    record = get_editable(actor, curriculum_id)
    # Read again under a row lock: of two renames at once the second sees the first.
    db.session.refresh(record, with_for_update=True)
    if str(expected_version) != title_version(record):
        raise StaleEdit(TITLES_CHANGED)
    newest = draft_of(record) or latest_published(record)
    if newest is None:
        raise WorkbenchError(
            msg("this curriculum has no version to start from"), code="no_version"
        )
    wanted = {"de": title.de, "en": title.en}

    def retitle(data: dict[str, Any]) -> None:
        data["title"] = wanted

    with _judging():
        checked = editing.changed(newest.model, retitle, source="title")
    draft = draft_of(record)
    if draft is not None:
        draft.source = to_toml(replace(checked, version=draft.number))
    before = {"de": record.title_de, "en": record.title_en}
    record.title_de, record.title_en = checked.title.de, checked.title.en
    assert record.organisation_id is not None  # noqa: S101 -- a standard is never editable
    history.record(
        user=actor.user,
        organisation_id=record.organisation_id,
        subject="curriculum",
        subject_id=record.id,
        action="renamed",
        before=before,
        after={"de": record.title_de, "en": record.title_en},
    )
    db.session.flush()
    return record


def remove_element(
    actor: Actor, curriculum_id: int, key: str, *, expected_version: object
) -> Element:
    """The draft without the element `key`; the element as it was."""
    draft = _draft_to_change(actor, curriculum_id, expected_version, key=key)
    gone = draft.model.element(key)
    _store(draft, lambda c, source: editing.remove_element(c, key, source=source))
    return gone


def move_element(
    actor: Actor,
    curriculum_id: int,
    key: str,
    direction: Direction,
    *,
    expected_version: object,
) -> None:
    draft = _draft_to_change(actor, curriculum_id, expected_version, key=key)
    _store(draft, lambda c, source: editing.move_element(c, key, direction, source=source))


def change_element(
    actor: Actor,
    curriculum_id: int,
    key: str,
    given: editing.ElementInput,
    *,
    expected_version: object,
) -> None:
    """The element as a form describes it; problems name their fields."""
    draft = _draft_to_change(actor, curriculum_id, expected_version, key=key)
    _store(draft, lambda c, source: editing.change_element_as_given(c, key, given, source=source))


def change_certificate_rule(
    actor: Actor,
    curriculum_id: int,
    *,
    required: Iterable[str],
    at_least: Iterable[AtLeast],
    min_hours_share: float | None,
    expected_version: object,
) -> None:
    draft = _draft_to_change(actor, curriculum_id, expected_version)
    _store(
        draft,
        lambda c, source: editing.change_certificate_rule(
            c,
            required=required,
            at_least=at_least,
            min_hours_share=min_hours_share,
            source=source,
        ),
    )


def import_file(actor: Actor, curriculum_id: int, content: bytes | None) -> CurriculumVersion:
    """A curriculum file becomes the draft (its key must be the record's)."""
    record = get_editable(actor, curriculum_id)
    if content is None:
        raise InvalidInput(msg("choose a curriculum file"), code="file_missing", field="file")
    too_large = size_problem(len(content))
    if too_large:
        raise InvalidInput(too_large, code="file_too_large", field="file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(msg("the file is not UTF-8 text"), code="not_utf8") from None
    with _judging():
        curriculum = load_text(text, source="upload")
    if curriculum.key != record.key:
        raise WorkbenchError(
            msg(
                "the file is for '{found}', not for '{key}'", found=curriculum.key, key=record.key
            ),
            code="other_curriculum",
        )
    draft = start_draft(record)
    _store(draft, lambda _, source: editing.judged(to_mapping(curriculum), source=source))
    return draft


def take_upstream_change(
    actor: Actor,
    curriculum_id: int,
    change_id: str | None,
    *,
    overwrite: bool,
    expected_version: object,
) -> None:
    """Apply one upstream change to the draft (started if needed); once
    nothing is left to decide, the draft is in step with that upstream."""
    record = get_editable(actor, curriculum_id)
    state = _pending_upstream(record)
    change = next((c for c in state.changes if c.id == change_id), None)
    if change is None:
        raise WorkbenchError(
            msg("this change is no longer pending; reload the page"), code="change_gone"
        )
    draft = _draft_for_change(record, expected_version)
    merged = take(draft.model, state.upstream.model, change, overwrite_conflicts=overwrite)
    _store(draft, lambda _, source: editing.judged(to_mapping(merged), source=source))
    after = upstream_changes(state.base.model, draft.model, state.upstream.model)
    if all(c.already_in_fork for c in after):
        draft.based_on = state.upstream


def keep_fork_as_is(actor: Actor, curriculum_id: int, *, expected_version: object) -> None:
    """Decide the remaining upstream changes by keeping the fork as it is."""
    record = get_editable(actor, curriculum_id)
    state = _pending_upstream(record)
    _draft_for_change(record, expected_version).based_on = state.upstream


def _the_draft(record: CurriculumRecord) -> CurriculumVersion:
    draft = draft_of(record)
    if draft is None:
        raise WorkbenchError(msg("there is no draft; start one first"), code="no_draft")
    return draft


def _draft_to_change(
    actor: Actor, curriculum_id: int, expected_version: object, *, key: str | None = None
) -> CurriculumVersion:
    draft = _the_draft(get_editable(actor, curriculum_id))
    if key is not None and key not in {e.key for e in draft.model.elements}:
        raise NotFound()
    _check_draft(draft, expected_version)
    return draft


def _store(draft: CurriculumVersion, change: Callable[[Curriculum, str], Curriculum]) -> None:
    """The draft changed by `change` (given the draft and the name its
    problems are reported under), judged before anything is stored."""
    with _judging():
        checked = change(draft.model, f"draft {draft.number}")
    draft.source = to_toml(replace(checked, version=draft.number))


@contextmanager
def _judging() -> Iterator[None]:
    """The core's verdicts on an edit as the workbench's refusals."""
    try:
        yield
    except CurriculumError as error:
        raise InvalidCurriculum(error.problems) from None
    except UnknownElement:
        raise NotFound() from None
    except EditRefused as error:
        raise WorkbenchError(error.message, code=error.code, field=error.field) from None


def _check_draft(draft: CurriculumVersion, expected_version: object) -> None:
    if not draft.is_draft:
        raise WorkbenchError(
            msg("a published version never changes; start a new draft"), code="not_a_draft"
        )
    _expect(draft, expected_version, DRAFT_CHANGED)


def _expect(record: Any, expected_version: object, message: Message) -> None:
    """The edit was begun on the record as it is now, else StaleEdit saying
    what changed."""
    try:
        expect_version(record, expected_version)
    except StaleEdit:
        raise StaleEdit(message) from None


# Forking and drafts: the steps on records


def fork(
    version: CurriculumVersion, organisation: Organisation, actor: User | None
) -> CurriculumRecord:
    """A copy of `version` for `organisation`, as a draft to adapt."""
    if version.is_draft:
        raise WorkbenchError(msg("only a published version can be forked"), code="not_published")
    source = version.curriculum
    exists = db.session.scalar(
        select(CurriculumRecord.id).where(
            CurriculumRecord.organisation_id == organisation.id,
            CurriculumRecord.key == source.key,
        )
    )
    if exists is not None:
        raise WorkbenchError(
            msg(
                "{organisation} has its own version of '{key}' already",
                organisation=organisation.name,
                key=source.key,
            ),
            code="fork_exists",
        )
    record = CurriculumRecord(
        key=source.key,
        organisation=organisation,
        upstream=source,
        title_de=source.title_de,
        title_en=source.title_en,
    )
    db.session.add(record)
    model = replace(version.model, version=1)
    db.session.add(
        CurriculumVersion(curriculum=record, number=1, source=to_toml(model), based_on=version)
    )
    db.session.flush()
    return record


def start_draft(record: CurriculumRecord) -> CurriculumVersion:
    """The draft of the next version, from the newest published one."""
    if record.is_standard:
        raise NotPermitted(
            msg("a standard cannot be edited; fork it for an organisation"),
            code="standard_read_only",
        )
    draft = draft_of(record)
    if draft is not None:
        return draft
    newest = latest_published(record)
    if newest is None:
        raise WorkbenchError(
            msg("this curriculum has no version to start from"), code="no_version"
        )
    number = max(v.number for v in record.versions) + 1
    draft = CurriculumVersion(
        curriculum=record,
        number=number,
        # The curriculum's name as it is now: a rename since the last version
        # is published with the next.
        source=to_toml(
            replace(newest.model, version=number, title=Text(record.title_de, record.title_en))
        ),
        based_on=newest.based_on,
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def edit(
    draft: CurriculumVersion,
    change: Callable[[dict[str, Any]], None],
    *,
    expected_version: object,
) -> Curriculum:
    """Apply `change` to the draft in the file format's terms, judge the
    result and store it; a refusal stores nothing."""
    _check_draft(draft, expected_version)
    _store(draft, lambda c, source: editing.changed(c, change, source=source))
    return draft.model


def publish(
    draft: CurriculumVersion, actor: User | None, *, expected_version: object
) -> CurriculumVersion:
    """The draft becomes a version that never changes again."""
    _check_draft(draft, expected_version)
    record, curriculum, source = draft.curriculum, draft.model, draft.source
    based_on_id = draft.based_on_id
    # Published like an imported standard, with the element rows sessions refer to.
    record.versions.remove(draft)
    db.session.delete(draft)
    try:
        db.session.flush()
    except StaleDataError:
        # The database's version check, before the commit point gets to it:
        # the draft was changed or published since it was read.
        raise StaleEdit(DRAFT_CHANGED) from None
    version = add_version(record, curriculum, source)
    version.based_on_id = based_on_id
    db.session.flush()
    if record.organisation_id is not None:  # drafts exist only for forks
        history.record(
            user=actor,
            organisation_id=record.organisation_id,
            subject="curriculum",
            subject_id=record.id,
            action="published",
            after={"version": version.number},
        )
    return version


# Keeping in step with the upstream


@dataclass(frozen=True)
class UpstreamState:
    base: CurriculumVersion
    upstream: CurriculumVersion
    changes: tuple[UpstreamChange, ...]

    @property
    def pending(self) -> tuple[UpstreamChange, ...]:
        return tuple(c for c in self.changes if not c.already_in_fork)


def own_changes(version: CurriculumVersion) -> tuple[UpstreamChange, ...]:
    """How a fork's version differs from the upstream version it is in step with."""
    if version.based_on is None:
        return ()
    return tuple(UpstreamChange(d) for d in differences(version.based_on.model, version.model))


def upstream_of(record: CurriculumRecord) -> CurriculumRecord | None:
    """The upstream whose new versions the fork is offered: only one its
    organisation may read (a standard, or its own curriculum). Whoever
    forked another organisation's curriculum took that version, not a
    subscription to what that organisation publishes later."""
    upstream = record.upstream
    if upstream is None or upstream.organisation_id not in (None, record.organisation_id):
        return None
    return upstream


def upstream_state(record: CurriculumRecord) -> UpstreamState | None:
    """What the upstream changed since the fork's newest version was in step,
    checked against that version (the draft if there is one)."""
    upstream = upstream_of(record)
    if upstream is None:
        return None
    mine = draft_of(record) or latest_published(record)
    newest = latest_published(upstream)
    if mine is None or mine.based_on is None or newest is None or newest.id == mine.based_on_id:
        return None
    return UpstreamState(
        base=mine.based_on,
        upstream=newest,
        changes=upstream_changes(mine.based_on.model, mine.model, newest.model),
    )


def _pending_upstream(record: CurriculumRecord) -> UpstreamState:
    state = upstream_state(record)
    if state is None:
        raise WorkbenchError(msg("the upstream has no changes to take"), code="nothing_upstream")
    return state


def _draft_for_change(record: CurriculumRecord, expected_version: object) -> CurriculumVersion:
    """The draft as the page showed it, or a new one when the page had none."""
    existing = draft_of(record)
    if existing is not None:
        _check_draft(existing, expected_version)
        return existing
    return start_draft(record)


# Moving cohorts to a newer version


@dataclass(frozen=True)
class Rescheduled:
    title: str
    before: tuple[date, date] | None  # None: a new element
    after: tuple[date, date] | None  # None: the element is gone (its session is cancelled)
    kept: bool  # pinned or past: stays where it is


@dataclass(frozen=True)
class VersionMove:
    record: CurriculumRecord
    cohort: Cohort
    version: CurriculumVersion
    rows: list[Rescheduled]


def movable_cohorts(
    actor: Actor, record: CurriculumRecord, version: CurriculumVersion
) -> list[Cohort]:
    """The actor's planned cohorts on an older version of this curriculum."""
    older = [v.id for v in record.versions if not v.is_draft and v.number < version.number]
    if not older:
        return []
    query = (
        select(Cohort)
        .where(Cohort.version_id.in_(older), Cohort.state == CohortState.PLANNED)
        .order_by(Cohort.start_date)
    )
    if actor.organisation_ids is not None:
        query = query.where(Cohort.organisation_id.in_(actor.organisation_ids))
    return list(db.session.scalars(query))


def preview_version_move(
    actor: Actor, curriculum_id: int, cohort_id: int, *, today: date, language: str
) -> VersionMove:
    """How a planned cohort's dates would look on the newest version; nothing changes."""
    record, cohort, newest = _move_target(actor, curriculum_id, cohort_id)
    rows = move_to_version(
        cohort, newest, actor.user, today=today, save_changes=False, language=language
    )
    return VersionMove(record, cohort, newest, rows)


def move_cohort_to_version(
    actor: Actor,
    curriculum_id: int,
    cohort_id: int,
    *,
    expected_version: object,
    today: date,
    language: str,
) -> VersionMove:
    """Move the cohort to the newest version as previewed; a cohort changed
    since the preview is refused (the preview shows it anew)."""
    record, cohort, newest = _move_target(actor, curriculum_id, cohort_id)
    _expect(cohort, expected_version, COHORT_CHANGED)
    rows = move_to_version(
        cohort, newest, actor.user, today=today, save_changes=True, language=language
    )
    return VersionMove(record, cohort, newest, rows)


def _move_target(
    actor: Actor, curriculum_id: int, cohort_id: int
) -> tuple[CurriculumRecord, Cohort, CurriculumVersion]:
    record = get_editable(actor, curriculum_id)
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.EDIT_CURRICULA, cohort.organisation_id)
    newest = latest_published(record)
    if newest is None or cohort.version.curriculum_id != record.id:
        raise NotFound()
    return record, cohort, newest


def may_follow(cohort: Cohort, version: CurriculumVersion) -> bool:
    """Whether `cohort` may move onto `version`: a published version of its
    own curriculum, or of its organisation's fork of that curriculum."""
    if version.is_draft:
        return False
    record, own = version.curriculum, cohort.version.curriculum_id
    return record.id == own or (
        record.upstream_id == own and record.organisation_id == cohort.organisation_id
    )


def move_to_version(
    cohort: Cohort,
    version: CurriculumVersion,
    actor: User | None,
    *,
    today: date,
    save_changes: bool,
    language: str,
) -> list[Rescheduled]:
    """Re-plan `cohort` on `version`: pinned and past sessions stay, the rest
    follows the new rules. Without `save_changes` only the differences are
    returned and nothing changes."""
    if not may_follow(cohort, version):
        raise WorkbenchError(
            msg("the cohort can only move to a published version of its curriculum"),
            code="not_its_version",
        )
    if cohort.state is not CohortState.PLANNED:
        raise WorkbenchError(
            msg("only a planned cohort can move to another version"), code="cohort_not_planned"
        )
    model = version.model
    by_key = {s.element.key: s for s in cohort.sessions if s.status is SessionStatus.SCHEDULED}
    # A session staff cancelled stays exactly as it is (also its element, so
    # that calendars do not show it anew): the new version does not bring it
    # back as a second event with a UID of its own.
    cancelled = {
        s.element.key for s in cohort.sessions if s.status is SessionStatus.CANCELLED
    } - by_key.keys()
    keys = {e.key for e in model.elements}
    fixed = {
        key: s.first_day
        for key, s in by_key.items()
        if key in keys and (s.pinned or s.last_day < today)
    }
    schedule = plan(
        model,
        cohort.start_date,
        working_calendar(cohort),
        tz=cohort.timezone,
        delivery=Mode(cohort.delivery) if cohort.delivery else None,
        fixed=fixed,
    )
    result: list[Rescheduled] = []
    for planned in schedule.sessions:
        if planned.element in cancelled:
            continue
        element = version.element_by_key(planned.element)
        existing = by_key.get(planned.element)
        before = (existing.first_day, existing.last_day) if existing else None
        result.append(
            Rescheduled(
                element.title(language),
                before,
                (planned.first_day, planned.last_day),
                planned.element in fixed,
            )
        )
        if save_changes:
            _apply(cohort, existing, element, planned, kept=planned.element in fixed)
    for key, session in by_key.items():
        if key not in keys:
            result.append(
                Rescheduled(
                    session.element.title(language),
                    (session.first_day, session.last_day),
                    None,
                    False,
                )
            )
            if save_changes:
                session.status = SessionStatus.CANCELLED
                session.revision += 1
    if save_changes:
        before_number = cohort.version.number
        before_record = cohort.version.curriculum
        cohort.version = version
        check_trainers(cohort.sessions)
        history.record(
            user=actor,
            organisation_id=cohort.organisation_id,
            cohort_id=cohort.id,
            subject="cohort",
            subject_id=cohort.id,
            action="version",
            # With the curriculum: a cohort may move onto its organisation's fork.
            before={"version": before_number, "curriculum": _titles(before_record)},
            after={"version": version.number, "curriculum": _titles(version.curriculum)},
        )
    return result


def _titles(record: CurriculumRecord) -> dict[str, str]:
    return {"de": record.title_de, "en": record.title_en}


def _apply(
    cohort: Cohort,
    existing: Session | None,
    element: CurriculumElement,
    planned: PlannedSession,
    *,
    kept: bool,
) -> None:
    if existing is None:
        cohort.sessions.append(new_session(element, planned, cohort.trainers))
        return
    timed = isinstance(planned.start, datetime) and isinstance(planned.end, datetime)
    existing.element = element
    if kept:
        return
    changed = (existing.first_day, existing.last_day) != (planned.first_day, planned.last_day)
    starts_at = planned.start if timed else None
    ends_at = planned.end if timed else None
    if changed or (existing.starts_at, existing.ends_at) != (starts_at, ends_at):
        existing.first_day, existing.last_day = planned.first_day, planned.last_day
        existing.starts_at, existing.ends_at = starts_at, ends_at
        existing.all_day = planned.all_day
        existing.mode = planned.mode.value
        existing.revision += 1
