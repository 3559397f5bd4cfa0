"""Benchmarks: `make bench`. Importing bot first applies its process settings (threads,
telemetry) before numpy is loaded here."""

import bot  # noqa: F401
