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
    # Version 2 counts teaching units of 45 minutes; a new database starts there.
    assert version.number == 2
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
    with pytest.raises(StandardChanged, match="compact.toml changed but keeps version 2"):
        import_standards()


def test_a_database_with_the_earlier_version_gets_the_new_one_beside_it(tmp_path, monkeypatch):
    """An installation from before teaching units holds version 1 of each
    standard (an hour counted as a unit); importing adds version 2 beside it
    and leaves version 1, which its cohorts follow, as it was."""
    from app.extensions import db as database
    from app.services import standards
    from tests.conftest import app_for, separate_database

    shipped = dict(standards.shipped_sources())
    earlier = {key: text.replace("version = 2", "version = 1", 1) for key, text in shipped.items()}
    with separate_database(tmp_path, "standards_upgrade") as url:
        app = app_for(url)
        with app.app_context():
            database.create_all()
            monkeypatch.setattr(standards, "shipped_sources", lambda: earlier)
            import_standards()
            database.session.commit()
            monkeypatch.setattr(standards, "shipped_sources", lambda: shipped)
            added = import_standards()
            database.session.commit()
            assert sorted((v.curriculum.key, v.number) for v in added) == [
                ("blended", 2),
                ("compact", 2),
            ]
            compact = database.session.scalar(
                select(CurriculumRecord).where(CurriculumRecord.key == "compact")
            )
            assert [(v.number, v.source) for v in compact.versions] == [
                (1, earlier["compact"]),
                (2, shipped["compact"]),
            ]
            database.session.remove()
            database.drop_all()
            database.engine.dispose()
