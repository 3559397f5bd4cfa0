"""Transports: HTTP (Events API behind a load balancer) and Socket Mode (no public URL)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.logging_setup import request_id
from bot.metrics import ACK_SECONDS, EVENTS_ACKED, EVENTS_RECEIVED

log = logging.getLogger(__name__)
SLACK_CHECK_SECONDS = 60


SIGNATURE_MAX_AGE = 300  # seconds: Slack's own replay window
MAX_BODY_BYTES = 1024 * 1024  # Slack's own payloads are far smaller; anything bigger is refused
# Metric labels come only from these: never from what a request says about itself.
EVENT_TYPES = frozenset(
    {
        "app_mention",
        "message",
        "app_home_opened",
        "member_joined_channel",
        "tokens_revoked",
        "app_uninstalled",
        "url_verification",
    }
)
INTERACTIVE_TYPES = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}
)


class Rejected(Exception):
    """A request Tandem will not process, with the HTTP status that says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def verify_signature(secret: str, body: bytes, headers, now: float | None = None) -> None:
    """Slack's v0 signature over the raw bytes (not a decoded string, which would fail on
    bytes that are not UTF-8), checked before anything reads the body."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature.startswith("v0="):
        raise Rejected(401, "unsigned")
    if abs((now or time.time()) - int(timestamp)) > SIGNATURE_MAX_AGE:
        raise Rejected(401, "stale signature")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(expected, signature):
        raise Rejected(401, "bad signature")


def _json_object(raw: str | bytes) -> dict:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise Rejected(400, "malformed json") from None
    if not isinstance(value, dict):
        raise Rejected(400, "not a json object")
    return value


def request_kind(body: bytes, content_type: str) -> str:
    """events:<type>, command or interactive:<type>, from a fixed set (for metrics, never
    content). Raises Rejected(400) for a signed request Tandem cannot read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "not utf-8") from None
    if content_type.startswith("application/json"):
        data = _json_object(text)
        event = data.get("event")
        if event is not None and not isinstance(event, dict):
            raise Rejected(400, "malformed event")
        kind = (event or {}).get("type") or data.get("type")
        return f"events:{kind}" if kind in EVENT_TYPES else "events:other"
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        payload = _json_object(form["payload"][0])
        kind = payload.get("type")
        if not isinstance(kind, str):
            raise Rejected(400, "payload without a type")
        if kind in ("view_submission", "view_closed"):
            view = payload.get("view")
            if not isinstance(view, dict) or not isinstance(view.get("type"), str):
                raise Rejected(400, "view payload without a view")
        if kind == "block_actions" and not isinstance(payload.get("actions"), list):
            raise Rejected(400, "actions payload without actions")
        return f"interactive:{kind}" if kind in INTERACTIVE_TYPES else "interactive:other"
    if "command" in form:
        return "command"
    raise Rejected(400, "not a slack request")


class Warmup:
    """Loads the guidance engine in a background thread after start, so the first answer is
    not slower than the rest; until it is done, /readyz says the index is "warming"."""

    def __init__(self, guidance) -> None:
        self.guidance = guidance
        self.done = threading.Event()
        self.ok = False

    def start(self) -> Warmup:
        threading.Thread(target=self._run, name="tandem-warmup", daemon=True).start()
        return self

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self.guidance.warm()
            self.ok = True
            log.info("guidance engine warm in %.2f s", time.perf_counter() - started)
        except Exception as error:  # /readyz keeps saying why; answers load it on demand
            log.warning("warming the guidance engine failed (%s)", type(error).__name__)
        finally:
            self.done.set()


