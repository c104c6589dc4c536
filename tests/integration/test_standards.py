import pytest
from sqlalchemy import func, select

from app.models import CurriculumElement, CurriculumRecord, CurriculumVersion
from app.services.standards import StandardChanged, import_standards


def test_shipped_curricula_are_standards_with_versions_and_elements(db):
    records = db.session.scalars(select(CurriculumRecord).order_by(CurriculumRecord.key)).all()
    assert [r.key for r in records] == ["blended", "compact"]
    assert all(r.is_standard for r in records)
    blended = records[0]
    [version] = blended.versions
    assert version.number == 1
    assert version.published_at is not None
    assert [e.key for e in version.elements][:3] == ["kickoff", "video-1", "webinar"]
    assert version.model.element("checkpoint-2").kind == "checkpoint"


def test_importing_again_changes_nothing(db):
    count = db.session.scalar(select(func.count(CurriculumVersion.id)))
    elements = db.session.scalar(select(func.count(CurriculumElement.id)))
    assert import_standards() == []
    db.session.flush()
    assert db.session.scalar(select(func.count(CurriculumVersion.id))) == count
    assert db.session.scalar(select(func.count(CurriculumElement.id))) == elements


def test_a_changed_definition_needs_a_new_version(db, monkeypatch):
    from app.services import standards

    sources = dict(standards.shipped_sources())
    sources["compact"] = sources["compact"].replace('duration = "4h"', 'duration = "5h"')
    monkeypatch.setattr(standards, "shipped_sources", lambda: sources)
    with pytest.raises(StandardChanged, match="compact.toml changed but keeps version 1"):
        import_standards()
