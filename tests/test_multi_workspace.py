"""Multi-workspace: OAuth install page, installations in our database, revocation at once."""

from __future__ import annotations

import httpx
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.app import build_app
from bot.db.engine import get_engine
from bot.guidance.service import GuidanceService
from bot.server import create_http_app
from sandbox.workspace import WorkspaceServer
from tests.slack_fixtures import BOT, SECRET, TOKEN, make_workspace, slack_settings
from tests.support.servers import ASGIServer
from tests.support.slack_signing import message_event, post_event
from tests.support.waiting import wait_until

TEAM = "T0TANDEM"


def _event(team_id: str, event: dict) -> dict:
    return {
        "token": "x",
        "team_id": team_id,
        "api_app_id": "A0TANDEM",
        "type": "event_callback",
        "event": event,
        "event_id": f"Ev{abs(hash(str(event))) % 10**8}",
        "event_time": 1,
        "authorizations": [{"team_id": team_id, "user_id": BOT, "is_bot": True}],
    }


def test_installations_answer_events_and_are_removed_when_revoked_or_uninstalled(
    kb_settings, tmp_path
):
    ws = make_workspace()
    with WorkspaceServer(ws) as workspace_server:
        settings = slack_settings(
            kb_settings,
            workspace_server.api_url,
            tmp_path / "oauth.db",
            slack_bot_token=None,
            slack_client_id="111.222",
            slack_client_secret=__import__("pydantic").SecretStr("s3cret"),
        )
        store = SQLAlchemyInstallationStore(client_id="111.222", engine=get_engine(settings))
        store.save(
            Installation(
                app_id="A0TANDEM",
                team_id=TEAM,
                user_id="U1",
                bot_token=TOKEN,
                bot_id="BTANDEM",
                bot_user_id=BOT,
                bot_scopes=["chat:write"],
                installed_at=1_700_000_000.0,
            )
        )
        app = build_app(settings, guidance=GuidanceService(settings))
        with ASGIServer(create_http_app(app)) as tandem:
            events = tandem.url + "/slack/events"
            ws.app_url = events

            install_page = httpx.get(tandem.url + "/slack/install", follow_redirects=False)
            assert install_page.status_code in (200, 302)
            assert "client_id=111.222" in (
                install_page.text + install_page.headers.get("location", "")
            )

            dm = ws.open_dm("U1")
            post_event(
                events,
                SECRET,
                message_event("U1", dm, "How do I build trust?", ts="1764150200.000100"),
            )
            wait_until(
                lambda: [
                    m
                    for m in ws.messages(dm)
                    if m.get("bot_id") and "Sources:" in m.get("text", "")
                ]
            )

            revoked = _event(
                TEAM, {"type": "tokens_revoked", "tokens": {"bot": [BOT]}, "event_ts": "1.0"}
            )
            assert post_event(events, SECRET, revoked).status_code == 200
            wait_until(lambda: store.find_bot(enterprise_id=None, team_id=TEAM) is None)

            store.save(
                Installation(
                    app_id="A0TANDEM",
                    team_id=TEAM,
                    user_id="U1",
                    bot_token=TOKEN,
                    bot_id="BTANDEM",
                    bot_user_id=BOT,
                    installed_at=1_700_000_001.0,
                )
            )
            uninstalled = _event(TEAM, {"type": "app_uninstalled", "event_ts": "2.0"})
            assert post_event(events, SECRET, uninstalled).status_code == 200
            wait_until(lambda: store.find_installation(enterprise_id=None, team_id=TEAM) is None)
            assert store.find_bot(enterprise_id=None, team_id=TEAM) is None
