"""Engine and sessions; a fresh database is migrated to the latest schema on first use."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import next_due  # noqa: F401  registers the next-due hook on every leader write
from bot.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
_engines: dict[str, Engine] = {}
_lock = threading.Lock()
# Any constant works; it only has to be the same for every replica of Tandem.
MIGRATION_LOCK_ID = 741_776_001


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _make_engine(url: str, synchronous: str = "FULL") -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten with zeros, not left in free pages for `strings`.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _private_file(path: Path) -> None:
    """The database and everything beside it (WAL, journal, Chroma) readable by Tandem only:
    the folder 0700, the file 0600, whatever the process umask."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    if not path.exists():
        path.touch(mode=0o600)
    path.chmod(0o600)


def scrub(settings: Settings) -> None:
    """After erasure or a retention purge: fold the write-ahead log back into the database
    and truncate it, so erased text does not linger in the -wal file. (With secure_delete on,
    the freed pages themselves are already zeroed.) PostgreSQL keeps dead tuples until
    VACUUM: see docs/security.md."""
    engine = get_engine(settings)
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _migrate(engine: Engine, action, revision: str) -> None:
    """Run Alembic; on PostgreSQL an advisory lock stops replicas racing each other."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        action(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


def get_engine(settings: Settings, migrate: bool = True) -> Engine:
    url = settings.resolved_database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            if migrate and current_revision(engine) != head_revision():
                upgrade(engine)
            _engines[url] = engine
        return engine


EPHEMERAL = "#ephemeral"


def get_ephemeral_engine(settings: Settings) -> Engine:
    """For writes whose loss in a power cut or an OS crash does no harm, made many times a
    second: the posting budget's windows (only the current second counts) and renewals of
    send claims (a claim whose renewal is lost goes stale and is claimed again, looking in
    the DM first). On SQLite its commits skip the fsync (synchronous=NORMAL in WAL mode:
    still atomic and consistent, and made durable by the next ordinary commit); on
    PostgreSQL, and for an in-memory SQLite, it is the ordinary engine."""
    engine = get_engine(settings)
    url = settings.resolved_database_url
    if engine.dialect.name != "sqlite" or url.split("///", 1)[-1] in ("", ":memory:"):
        return engine
    with _lock:
        ephemeral = _engines.get(url + EPHEMERAL)
        if ephemeral is None:
            ephemeral = _engines[url + EPHEMERAL] = _make_engine(url, synchronous="NORMAL")
        return ephemeral


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(settings: Settings):
    """A transaction: committed on success, rolled back on error."""
    factory = sessionmaker(get_engine(settings), expire_on_commit=False)
    session: Session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
