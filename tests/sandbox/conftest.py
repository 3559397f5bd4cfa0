"""Helpers for tests of the `tandem sandbox` page: a running sandbox and a client for it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.settings import Settings
from sandbox.run import Sandbox
from tests.conftest import make_settings


def sandbox_settings(data_dir: Path, kb_settings: Settings) -> Settings:
    """A data dir of the test's own; the knowledge index is the session's, ingested once,
    so the sandbox's own ingest finds nothing to do."""
    return make_settings(data_dir, CHROMA_PATH=str(kb_settings.resolved_chroma_path))


@pytest.fixture(scope="module")
def sandbox(kb_settings, tmp_path_factory):
    """One sandbox per test module: real workspace, real Tandem over HTTP, the page backend."""
    settings = sandbox_settings(tmp_path_factory.mktemp("sandbox"), kb_settings)
    with Sandbox(settings, port=0, tick_seconds=None) as running:
        yield running


@pytest.fixture(scope="module")
def page(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=30) as client:
        yield client
