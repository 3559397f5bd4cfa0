"""HTTP face of the sandbox workspace: Slack's Web API plus the URLs Slack hands out.

Routes: ``/api/<method>`` (Web API), ``/upload/<file_id>`` (external upload URLs),
``/response/<token>`` (response_url) and ``/files/<id>/<name>`` (url_private).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from sandbox.workspace import Workspace


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() or None if header.lower().startswith("bearer ") else None


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Arguments from a JSON, form-encoded or multipart body, as Slack accepts all three."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        if not isinstance(parsed, dict):
            raise ValueError("JSON body must be an object")
        return parsed
    if content_type.startswith("multipart/form-data"):
        from sandbox.workspace import parse_multipart

        return {
            name: data if filename else data.decode("utf-8")
            for name, filename, data in parse_multipart(body, content_type)
        }
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


SERVER_SEND = "sandbox.server_send"


class KeepServerSend:
    """Outermost ASGI layer: keeps the server's own send, which a dropped connection needs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


class DropConnection(Response):
    """Not an answer: the connection is reset (RST) instead, as a failing network does."""

    def __init__(self) -> None:
        super().__init__(status_code=599)

    async def __call__(self, scope, receive, send) -> None:
        # uvicorn's own send is a method of the request cycle, which holds the connection.
        cycle = getattr(scope.get(SERVER_SEND), "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None:
            raise RuntimeError("cannot reach the connection to drop it")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await asyncio.sleep(0.05)  # let the server see the connection is gone


def build_app(workspace: Workspace) -> Starlette:
    """The Starlette application serving one workspace."""

    async def web_api(request: Request) -> Response:
        try:
            params: dict[str, Any] = dict(request.query_params)
            params.update(parse_body(await request.body(), request.headers.get("content-type", "")))
        except ValueError:
            return JSONResponse({"ok": False, "error": "invalid_json"})
        token = _bearer(request) or params.pop("token", None)
        params.pop("token", None)
        method = request.path_params["method"]
        fault = workspace.take_transport_fault(method)
        status, body, headers = workspace.handle_api(method, params, token)
        if fault == "reset":
            return DropConnection()
        if fault == "timeout":
            await asyncio.sleep(workspace.hang_seconds)
        return JSONResponse(body, status_code=status, headers=headers)

    async def upload(request: Request) -> Response:
        status, text = workspace.receive_upload(
            request.path_params["file_id"],
            await request.body(),
            request.headers.get("content-type", ""),
        )
        return PlainTextResponse(text, status_code=status)

    async def response_url(request: Request) -> Response:
        body = await request.body()
        try:
            payload = parse_body(body, request.headers.get("content-type", ""))
            if "payload" in payload and isinstance(payload["payload"], str):
                payload = json.loads(payload["payload"])
        except ValueError:
            payload = None
        status, text = workspace.handle_response_url(request.path_params["token"], payload)
        return PlainTextResponse(text, status_code=status)

    async def file_download(request: Request) -> Response:
        content = workspace.file_content(request.path_params["file_id"], _bearer(request))
        if content is None:
            return PlainTextResponse("file_not_found", status_code=404)
        return Response(content, media_type="application/octet-stream")

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "team_id": workspace.team_id})

    return Starlette(
        routes=[
            Route("/api/{method}", web_api, methods=["GET", "POST"]),
            Route("/upload/{file_id}", upload, methods=["POST", "PUT"]),
            Route("/response/{token}", response_url, methods=["POST"]),
            Route("/files/{file_id}/{name}", file_download, methods=["GET"]),
            Route("/", health, methods=["GET"]),
        ]
    )


class ServerThread:
    """Runs an ASGI app under uvicorn on a background thread.

    The socket is bound here (port 0 picks a free one) and handed to uvicorn, so the port is
    known before the first request and nothing races for it.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, lifespan: str = "off"):
        self.app = app
        self.host = host
        self.requested_port = port
        self.lifespan = lifespan  # "on" for apps whose startup hooks matter (Tandem's /healthz)
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan=self.lifespan
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sandbox-uvicorn", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


class WorkspaceServer:
    """Serves a :class:`Workspace` on 127.0.0.1; usable as a context manager."""

    def __init__(self, workspace: Workspace, host: str = "127.0.0.1", port: int = 0):
        self.workspace = workspace
        self._runner = ServerThread(KeepServerSend(build_app(workspace)), host, port)

    def start(self) -> WorkspaceServer:
        """Start serving; returns once requests are accepted."""
        self._runner.start()
        self.workspace.base_url = self.url
        return self

    def stop(self) -> None:
        self._runner.stop()

    @property
    def url(self) -> str:
        return self._runner.url

    @property
    def api_url(self) -> str:
        """The ``base_url`` for slack_sdk's WebClient (trailing slash included)."""
        return f"{self.url}/api/"

    def __enter__(self) -> WorkspaceServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
