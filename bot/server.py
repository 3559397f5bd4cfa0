"""Transports: HTTP (Events API behind a load balancer) and Socket Mode (no public URL)."""

from __future__ import annotations

import contextlib
import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)


def create_http_app(bolt_app: App, ready: threading.Event | None = None) -> Starlette:
    """`POST /slack/events` for events, commands and interactivity; `GET /healthz`.

    Bolt's dispatch is synchronous, so it runs in a worker thread: one slow request can
    never hold up the event loop or another request's ack.
    """
    ready = ready or threading.Event()

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def oauth(request: Request) -> Response:
        flow = bolt_app.oauth_flow
        if flow is None:
            return Response("Not found", status_code=404)
        bolt_request = to_bolt_request(request, await request.body())
        if request.url.path == flow.install_path:
            handler = flow.handle_installation
        else:
            handler = flow.handle_callback
        return to_starlette_response(await run_in_threadpool(handler, bolt_request))

    async def healthz(_request: Request) -> Response:
        if not ready.is_set():
            return JSONResponse({"ok": False, "status": "starting"}, status_code=503)
        return JSONResponse({"ok": True})

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/slack/install", oauth, methods=["GET"]),
        Route("/slack/oauth_redirect", oauth, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        ready.set()
        yield

    return Starlette(routes=routes, lifespan=lifespan)


def serve_http(bolt_app: App, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        create_http_app(bolt_app), host=host, port=port, log_level="warning", access_log=False
    )


def socket_mode_handler(bolt_app: App, app_token: str, web_client):
    """Socket Mode: Slack pushes events over a WebSocket we open, so no public URL is needed.

    `web_client` (honouring SLACK_API_URL) is used for apps.connections.open."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bolt_app, app_token, web_client=web_client)


def serve_socket_mode(bolt_app: App, app_token: str, web_client) -> None:
    socket_mode_handler(bolt_app, app_token, web_client).start()
