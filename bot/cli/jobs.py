"""`tandem jobs`: one pass of the scheduled work by hand, or the scheduler on its own."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import console, parse_at
from bot.settings import get_settings

app = typer.Typer(help="Scheduled work.", no_args_is_help=True)


@app.command("tick")
def jobs_tick(
    at: Annotated[str | None, typer.Option("--at", help="Run as of this ISO 8601 instant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """One pass of all scheduled work: check-ins, reminders, invitations, purges."""
    from bot.logging_setup import configure_logging
    from jobs.tick import run_tick

    settings = get_settings()
    configure_logging("WARNING")
    counts = run_tick(settings, now=parse_at(at))
    if as_json:
        print(json.dumps(counts, sort_keys=True))
    else:
        for kind, count in sorted(counts.items()):
            console.print(f"{kind}: {count}")


@app.command("run")
def jobs_run() -> None:
    """Run only the scheduler (for a separate scheduler process)."""
    import time

    from bot.logging_setup import configure_logging
    from jobs.scheduler import build_scheduler

    settings = get_settings()
    configure_logging(settings.log_level, fmt=settings.log_format)
    scheduler = build_scheduler(settings)
    scheduler.start()
    console.print(f"Scheduler running every {settings.tick_seconds} s. Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.shutdown()
