"""`tandem sandbox`: Tandem in a local Slack-compatible workspace, tried in a browser.

Three loopback servers work together: the workspace's Web API (what Tandem's WebClient
calls), Tandem itself over HTTP exactly as in production (``bot.app.build_app`` behind
``bot.server.create_http_app``, signed requests to ``/slack/events``), and the page that
lets a person act as one of the demo leaders. Tandem never knows it is in a sandbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import secrets
import signal
import threading
import time
from pathlib import Path

from pydantic import SecretStr

from bot import clock as bot_clock
from bot.listeners.context import Registry
from bot.settings import Settings
from sandbox.clock import SimulatedClock, next_weekday_at
from sandbox.demo import (
    calm_moment,
    enrol_demo_leaders,
    seed_shared_reflections,
    seed_workspace,
)
from sandbox.server import ServerThread
from sandbox.workspace import Workspace, WorkspaceServer

log = logging.getLogger(__name__)
SNAPSHOT_NAME = "sandbox-workspace.json"
KEEP_LOG_ENTRIES = 500  # Web API calls and deliveries kept in the snapshot, newest last
SAVE_EVERY = 1.0


class Sandbox:
    """The workspace, Tandem wired to it, the simulated clock and the page, started and
    stopped as one. ``port=0`` picks a free port (tests); ``tick_seconds=None`` turns the
    background tick off."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        reset: bool = False,
        tick_seconds: float | None = 30.0,
        ingest: bool = True,
    ):
        self.base_settings = settings
        self.host, self.port, self.reset = host, port, reset
        self.tick_seconds = tick_seconds
        self.ingest = ingest
        self.snapshot_path = Path(settings.data_dir) / SNAPSHOT_NAME
        self.stopping = threading.Event()
        self.clock = SimulatedClock()
        self.restored = False
        self._tick_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._saved_marker: object = None
        self._clock_in_use = contextlib.ExitStack()
        self.ws: Workspace | None = None
        self.settings: Settings | None = None
        self._workspace_server: WorkspaceServer | None = None
        self._tandem: ServerThread | None = None
        self._page: ServerThread | None = None
        self.tandem_commands: Registry | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> Sandbox:
        Path(self.base_settings.data_dir).mkdir(parents=True, exist_ok=True)
        if self.reset:
            self._forget_everything()
        if self.ingest:
            self._prepare_knowledge_base()
        # Tandem reads this sandbox's clock (whichever one is restored) while it runs, so
        # journal stamps, schedules, digests and previews all agree after a fast-forward.
        self._clock_in_use.enter_context(bot_clock.use(lambda: self.clock.now()))
        try:
            self._start_servers()
        except BaseException:
            self.stop()
            raise
        for name, target in (("sandbox-tick", self._tick_loop), ("sandbox-save", self._save_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and save; safe to call twice, and after a failed start."""
        self.stopping.set()  # ends the page's event streams, so uvicorn can stop at once
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        if self._page is not None:
            self._page.stop()
            self._page = None
        if self.ws is not None:
            # An answer still in progress after 5 s is lost; everything posted is kept.
            with contextlib.suppress(TimeoutError):
                self.ws.wait_idle(timeout=5)
            self.save()
        if self._tandem is not None:
            self._tandem.stop()
            self._tandem = None
        if self._workspace_server is not None:
            self._workspace_server.stop()
            self._workspace_server = None
        if self.ws is not None:
            self.ws.close()
        self._clock_in_use.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The page, as a browser on this machine reaches it."""
        if self._page is None:
            raise RuntimeError("the sandbox is not started")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self._page.port}/"

    @property
    def tandem_url(self) -> str:
        if self._tandem is None:
            raise RuntimeError("the sandbox is not started")
        return self._tandem.url

    def _forget_everything(self) -> None:
        """--reset: a fresh workspace and, with the default SQLite, a fresh Tandem database.
        The knowledge index is kept: it holds nobody's words and takes a while to build."""
        self.snapshot_path.unlink(missing_ok=True)
        if self.base_settings.database_url:
            return
        from bot.db.engine import dispose_engines

        dispose_engines()  # nothing in this process may keep the old file open
        database = Path(self.base_settings.data_dir) / "tandem.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)

    def _prepare_knowledge_base(self) -> None:
        """Index the knowledge base (incremental: fast when nothing changed) and load the
        retriever now, so the first question is answered as quickly as the rest."""
        from bot.knowledge.index import ingest
        from bot.knowledge.retrieval import get_retriever

        ingest(self.base_settings)
        get_retriever(self.base_settings).search("trust between partners")

    def _start_servers(self) -> None:
        from bot.app import build_app
        from bot.server import create_http_app
        from sandbox.web import build_page_app

        signing_secret = secrets.token_hex(16)
        bot_token = f"xoxb-sandbox-{secrets.token_hex(12)}"
        self.ws = Workspace(signing_secret=signing_secret, bot_token=bot_token)
        self.restored = self._restore()
        self._workspace_server = WorkspaceServer(self.ws).start()
        # Production HTTP mode, pointed at the local workspace. OAuth and Socket Mode
        # settings from a developer's .env are cleared: they would point elsewhere.
        self.settings = self.base_settings.model_copy(
            update={
                "slack_api_url": self._workspace_server.api_url,
                "slack_bot_token": SecretStr(bot_token),
                "slack_signing_secret": SecretStr(signing_secret),
                "slack_app_token": None,
                "slack_client_id": None,
                "slack_client_secret": None,
            }
        )
        if not self.restored:
            self.clock.advance_to(calm_moment(self.clock.now()))
            seed_workspace(self.ws)
            enrol_demo_leaders(self.settings, self.ws.team_id)
            seed_shared_reflections(self.settings, self.ws.team_id)
        tandem = build_app(self.settings)
        self.tandem_commands = tandem.tandem_services.commands  # for the page's autocomplete
        self._tandem = ServerThread(create_http_app(tandem), "127.0.0.1", 0, lifespan="on")
        self._tandem.start()
        self.ws.app_url = f"{self._tandem.url}/slack/events"
        self._page = ServerThread(build_page_app(self), self.host, self.port)
        self._page.start()

    # ---- persistence ----------------------------------------------------------------------

    def _restore(self) -> bool:
        """Load the saved workspace and clock; a damaged file is kept aside, not fatal."""
        if not self.snapshot_path.exists():
            return False
        try:
            saved = json.loads(self.snapshot_path.read_text(encoding="utf-8"))
            self.ws.restore(saved["workspace"])
            self.clock = SimulatedClock.from_dict(saved.get("clock") or {})
            return True
        except (ValueError, KeyError, TypeError) as problem:
            aside = self.snapshot_path.with_suffix(f".damaged-{int(time.time())}.json")
            self.snapshot_path.rename(aside)
            log.warning("could not read %s (%s); starting fresh", self.snapshot_path, problem)
            return False

    def save(self) -> None:
        """Write the workspace and clock atomically (a crash never leaves half a file)."""
        if self.ws is None:
            return
        snapshot = self.ws.snapshot()
        state = snapshot["state"]
        for log_name in ("calls", "deliveries", "problems"):
            state[log_name] = state[log_name][-KEEP_LOG_ENTRIES:]
        data = {"version": 1, "workspace": snapshot, "clock": self.clock.to_dict()}
        temporary = self.snapshot_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, self.snapshot_path)

    def _save_loop(self) -> None:
        while not self.stopping.wait(SAVE_EVERY):
            marker = (self.ws.revision, self.clock.offset)
            if marker != self._saved_marker:
                try:
                    self.save()
                    self._saved_marker = marker
                except OSError as problem:
                    log.warning("could not save the sandbox workspace: %s", problem)

    # ---- the clock and scheduled work -----------------------------------------------------

    def tick(self) -> dict:
        """Tandem's scheduled work as of the simulated now: check-ins, reminders and more."""
        from jobs.tick import run_tick

        with self._tick_lock:
            return run_tick(self.settings, now=self.clock.naive_utc())

    def next_digest(self) -> dt.datetime | None:
        """When the workspace's next team digest is due (aware UTC), as Tandem schedules it."""
        from bot.digests.config import all_configs
        from bot.schedule import next_occurrence

        now = self.clock.naive_utc()
        upcoming = [
            next_occurrence(config.schedule, now)
            for config in all_configs(self.settings)
            if config.team_id == self.ws.team_id
        ]
        return min((u.astimezone(dt.UTC) for u in upcoming if u), default=None)

    def advance_clock(self, step: str, user_id: str) -> dict:
        """Move the clock (next Monday 09:00 in ``user_id``'s zone, the next digest, an hour
        or a day), then tick at once so whatever became due arrives while the person watches."""
        with self._tick_lock:
            if step == "next_digest":
                due = self.next_digest()
                if due is None:
                    raise LookupError("no digest is set up")
                self.clock.advance_to(due)
            elif step == "next_monday":
                zone = next(u["tz"] for u in self.ws.people() if u["id"] == user_id)
                self.clock.advance_to(next_weekday_at(self.clock.now(), zone))
            elif step == "hour":
                self.clock.advance(dt.timedelta(hours=1))
            elif step == "day":
                self.clock.advance(dt.timedelta(days=1))
            else:
                raise ValueError(f"unknown step {step!r}")
            seed_shared_reflections(self.settings, self.ws.team_id)
        return {k: v for k, v in self.tick().items() if v}

    def enrolled_leaders(self) -> set[str]:
        """The people Tandem will send check-ins to (as its own database says)."""
        from bot.reflection.leaders import get_leader

        found = set()
        for person in self.ws.people():
            leader = get_leader(self.settings, self.ws.team_id, person["id"])
            if leader is not None and leader.status == "active":
                found.add(person["id"])
        return found

    def _tick_loop(self) -> None:
        if self.tick_seconds is None:
            return
        delay = min(2.0, self.tick_seconds)  # soon after start: anything already due
        while not self.stopping.wait(delay):
            delay = self.tick_seconds
            try:
                self.tick()
            except Exception as problem:  # a failed tick must not end the sandbox
                log.warning("scheduled work failed: %s", type(problem).__name__)


