import pytest
from sqlalchemy import inspect

from bot.db.engine import (
    current_revision,
    dispose_engines,
    downgrade,
    get_engine,
    head_revision,
    upgrade,
)
from tests.conftest import make_settings

TABLES = {
    "processed_events",
    "tandem_threads",
    "document_feedback",
    "failed_sends",
    "leaders",
    "checkins",
    "journal_entries",
    "audit_events",
    "slack_installations",
    "slack_bots",
}


def _round_trip(engine):
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine, "head")
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_a_fresh_sqlite_database_is_migrated_on_first_use(tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=None)  # the default: SQLite in the data dir
    engine = get_engine(settings)
    assert current_revision(engine) == head_revision()
    assert (tmp_path / "tandem.db").exists()
    _round_trip(engine)
    dispose_engines()


@pytest.mark.postgres
@pytest.mark.slow
def test_the_same_migrations_run_on_postgresql(fresh_database, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=fresh_database)
    engine = get_engine(settings)
    assert engine.dialect.name == "postgresql"
    assert current_revision(engine) == head_revision()
    _round_trip(engine)
    dispose_engines()
