"""Web API clients: every one honours SLACK_API_URL and retries 429s and dropped connections."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.settings import Settings

RATE_LIMIT_RETRIES = 3


def retry_handlers():
    # RateLimitErrorRetryHandler waits for Slack's Retry-After before trying again.
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=retry_handlers(),
    )


class TeamClients:
    """A Web API client per workspace: the bot token, or the OAuth installation's token."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, WebClient] = {}
        self._store = None

    def for_team(self, team_id: str) -> WebClient | None:
        if team_id in self._clients:
            return self._clients[team_id]
        token = self.settings.secret_value("slack_bot_token")
        if self.settings.oauth_enabled:
            token = self._installation_token(team_id) or token
        if not token:
            return None
        client = make_web_client(self.settings, token)
        self._clients[team_id] = client
        return client

    def _installation_token(self, team_id: str) -> str | None:
        if self._store is None:
            from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

            from bot.db.engine import get_engine

            self._store = SQLAlchemyInstallationStore(
                client_id=self.settings.slack_client_id, engine=get_engine(self.settings)
            )
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot else None
