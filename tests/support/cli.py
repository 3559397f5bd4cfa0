"""Run the real `tandem` command line in a subprocess, with only the settings a test gives."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(args: list[str], settings, stdin: str | None = None, extra_env: dict | None = None):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TANDEM_", "OPENAI_", "SLACK_", "DATABASE_"))
    }
    env["TANDEM_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
