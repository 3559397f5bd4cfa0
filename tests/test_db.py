import pytest
from sqlalchemy import inspect, text

from bot.db.engine import (
    current_revision,
    dispose_engines,
    downgrade,
    get_engine,
    head_revision,
    session_scope,
    upgrade,
)
from bot.db.models import Leader
from bot.statuses import LeaderStatus
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


def test_statuses_are_stored_as_their_plain_words(tmp_path):
    """A status written by name (a plain Enum, which psycopg writes as 'PEERS_ONLY') would
    not match what is already stored: on either database the word itself is written."""
    settings = make_settings(tmp_path)
    with session_scope(settings) as session:
        session.add(Leader(team_id="T1", slack_user_id="U1", status=LeaderStatus.PEERS_ONLY))
        session.add(Leader(team_id="T1", slack_user_id="U2"))  # the model's default
    with session_scope(settings) as session:
        stored = dict(session.execute(text("SELECT slack_user_id, status FROM leaders")).all())
    assert stored == {"U1": "peers-only", "U2": "active"}
    assert {type(status) for status in stored.values()} == {str}
    dispose_engines()


def test_a_leader_view_copies_every_column_of_the_row(settings):
    from dataclasses import FrozenInstanceError, fields

    from bot.reflection.leaders import LeaderView, enrol, get_leader

    assert {f.name for f in fields(LeaderView)} == {c.name for c in Leader.__table__.columns}
    enrol(settings, "T1", "U1", day="wed", local_time="08:15", time_zone="Europe/London")
    view = get_leader(settings, "T1", "U1")
    assert isinstance(view, LeaderView)
    assert (view.day, view.local_time, view.status) == ("wed", "08:15", "active")
    assert view.next_due_at is not None  # worked out when the row was written
    with pytest.raises(FrozenInstanceError):
        view.day = "fri"


def test_ephemeral_writes_skip_only_the_fsync_on_sqlite_and_land_in_the_same_database(tmp_path):
    """The posting budget's windows and claim renewals commit without an fsync on SQLite;
    everything else keeps the ordinary, fully synced commits. Both see the same rows."""
    from bot.db.engine import get_ephemeral_engine

    settings = make_settings(tmp_path)
    ordinary, ephemeral = get_engine(settings), get_ephemeral_engine(settings)
    if ordinary.dialect.name != "sqlite":
        assert ephemeral is ordinary
        return
    assert ephemeral is not ordinary and ephemeral is get_ephemeral_engine(settings)
    with ordinary.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    with ephemeral.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    with ephemeral.begin() as connection:
        connection.execute(
            text("INSERT INTO rate_windows VALUES ('ch:T1:D1', '2026-11-30 09:00:00.000000', 1)")
        )
    with ordinary.connect() as connection:
        assert connection.execute(text("SELECT count FROM rate_windows")).scalar() == 1
    dispose_engines()
