"""Shared set-up for benchmarks: a workspace server and Tandem wired together, as in tests."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"


@contextlib.contextmanager
def indexed_settings():
    """Settings in a temporary data dir with the knowledge base indexed."""
    from bot.knowledge.index import ingest

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, TANDEM_DATA_DIR=tmp)
        ingest(settings)
        yield settings


def bench_workspace(users: int):
    """The benchmarks' Slack stand-in: one workspace with `users` people, U00000 onwards."""
    from sandbox.workspace import Workspace

    ws = Workspace(
        signing_secret=SECRET,
        bot_token=TOKEN,
        team_id="T0BENCH",
        bot_user_id="UTANDEMBOT",
        bot_id="BTANDEM",
        app_id="A0TANDEM",
    )
    for n in range(users):
        ws.add_user(
            f"U{n:05d}", name=f"Leader {n}", tz="Europe/London", organisation=f"Org {n % 40}"
        )
    return ws


@contextlib.contextmanager
def workspace_and_tandem(settings: Settings, users: int = 5, database: Path | None = None, **extra):
    from bot.app import build_app
    from bot.server import create_http_app
    from sandbox.workspace import WorkspaceServer
    from tests.support.servers import ASGIServer

    ws = bench_workspace(users)
    with WorkspaceServer(ws) as server:
        update = {
            "slack_api_url": server.api_url,
            "slack_bot_token": SecretStr(TOKEN),
            "slack_signing_secret": SecretStr(SECRET),
            **extra,
        }
        if database is not None:
            update["database_url"] = f"sqlite:///{database}"
        tandem_settings = settings.model_copy(update=update)
        app = build_app(tandem_settings)
        with ASGIServer(create_http_app(app)) as tandem:
            ws.app_url = tandem.url + "/slack/events"
            yield ws, tandem_settings, tandem
