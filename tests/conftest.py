"""Shared fixtures: real Chroma in temporary folders, the real embedding model, real databases."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT, Settings

POSTGRES_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


# `TANDEM_TEST_DATABASE=postgres make test-postgres` runs the same tests on PostgreSQL,
# each test in a fresh database of its own.
TEST_DATABASE = os.environ.get("TANDEM_TEST_DATABASE", "sqlite")
_created_databases: list[str] = []


def fresh_database_url(sqlite_path: Path) -> str:
    """SQLite by default; a fresh PostgreSQL database when TANDEM_TEST_DATABASE=postgres."""
    if TEST_DATABASE != "postgres":
        return f"sqlite:///{sqlite_path}"
    if not postgres_available():
        pytest.skip(
            f"TANDEM_TEST_DATABASE=postgres but PostgreSQL is not reachable at {POSTGRES_URL}"
        )
    import psycopg

    name = f"tandem_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    _created_databases.append(name)
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def make_settings(data_dir: Path, **overrides) -> Settings:
    # The outbox's waits between tries are kept short: tests prove the retries, not the wait.
    values = {"TANDEM_DATA_DIR": str(data_dir), "OUTBOX_BACKOFF_SECONDS": "0.05"}
    if "DATABASE_URL" not in overrides:
        values["DATABASE_URL"] = fresh_database_url(Path(data_dir) / "tandem.db")
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def _release_database_connections():
    """On PostgreSQL, each test's engine is closed after it, so connections never pile up."""
    yield
    if TEST_DATABASE == "postgres":
        from bot.db.engine import dispose_engines

        dispose_engines()


def pytest_sessionfinish(session, exitstatus):
    if not _created_databases:
        return
    import psycopg

    from bot.db.engine import dispose_engines

    dispose_engines()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        for name in _created_databases:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory) -> Settings:
    """Settings whose index holds the whole real knowledge base, ingested once per run."""
    from bot.knowledge.index import ingest

    data_dir = tmp_path_factory.mktemp("kb")
    settings = make_settings(data_dir)
    ingest(settings)
    return settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def small_kb(tmp_path) -> Settings:
    """A three-document copy of the knowledge base that a test may change freely."""
    knowledge = tmp_path / "knowledge"
    (knowledge / "docs").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "knowledge" / "taxonomy.yaml", knowledge / "taxonomy.yaml")
    for path in sorted((REPO_ROOT / "knowledge" / "docs").glob("*.md"))[:3]:
        shutil.copy(path, knowledge / "docs" / path.name)
    return make_settings(tmp_path / "data", TANDEM_KNOWLEDGE_DIR=str(knowledge))


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture
def postgres_url() -> str:
    if not postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return POSTGRES_URL


@pytest.fixture
def fresh_database(postgres_url):
    """A PostgreSQL database of the test's own, dropped after it: tests never share the
    server's `test` database, whose schema another checkout may have migrated."""
    import psycopg

    from bot.db.engine import dispose_engines

    name = f"tandem_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    dispose_engines()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
