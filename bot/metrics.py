"""Prometheus metrics. Labels are kinds, types and API methods: never people or channels."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_RECEIVED = Counter("tandem_events_received_total", "Slack requests received", ["kind"])
EVENTS_ACKED = Counter("tandem_events_acked_total", "Slack requests answered", ["kind", "status"])
ACK_SECONDS = Histogram(
    "tandem_ack_seconds",
    "Time from receiving a Slack request to its HTTP response",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SLACK_API_CALLS = Counter(
    "tandem_slack_api_calls_total", "Slack Web API calls", ["method", "outcome"]
)
SLACK_RATE_LIMITED = Counter(
    "tandem_slack_rate_limited_total", "429 responses from Slack", ["method"]
)
SENDS = Counter("tandem_sends_total", "Messages Tandem sent, by kind", ["kind", "outcome"])
TICK_STAGE_FAILURES = Counter(
    "tandem_tick_stage_failures_total", "Tick stages that failed (the others still ran)", ["stage"]
)
MODEL_SECONDS = Histogram(
    "tandem_model_seconds",
    "Language model call time",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40),
)
MODEL_FALLBACKS = Counter(
    "tandem_model_fallbacks_total", "Model answers replaced by the offline composer", ["reason"]
)
RETRIEVAL_SECONDS = Histogram(
    "tandem_retrieval_seconds",
    "Hybrid retrieval time",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
