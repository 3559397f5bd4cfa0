"""Transports: HTTP (Events API behind a load balancer) and Socket Mode (no public URL)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid

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


def request_kind(body: bytes, content_type: str) -> str:
    """events:<type>, command, or interactive:<type>, for metrics (never content)."""
    try:
        if content_type.startswith("application/json"):
            data = json.loads(body)
            event = data.get("event") or {}
            return f"events:{event.get('type') or data.get('type', 'unknown')}"[:60]
        if b"payload=" in body[:20]:
            return "interactive"
        if b"command=" in body:
            return "command"
    except (ValueError, AttributeError):
        pass
    return "unknown"


class Readiness:
    """What /readyz checks: the database, the knowledge index, and Slack auth (cached)."""

    def __init__(self, bolt_app: App, settings=None, leadership=None) -> None:
        self.bolt_app, self.settings, self.leadership = bolt_app, settings, leadership
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

    def _index(self) -> bool:
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
    bolt_app: App, ready: threading.Event | None = None, settings=None, leadership=None
) -> Starlette:
    """`POST /slack/events` for events, commands and interactivity; health, readiness, metrics.

    Bolt's dispatch is synchronous, so it runs in a worker thread: one slow request can
    never hold up the event loop or another request's ack.
    """
    ready = ready or threading.Event()
    readiness = Readiness(bolt_app, settings, leadership)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        request_id.set(request.headers.get("x-request-id") or uuid.uuid4().hex[:16])
        body = await request.body()
        kind = request_kind(body, request.headers.get("content-type", ""))
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


def serve_http(bolt_app: App, host: str, port: int, settings=None, leadership=None) -> None:
    import uvicorn

    app = create_http_app(bolt_app, settings=settings, leadership=leadership)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def socket_mode_handler(bolt_app: App, app_token: str, web_client):
    """Socket Mode: Slack pushes events over a WebSocket we open, so no public URL is needed.

    `web_client` (honouring SLACK_API_URL) is used for apps.connections.open."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bolt_app, app_token, web_client=web_client)


def serve_socket_mode(bolt_app: App, app_token: str, web_client) -> None:
    socket_mode_handler(bolt_app, app_token, web_client).start()
