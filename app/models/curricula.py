"""Curricula in the database: a curriculum, its immutable versions, and the
elements of each version (which sessions and, later, attendance refer to).

A version keeps the TOML source it was made from; the planning model is
loaded from that source, so the database and the file format never drift.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organisations import Organisation
from app.schema import UTCDateTime, utcnow
from curricula.loader import load_text
from curricula.model import Curriculum
from curricula.model import Text as BilingualText


class CurriculumRecord(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "curricula"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    # None: a shipped standard, read-only and visible to every organisation.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    upstream_id: Mapped[int | None] = mapped_column(ForeignKey("curricula.id"))
    title_de: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    upstream: Mapped[CurriculumRecord | None] = relationship(remote_side=[id])
    versions: Mapped[list[CurriculumVersion]] = relationship(
        back_populates="curriculum", order_by="CurriculumVersion.number"
    )

    @property
    def is_standard(self) -> bool:
        return self.organisation_id is None

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_de


class CurriculumVersion(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "curriculum_versions"
    __table_args__ = (UniqueConstraint("curriculum_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("curricula.id"), index=True)
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    # None while a draft: only a draft can change; a published version never does.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # For a fork: the upstream version this version is in step with.
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_versions.id"))
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    curriculum: Mapped[CurriculumRecord] = relationship(back_populates="versions")
    based_on: Mapped[CurriculumVersion | None] = relationship(remote_side=[id])
    elements: Mapped[list[CurriculumElement]] = relationship(
        back_populates="version", order_by="CurriculumElement.position"
    )

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    @property
    def model(self) -> Curriculum:
        if self.is_draft:  # a draft changes: never from the shared cache
            return load_text(self.source, source=f"draft {self.id}")
        return _parsed(self.id, self.source)

    def element_by_key(self, key: str) -> CurriculumElement:
        return next(e for e in self.elements if e.key == key)


@lru_cache(maxsize=512)
def _parsed(version_id: int, source: str) -> Curriculum:
    # Published versions never change, so a parsed copy is safe to share.
    return load_text(source, source=f"version {version_id}")


class CurriculumElement(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "curriculum_elements"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_versions.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(20))
    title_de: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    teaching_hours: Mapped[float] = mapped_column(default=0.0)
    counts_for_certificate: Mapped[bool] = mapped_column(default=True)

    version: Mapped[CurriculumVersion] = relationship(back_populates="elements")

    @property
    def text(self) -> BilingualText:
        return BilingualText(self.title_de, self.title_en)

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_de
