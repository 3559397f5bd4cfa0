"""Web API clients: every one honours SLACK_API_URL and retries 429s and dropped connections."""

from __future__ import annotations

import http.client
import io
import select
import threading
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

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


class _Connections(threading.local):
    """Each thread's open connections to Slack, one per host."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}

    def __deepcopy__(self, memo) -> _Connections:
        # Bolt copies each request (and the client in it) for its lazy listeners: a copy
        # starts with no connections, which belong to the threads that opened them.
        return _Connections()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection the server has closed reads as ready (at end of file)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class InstrumentedWebClient(WebClient):
    """A WebClient that counts calls by API method and outcome, and keeps its connections.

    slack_sdk opens a new connection (a TLS handshake against Slack) for every call; this
    client keeps one per thread and host alive. Failures surface as urllib's would: a request
    that never went out as URLError, a lost answer as the socket error itself, an error
    status as HTTPError, so the retry handlers and the outbox treat them as before."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._connections = _Connections()

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

    def _perform_urllib_http_request_internal(self, url: str, req) -> dict:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        key = (parts.scheme, parts.hostname or "", parts.port)
        connection = self._connections.open.get(key)
        if connection is not None and _dropped(connection):
            connection.close()
            connection = None
        if connection is None:
            if parts.scheme == "https":
                connection = http.client.HTTPSConnection(
                    parts.hostname, parts.port, timeout=self.timeout, context=self.ssl
                )
            else:
                connection = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=self.timeout
                )
            self._connections.open[key] = connection
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {name: str(value) for name, value in req.header_items()}
        try:
            try:
                connection.request("POST", target, body=req.data, headers=headers)
            except OSError as failure:  # as urllib: the request did not go out whole
                raise URLError(failure) from failure
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            self._connections.open.pop(key, None)
            raise
        if response.will_close:
            connection.close()
            self._connections.open.pop(key, None)
        if not 200 <= response.status < 300:
            raise HTTPError(url, response.status, response.reason, response.msg, io.BytesIO(body))
        if response.msg.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.msg, "body": body}
        charset = response.msg.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.msg, "body": body.decode(charset)}


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
