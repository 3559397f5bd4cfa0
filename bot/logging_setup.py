"""Logging that never carries message text, reflection text, tokens or keys."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{8,})")
# slack_sdk logs whole request and response bodies at DEBUG; those carry message text.
_BODY_LOGGERS = ("slack_sdk", "slack_bolt", "httpx", "httpcore", "openai", "urllib3")


class RedactingFilter(logging.Filter):
    """Masks anything that looks like a token, and drops library body dumps at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG and record.name.startswith(_BODY_LOGGERS):
            return False
        message = record.getMessage()
        redacted = _SECRET.sub("[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("chromadb", "httpx", "httpcore", "onnxruntime"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
