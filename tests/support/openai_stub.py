"""A local OpenAI-compatible server for tests: the real `openai` client talks to it over HTTP."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIStub:
    """Answers /v1/chat/completions with a scripted behaviour and records each request.

    behaviour: "answer" (returns ``reply``), "sleep" (waits ``delay`` seconds first),
    "malformed" (returns broken JSON), "error" (HTTP 500).
    """

    def __init__(self) -> None:
        self.behaviour = "answer"
        self.reply = "Talk early and often [P1]. What will you try? [P1]"
        self.delay = 0.0
        self.stream_pause = 0.0  # seconds between streamed lines
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(body)
                if stub.behaviour == "sleep":
                    time.sleep(stub.delay)
                if stub.behaviour == "error":
                    self._send(500, b'{"error": {"message": "boom", "type": "server_error"}}')
                    return
                if stub.behaviour == "malformed":
                    self._send(200, b'{"id": "x", "choices": [ {"mess')
                    return
                if body.get("stream"):
                    self._stream(body)
                    return
                payload = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "stub"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": stub.reply},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }
                self._send(200, json.dumps(payload).encode())

            def _stream(self, body: dict) -> None:
                """Server-sent events, a line of the reply at a time, as OpenAI streams."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [line + "\n" for line in stub.reply.split("\n")]
                for piece in pieces:
                    chunk = {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": body.get("model", "stub"),
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(stub.stream_pause)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
