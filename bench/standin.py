"""The Slack stand-in (the sandbox's workspace server) in a process of its own.

Run in the same interpreter as the sender, the stand-in's work shares one GIL with it, which
flatters whatever is measured against it. Benchmarks start it with `separate_workspace()`;
it prints its API URL, serves until its input closes, then writes a summary of the posts
it took (per channel, and how many were refused with 429) for the benchmark to check.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bot.settings import REPO_ROOT


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StandIn:
    """A running stand-in process: its API URL, its CPU time, and a way to wait for it."""

    def __init__(self, process: subprocess.Popen, api_url: str) -> None:
        self.process = process
        self.api_url = api_url
        self.summary: dict = {}

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.process.pid)

    def drain(self, quiet: float = 0.3, most: float = 30.0) -> None:
        """Wait until the stand-in has finished what it was doing (no CPU used for `quiet`)."""
        deadline = time.monotonic() + most
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.cpu_seconds()
            if now - last < 0.01:
                return
            last = now


@contextlib.contextmanager
def separate_workspace(users: int, per_minute: int | None = None):
    """Start the stand-in with `users` people (U00000…); yields a StandIn. `per_minute` turns
    on Slack-like limits: one post a second per channel and this many a minute overall."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.standin", str(users), str(per_minute or 0)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    standin = StandIn(process, process.stdout.readline().strip())
    try:
        yield standin
    finally:
        process.stdin.close()
        standin.summary = json.loads(process.stdout.read() or "{}")
        process.wait(timeout=60)


def main(users: int, per_minute: int) -> None:
    from bench.harness import bench_workspace
    from sandbox.workspace import WorkspaceServer

    ws = bench_workspace(users)
    if per_minute:
        ws.rate_limit(per_channel_per_second=1.0, workspace_per_minute=per_minute)
    with WorkspaceServer(ws) as server:
        print(server.api_url, flush=True)
        sys.stdin.read()  # until the benchmark closes our input
        posts = ws.calls_to("chat.postMessage")
    per_channel = Counter(
        call["params"].get("channel")
        for call in posts
        if call.get("ok") and "tandem_checkin" in str(call["params"].get("metadata", ""))
    )
    print(
        json.dumps(
            {
                "posts": sum(1 for call in posts if call.get("ok")),
                "checkin_channels": len(per_channel),
                "most_checkins_per_channel": max(per_channel.values(), default=0),
                "responses_429": sum(1 for call in posts if call.get("status") == 429),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
