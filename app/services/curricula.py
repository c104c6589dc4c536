"""The consultant's workbench: fork a standard for a client, edit a draft,
publish it, keep it in step with its upstream, and move planned cohorts to
a newer version.

A draft is the only version that can change; publishing freezes it. Every
edit goes through the file format's loader, so a form and a file obey the
same rules and report the same problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
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
from app.services import history
from app.services.cohorts import check_trainers, new_session, working_calendar
from app.services.standards import add_version
from cohorts.scheduling import Session as PlannedSession
from cohorts.scheduling import plan
from curricula.loader import from_mapping, load_text
from curricula.messages import MessageError, msg
from curricula.model import Curriculum, Mode
from curricula.versions import UpstreamChange, differences, take, upstream_changes
from curricula.writer import element_mapping, to_mapping, to_toml


class WorkbenchError(MessageError):
    """A workbench action that cannot be done (not a draft, no upstream, …)."""


class DraftChanged(WorkbenchError):
    def __init__(self) -> None:
        super().__init__(
            msg(
                "someone else changed this draft in the meantime; "
                "the page now shows the current state, please check and try again"
            )
        )


# Reading


def visible(organisation_ids: set[int]) -> list[CurriculumRecord]:
    """The standards and the curricula of the user's organisations."""
    return list(
        db.session.scalars(
            select(CurriculumRecord)
            .where(
                (CurriculumRecord.organisation_id.is_(None))
                | (CurriculumRecord.organisation_id.in_(organisation_ids))
            )
            .order_by(CurriculumRecord.organisation_id.is_not(None), CurriculumRecord.title_de)
        )
    )


def draft_of(record: CurriculumRecord) -> CurriculumVersion | None:
    return next((v for v in record.versions if v.is_draft), None)


def latest_published(record: CurriculumRecord) -> CurriculumVersion | None:
    published = [v for v in record.versions if not v.is_draft]
    return published[-1] if published else None


# Forking and drafts