def run_sandbox(
    settings: Settings, host: str = "127.0.0.1", port: int = 3000, reset: bool = False
) -> None:
    """Start everything, print where to look, and serve until Ctrl-C."""
    from rich.console import Console
    from rich.panel import Panel

    from bot.knowledge.index import KnowledgeBaseInvalid
    from bot.logging_setup import configure_logging

    configure_logging("WARNING")
    console = Console()
    sandbox = Sandbox(settings, host=host, port=port, reset=reset)
    try:
        with console.status("Preparing the sandbox (indexing the knowledge base)..."):
            sandbox.start()
    except KnowledgeBaseInvalid as problem:
        console.print(f"[red]The knowledge base has problems; fix them first.[/red]\n{problem}")
        raise SystemExit(1) from None
    except OSError as problem:
        if problem.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        console.print(
            f"[red]Could not listen on {host}:{port}[/red] ({problem.strerror or problem}). "
            "Is something else using it? Try [bold]--port 3001[/bold]."
        )
        raise SystemExit(2) from None
    state = "picked up where you left off" if sandbox.restored else "a fresh demo workspace"
    console.print(
        Panel.fit(
            f"Open [bold cyan]{sandbox.url}[/bold cyan] in your browser.\n"
            f"Tandem in a local Slack-like workspace: {state}.\n"
            f"Saved in {sandbox.snapshot_path}; [bold]--reset[/bold] starts clean.\n"
            "Nothing leaves this machine. Ctrl-C stops it.",
            title="Tandem sandbox",
            border_style="cyan",
        )
    )
    _stop_on_sigterm()
    try:
        while not sandbox.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        console.print("Stopping the sandbox...")
    finally:
        sandbox.stop()
    console.print("Stopped. Your workspace is saved.")


def _stop_on_sigterm() -> None:
    """`kill` (or a container stopping) shuts down as cleanly as Ctrl-C does."""

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