class Readiness:
    """What /readyz checks: the database, the knowledge index (warm, when warming in the
    background), and Slack auth (cached)."""

    def __init__(self, bolt_app: App, settings=None, leadership=None, warmup=None) -> None:
        self.bolt_app, self.settings, self.leadership = bolt_app, settings, leadership
        self.warmup = warmup
        self._slack_ok_until = 0.0

    def check(self) -> tuple[bool, dict]:
        checks: dict[str, object] = {}
        if self.settings is not None:
            checks["database"] = self._database()
            checks["index"] = self._index()
        checks["slack"] = self._slack()
        if self.leadership is not None:
            checks["scheduler"] = "leader" if self.leadership.is_leader else "standby"
        ok = all(v is True for k, v in checks.items() if k != "scheduler")
        return ok, checks

    def _database(self) -> bool:
        from sqlalchemy import text

        from bot.db.engine import get_engine

        try:
            with get_engine(self.settings).connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def _index(self) -> bool | str:
        if self.warmup is not None:
            if not self.warmup.done.is_set():
                return "warming"  # loading it here too would only compete with the warm-up
            if not self.warmup.ok:
                return False
        try:
            from bot.knowledge.retrieval import get_retriever

            return not get_retriever(self.settings).empty
        except Exception:
            return False

    def _slack(self) -> bool:
        if time.monotonic() < self._slack_ok_until:
            return True
        if self.bolt_app.oauth_flow is not None:
            return True  # many workspaces: each installation is checked as it is used
        try:
            self.bolt_app.client.auth_test()
        except Exception:
            return False
        self._slack_ok_until = time.monotonic() + SLACK_CHECK_SECONDS
        return True


def create_http_app(
    bolt_app: App,
    ready: threading.Event | None = None,
    settings=None,
    leadership=None,
    warmup: Warmup | None = None,
) -> Starlette:
    """`POST /slack/events` for events, commands and interactivity; health, readiness, metrics.

    Bolt's dispatch is synchronous, so it runs in a worker thread: one slow request can
    never hold up the event loop or another request's ack.
    """
    ready = ready or threading.Event()
    readiness = Readiness(bolt_app, settings, leadership, warmup)

    secret = bolt_app._signing_secret

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        request_id.set(request.headers.get("x-request-id") or uuid.uuid4().hex[:16])
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:
            EVENTS_RECEIVED.labels(kind="rejected").inc()
            return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                EVENTS_RECEIVED.labels(kind="rejected").inc()
                return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
        try:
            verify_signature(secret, body, request.headers)
            kind = request_kind(body, request.headers.get("content-type", ""))
        except Rejected as rejected:
            EVENTS_RECEIVED.labels(kind="rejected").inc()
            log.info("request refused: %s", rejected.reason)
            return JSONResponse(
                {"ok": False, "error": rejected.reason}, status_code=rejected.status
            )
        EVENTS_RECEIVED.labels(kind=kind).inc()
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        EVENTS_ACKED.labels(kind=kind, status=str(bolt_response.status)).inc()
        ACK_SECONDS.observe(time.perf_counter() - started)
        return to_starlette_response(bolt_response)

    async def oauth(request: Request) -> Response:
        flow = bolt_app.oauth_flow
        if flow is None:
            return Response("Not found", status_code=404)
        bolt_request = to_bolt_request(request, await request.body())
        handler = (
            flow.handle_installation
            if request.url.path == flow.install_path
            else flow.handle_callback
        )
        return to_starlette_response(await run_in_threadpool(handler, bolt_request))

    async def healthz(_request: Request) -> Response:
        if not ready.is_set():
            return JSONResponse({"ok": False, "status": "starting"}, status_code=503)
        return JSONResponse({"ok": True})

    async def readyz(_request: Request) -> Response:
        ok, checks = await run_in_threadpool(readiness.check)
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/slack/install", oauth, methods=["GET"]),
        Route("/slack/oauth_redirect", oauth, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        ready.set()
        yield

    return Starlette(routes=routes, lifespan=lifespan)


def serve_http(
    bolt_app: App, host: str, port: int, settings=None, leadership=None, warmup=None
) -> None:
    import uvicorn

    app = create_http_app(bolt_app, settings=settings, leadership=leadership, warmup=warmup)
    # log_config=None: uvicorn installs no handlers of its own, so its lines (tracebacks
    # included) go through Tandem's redacting root handler and honour LOG_FORMAT=json.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, log_config=None)


def socket_mode_handler(bolt_app: App, app_token: str, web_client):
    """Socket Mode: Slack pushes events over a WebSocket we open, so no public URL is needed.

    `web_client` (honouring SLACK_API_URL) is used for apps.connections.open."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bolt_app, app_token, web_client=web_client)


def serve_socket_mode(bolt_app: App, app_token: str, web_client) -> None:
    socket_mode_handler(bolt_app, app_token, web_client).start()
