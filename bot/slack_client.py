"""Web API clients: every one honours SLACK_API_URL and retries 429s and dropped connections."""

from __future__ import annotations

from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.metrics import SLACK_API_CALLS, SLACK_RATE_LIMITED
from bot.settings import Settings

RATE_LIMIT_RETRIES = 3


class CountingRateLimitHandler(RateLimitErrorRetryHandler):
    """Honours Retry-After like its parent, and counts each 429 for the metrics."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if response is not None and response.status_code == 429:
            method = request.url.rsplit("/", 1)[-1]
            SLACK_RATE_LIMITED.labels(method=method).inc()
        return super()._can_retry(state=state, request=request, response=response, error=error)


# Posting twice is not harmless: these are never repeated blindly once the request went out.
NOT_SAFE_TO_REPEAT = frozenset({"chat.postMessage", "chat.postEphemeral"})


class SafeConnectionRetryHandler(ConnectionErrorRetryHandler):
    """Retries dropped connections, except a post whose request may have reached Slack.

    urllib raises URLError only when the request never went out (refused, DNS, connect
    timeout). A reset or timeout while waiting for the answer leaves a post's outcome
    unknown: the outbox settles that by looking for the message before posting again."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        method = request.url.rsplit("/", 1)[-1]
        if method in NOT_SAFE_TO_REPEAT and not isinstance(error, URLError):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def retry_handlers():
    # The rate-limit handler waits for Slack's Retry-After before trying again.
    return [
        SafeConnectionRetryHandler(max_retry_count=2),
        CountingRateLimitHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]


class InstrumentedWebClient(WebClient):
    """A WebClient that counts calls by API method and outcome."""

    def api_call(self, api_method: str, **kwargs):
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as failure:
            SLACK_API_CALLS.labels(
                method=api_method, outcome=str(failure.response.get("error", "error"))[:40]
            ).inc()
            raise
        except Exception:
            SLACK_API_CALLS.labels(method=api_method, outcome="connection_error").inc()
            raise
        SLACK_API_CALLS.labels(method=api_method, outcome="ok").inc()
        return response


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    return InstrumentedWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=settings.slack_timeout_seconds,
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
