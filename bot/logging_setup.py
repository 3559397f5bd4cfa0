"""Logging that never carries message text, reflection text, tokens or keys.

LOG_FORMAT=json gives one JSON object per line (for log shippers), with the request id of
the Slack request being handled where there is one.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

_SECRET = re.compile(
    r"(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{8,}|v0=[0-9a-f]{16,})"
)
# Libraries that may put request or response bodies (people's words) into log lines.
_LIBRARIES = (
    "slack_sdk",
    "slack_bolt",
    "httpx",
    "httpcore",
    "openai",
    "urllib3",
    "uvicorn",
    "apscheduler",
)
_DETAIL_MARKERS = ("body", "{", "payload", "text", "(")


class RedactingFilter(logging.Filter):
    """Masks token-like strings; library lines lose any detail that could hold content."""

    def filter(self, record: logging.LogRecord) -> bool:
        from_library = record.name.startswith(_LIBRARIES)
        if from_library and record.levelno <= logging.DEBUG:
            return False  # slack_sdk logs whole request and response bodies at DEBUG
        message = record.getMessage()
        if from_library:
            cut = min((message.find(m) for m in _DETAIL_MARKERS if m in message), default=-1)
            if cut >= 0:
                message = message[:cut].rstrip() + " [details redacted]"
        message = _SECRET.sub("[redacted]", message)
        record.msg, record.args = message, None
        if record.exc_info and from_library:
            record.exc_text = f"{record.exc_info[0].__name__} [traceback redacted]"
            record.exc_info = None
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", ""):
            entry["request_id"] = record.request_id
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", stream=None, fmt: str | None = None) -> logging.Handler:
    """Install one redacting handler on the root logger (idempotent per stream)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    if (fmt or "text") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    if stream is None:
        for existing in list(root.handlers):
            if any(isinstance(f, RedactingFilter) for f in existing.filters):
                root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("chromadb", "onnxruntime", "bm25s"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
