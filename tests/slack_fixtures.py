"""The real Tandem app over HTTP, wired to the local Slack-compatible workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_app
from bot.guidance.service import GuidanceService
from bot.server import create_http_app
from bot.settings import Settings
from sandbox.workspace import Workspace, WorkspaceServer
from tests.conftest import fresh_database_url
from tests.support.servers import ASGIServer

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
BOT = "UTANDEMBOT"


@dataclass
class SlackHarness:
    ws: Workspace
    settings: Settings
    url: str
    app: object = None  # the Bolt app, for tests that look at what it registered

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"

    def bot_messages(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        return [m for m in self.ws.messages(channel, thread_ts) if m.get("bot_id")]


def make_workspace() -> Workspace:
    ws = Workspace(
        signing_secret=SECRET,
        bot_token=TOKEN,
        team_id="T0TANDEM",
        bot_user_id=BOT,
        bot_id="BTANDEM",
        app_id="A0TANDEM",
    )
    ws.add_user("U1", name="Amara Okafor", tz="Europe/London", organisation="Northshire ICB")
    ws.add_user("U2", name="Priya Shah", tz="Europe/London", organisation="St Anne's Hospice")
    ws.add_channel("C1", name="leadership-circle", members=["U1", "U2"], bot_member=True)
    ws.add_channel("C2", name="random", members=["U1", "U2"], bot_member=True)
    return ws


def slack_settings(base: Settings, api_url: str, db_path, **extra) -> Settings:
    update = {
        "slack_api_url": api_url,
        "slack_bot_token": SecretStr(TOKEN),
        "slack_signing_secret": SecretStr(SECRET),
        "database_url": fresh_database_url(Path(db_path)),
        **extra,
    }
    return base.model_copy(update=update)


class running_tandem:
    """Context manager: workspace server + Tandem's HTTP transport, wired together."""

    def __init__(self, base: Settings, tmp_path, **extra) -> None:
        self.base, self.tmp_path, self.extra = base, tmp_path, extra

    def __enter__(self) -> SlackHarness:
        self.ws = make_workspace()
        self.workspace_server = WorkspaceServer(self.ws).__enter__()
        settings = slack_settings(
            self.base, self.workspace_server.api_url, self.tmp_path / "tandem.db", **self.extra
        )
        app = build_app(settings, guidance=GuidanceService(settings))
        self.tandem = ASGIServer(create_http_app(app)).__enter__()
        self.ws.app_url = self.tandem.url + "/slack/events"
        return SlackHarness(self.ws, settings, self.tandem.url, app)

    def __exit__(self, *exc) -> None:
        self.ws.wait_idle(timeout=15)
        self.tandem.__exit__(*exc)
        self.workspace_server.__exit__(*exc)