def fork(
    version: CurriculumVersion, organisation: Organisation, actor: User | None
) -> CurriculumRecord:
    """A copy of `version` for `organisation`, as a draft to adapt."""
    if version.is_draft:
        raise WorkbenchError(msg("only a published version can be forked"))
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
            )
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
        raise WorkbenchError(msg("a standard cannot be edited; fork it for an organisation"))
    draft = draft_of(record)
    if draft is not None:
        return draft
    newest = latest_published(record)
    if newest is None:
        raise WorkbenchError(msg("this curriculum has no version to start from"))
    number = max(v.number for v in record.versions) + 1
    draft = CurriculumVersion(
        curriculum=record,
        number=number,
        source=to_toml(replace(newest.model, version=number)),
        based_on=newest.based_on,
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def save(draft: CurriculumVersion, curriculum: Curriculum, *, expected_version: int) -> None:
    """Store a changed draft; the loader checks it first (CurriculumError)."""
    _check_draft(draft, expected_version)
    checked = from_mapping(to_mapping(curriculum), source=f"draft {draft.number}")
    draft.source = to_toml(replace(checked, version=draft.number))


def edit(
    draft: CurriculumVersion,
    change: Callable[[dict[str, Any]], None],
    *,
    expected_version: int,
) -> Curriculum:
    """Apply `change` to the draft in the file format's terms, check the
    result with the loader and store it. Raises CurriculumError with every
    problem; nothing is stored then."""
    _check_draft(draft, expected_version)
    data = to_mapping(draft.model)
    change(data)
    checked = from_mapping(data, source=f"draft {draft.number}")
    draft.source = to_toml(replace(checked, version=draft.number))
    return checked


def element_data(curriculum: Curriculum, key: str) -> dict[str, Any]:
    keys = [e.key for e in curriculum.elements]
    return element_mapping(curriculum.element(key), first=keys.index(key) == 0)


def import_source(record: CurriculumRecord, text: str, *, expected_version: int | None) -> None:
    """A curriculum file becomes the draft (its key must be the record's)."""
    curriculum = load_text(text, source="upload")
    if curriculum.key != record.key:
        raise WorkbenchError(
            msg(
                "the file is for '{found}', not for '{key}'",
                found=curriculum.key,
                key=record.key,
            )
        )
    draft = start_draft(record)
    save(draft, curriculum, expected_version=expected_version or draft.lock_version)


def publish(draft: CurriculumVersion, actor: User | None, *, expected_version: int) -> None:
    """The draft becomes a version that never changes again."""
    _check_draft(draft, expected_version)
    record, curriculum, source = draft.curriculum, draft.model, draft.source
    based_on_id = draft.based_on_id
    # Published like an imported standard, with the element rows sessions refer to.
    record.versions.remove(draft)
    db.session.delete(draft)
    db.session.flush()
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


def discard(draft: CurriculumVersion, *, expected_version: int) -> None:
    _check_draft(draft, expected_version)
    draft.curriculum.versions.remove(draft)
    db.session.delete(draft)


def _check_draft(draft: CurriculumVersion, expected_version: int) -> None:
    if not draft.is_draft:
        raise WorkbenchError(msg("a published version never changes; start a new draft"))
    if draft.lock_version != expected_version:
        raise DraftChanged()


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


def upstream_state(record: CurriculumRecord) -> UpstreamState | None:
    """What the upstream changed since the fork's newest version was in step,
    checked against that version (the draft if there is one)."""
    if record.upstream is None:
        return None
    mine = draft_of(record) or latest_published(record)
    newest = latest_published(record.upstream)
    if mine is None or mine.based_on is None or newest is None or newest.id == mine.based_on_id:
        return None
    return UpstreamState(
        base=mine.based_on,
        upstream=newest,
        changes=upstream_changes(mine.based_on.model, mine.model, newest.model),
    )


def take_upstream(
    record: CurriculumRecord, change_id: str, *, overwrite: bool, expected_version: int
) -> None:
    """Apply one upstream change to the draft (started if needed); once
    nothing is left to decide, the draft is in step with that upstream."""
    state = upstream_state(record)
    if state is None:
        raise WorkbenchError(msg("the upstream has no changes to take"))
    change = next((c for c in state.changes if c.id == change_id), None)
    if change is None:
        raise WorkbenchError(msg("this change is no longer pending; reload the page"))
    draft = _draft_for_change(record, expected_version)
    merged = take(draft.model, state.upstream.model, change, overwrite_conflicts=overwrite)
    draft.source = to_toml(
        replace(from_mapping(to_mapping(merged), source="merge"), version=draft.number)
    )
    after = upstream_changes(state.base.model, draft.model, state.upstream.model)
    if all(c.already_in_fork for c in after):
        draft.based_on = state.upstream


def keep_mine(record: CurriculumRecord, *, expected_version: int) -> None:
    """Decide the remaining upstream changes by keeping the fork as it is."""
    state = upstream_state(record)
    if state is None:
        raise WorkbenchError(msg("the upstream has no changes to take"))
    draft = _draft_for_change(record, expected_version)
    draft.based_on = state.upstream


def _draft_for_change(record: CurriculumRecord, expected_version: int) -> CurriculumVersion:
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


def movable_cohorts(record: CurriculumRecord, version: CurriculumVersion) -> list[Cohort]:
    """Planned cohorts on an older version of this curriculum."""
    older = [v.id for v in record.versions if not v.is_draft and v.number < version.number]
    if not older:
        return []
    return list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.version_id.in_(older), Cohort.state == CohortState.PLANNED)
            .order_by(Cohort.start_date)
        )
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
    if version.is_draft or version.curriculum_id != cohort.version.curriculum_id:
        raise WorkbenchError(
            msg("the cohort can only move to a published version of its curriculum")
        )
    if cohort.state is not CohortState.PLANNED:
        raise WorkbenchError(msg("only a planned cohort can move to another version"))
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
        cohort.version = version
        check_trainers(cohort.sessions)
        history.record(
            user=actor,
            organisation_id=cohort.organisation_id,
            cohort_id=cohort.id,
            subject="cohort",
            subject_id=cohort.id,
            action="version",
            before={"version": before_number},
            after={"version": version.number},
        )
    return result


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
