"""Signed HTTP requests from "Slack" to the app, with Slack's 3-second deadline and retries.

Events API requests go through a background queue and are redelivered on timeout or error,
as Slack does. Slash commands and interactivity are sent synchronously and never retried
(Slack does not retry those either; the user sees an error instead).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


def signature_headers(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict:
    """The two headers Slack signs every request with (v0 HMAC-SHA256 of ``v0:ts:body``)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


@dataclass(frozen=True)
class AppResponse:
    """What the app answered to one request; ``status`` is None when it never answered."""

    status: int | None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    latency_ms: float = 0.0
    error: str | None = None  # Slack's retry reason: http_timeout, http_error, connection_failed

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _lower(headers) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


# No proxies: the app is always on loopback, and an inherited HTTP_PROXY would break that.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def send_signed(
    url: str,
    body: bytes,
    *,
    content_type: str,
    signing_secret: str,
    timeout: float,
    extra_headers: dict | None = None,
) -> AppResponse:
    """POST one signed request and classify the outcome the way Slack's retry logic does."""
    headers = {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        **signature_headers(signing_secret, body),
        **(extra_headers or {}),
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()

    def elapsed() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
            return AppResponse(response.status, text, _lower(response.headers), elapsed())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        return AppResponse(exc.code, text, _lower(exc.headers), elapsed(), "http_error")
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        timed_out = isinstance(reason, TimeoutError) or "timed out" in str(reason)
        return AppResponse(
            None, "", {}, elapsed(), "http_timeout" if timed_out else "connection_failed"
        )


@dataclass
class _Job:
    kind: str
    body: bytes
    content_type: str
    label: dict


class Deliverer:
    """Queue of Events API deliveries worked by background threads, plus synchronous sends.

    ``target`` returns the app URL at send time, so a test may set it after queuing starts;
    ``record`` receives one dict per attempt for the workspace's delivery log.
    """

    def __init__(
        self,
        *,
        target: Callable[[], str | None],
        signing_secret: str,
        record: Callable[[dict], None],
        ack_timeout: float = 3.0,
        retry_delay: float = 0.2,
        max_retries: int = 3,
        workers: int = 1,
    ):
        self.target = target
        self.signing_secret = signing_secret
        self.record = record
        self.ack_timeout = ack_timeout
        self.retry_delay = retry_delay
        self.max_retries = max_retries
        self.workers = workers
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._pending = 0
        self._idle = threading.Condition()
        self._start_lock = threading.Lock()

    def enqueue(self, kind: str, body: bytes, content_type: str, label: dict) -> None:
        """Queue a delivery that will be retried like an Events API request."""
        self._ensure_workers()
        with self._idle:
            self._pending += 1
        self._queue.put(_Job(kind, body, content_type, label))

    def send_now(self, kind: str, body: bytes, content_type: str, label: dict) -> AppResponse:
        """Deliver once, in the caller's thread, with the ack deadline; never retried."""
        return self._attempt(_Job(kind, body, content_type, label), retry_num=0, reason=None)

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is queued or in flight (retries included), False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=self.ack_timeout + 1)
        self._threads = []

    def _ensure_workers(self) -> None:
        with self._start_lock:
            while len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"sandbox-delivery-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self._deliver_with_retries(job)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver_with_retries(self, job: _Job) -> None:
        response = self._attempt(job, retry_num=0, reason=None)
        for retry_num in range(1, self.max_retries + 1):
            if response.ok or response.error == "no_app_url":
                return
            if response.headers.get("x-slack-no-retry") == "1":
                return
            time.sleep(self.retry_delay)
            response = self._attempt(job, retry_num=retry_num, reason=response.error)

    def _attempt(self, job: _Job, *, retry_num: int, reason: str | None) -> AppResponse:
        url = self.target()
        if not url:
            response = AppResponse(None, error="no_app_url")
        else:
            extra = {}
            if retry_num:
                extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason or ""}
            response = send_signed(
                url,
                job.body,
                content_type=job.content_type,
                signing_secret=self.signing_secret,
                timeout=self.ack_timeout,
                extra_headers=extra,
            )
        self.record(
            {
                "kind": job.kind,
                **job.label,
                "status": response.status,
                "retry_num": retry_num,
                "latency_ms": response.latency_ms,
                "error": response.error,
                "at": time.time(),
            }
        )
        return response
