"""The shipped curricula as read-only standards in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import CurriculumElement, CurriculumRecord, CurriculumVersion
from curricula.loader import load_text
from curricula.model import Curriculum
from curricula.shipped import shipped_sources


class StandardChanged(Exception):
    """A shipped definition changed without a new version number."""


def import_standards() -> list[CurriculumVersion]:
    """Add every shipped curriculum version that the database does not have yet.
    Running it again changes nothing."""
    added = []
    for key, source in shipped_sources().items():
        curriculum = load_text(source, source=f"{key}.toml")
        record = db.session.scalar(
            select(CurriculumRecord).where(
                CurriculumRecord.organisation_id.is_(None), CurriculumRecord.key == key
            )
        )
        if record is None:
            record = CurriculumRecord(
                key=key, title_de=curriculum.title.de, title_en=curriculum.title.en
            )
            db.session.add(record)
        existing = next((v for v in record.versions if v.number == curriculum.version), None)
        if existing is not None:
            if existing.source != source:
                raise StandardChanged(
                    f"{key}.toml changed but keeps version {curriculum.version}; "
                    "a published version never changes, so raise the version number"
                )
            continue
        added.append(add_version(record, curriculum, source))
    return added


def add_version(
    record: CurriculumRecord, curriculum: Curriculum, source: str
) -> CurriculumVersion:
    version = CurriculumVersion(
        curriculum=record,
        number=curriculum.version,
        source=source,
        published_at=datetime.now(UTC),
    )
    for position, element in enumerate(curriculum.elements):
        version.elements.append(
            CurriculumElement(
                key=element.key,
                position=position,
                kind=element.kind,
                mode=element.mode.value,
                title_de=element.title.de,
                title_en=element.title.en,
                teaching_hours=element.teaching_hours,
                counts_for_certificate=element.counts_for_certificate,
            )
        )
    record.title_de, record.title_en = curriculum.title.de, curriculum.title.en
    db.session.add(version)
    return version
