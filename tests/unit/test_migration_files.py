import pytest

from dispatch.db.migrate import DEFAULT_DIR, MigrationError, discover


def test_shipped_migrations_are_numbered_without_gaps():
    versions = [m.version for m in discover(DEFAULT_DIR)]
    assert versions == list(range(1, len(versions) + 1))


def test_bad_name_is_refused(tmp_path):
    (tmp_path / "1_init.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match=r"1_init\.sql"):
        discover(tmp_path)


def test_duplicate_version_is_refused(tmp_path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_b.sql").write_text("SELECT 2")
    with pytest.raises(MigrationError, match="version 1 is also used"):
        discover(tmp_path)
