"""`tandem serve`, `tandem sandbox` and `tandem run`: the ways to run Tandem, in Slack or in
the local sandbox, and the main job that picks between them."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import console, err
from bot.settings import get_settings


def serve(
    http: Annotated[
        bool, typer.Option("--http", metavar="", help="HTTP mode instead of Socket Mode.")
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. Loopback by default: /metrics and /readyz are not "
            "for the internet; behind a load balancer use 0.0.0.0 (docs/deploy.md).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 3000,
) -> None:
    """Run Tandem in Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP."""
    from bot.app import build_app
    from bot.guidance.service import GuidanceService
    from bot.logging_setup import configure_logging
    from bot.server import Warmup, serve_http, serve_socket_mode
    from bot.slack.client import make_web_client

    settings = get_settings()
    configure_logging(settings.log_level, fmt=settings.log_format)
    if not (settings.slack_bot_token or settings.oauth_enabled):
        err.print("Set SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) first.")
        raise typer.Exit(2)
    guidance = GuidanceService(settings)
    bolt_app = build_app(settings, guidance=guidance)
    warmup = Warmup(guidance).start()  # the first answer should be as quick as the rest
    from jobs.leadership import DeliveryWorker, SchedulerLeadership

    # One replica (the lock holder) schedules; every replica helps deliver.
    leadership = SchedulerLeadership(settings).start()
    DeliveryWorker(settings).start()
    if settings.slack_app_token and not http:
        console.print("Tandem is connecting to Slack over Socket Mode. Ctrl-C stops it.")
        serve_socket_mode(
            bolt_app, settings.secret_value("slack_app_token"), make_web_client(settings)
        )
        return
    if not settings.slack_signing_secret:
        err.print("HTTP mode needs SLACK_SIGNING_SECRET to verify requests.")
        raise typer.Exit(2)
    console.print(f"Tandem is listening on http://{host}:{port}/slack/events. Ctrl-C stops it.")
    serve_http(bolt_app, host, port, settings=settings, leadership=leadership, warmup=warmup)


def sandbox(
    port: Annotated[int, typer.Option("--port")] = 3000,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    reset: Annotated[
        bool, typer.Option("--reset", metavar="", help="Start with a clean workspace.")
    ] = False,
) -> None:
    """A local Slack-compatible workspace with Tandem wired in, to try in a browser."""
    from sandbox.run import run_sandbox

    run_sandbox(get_settings(), host=host, port=port, reset=reset)


def run() -> None:
    """The main job: the real bot when Slack tokens are set, otherwise the sandbox."""
    settings = get_settings()
    if settings.slack_bot_token or settings.oauth_enabled:
        serve(http=not settings.slack_app_token)
        return
    sandbox()
