"""The `tandem` command line: knowledge base, answers, database and (later) Slack."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from bot.cli_common import parse_at, team_id
from bot.settings import get_settings

# Flags are declared with metavar="": typer 0.29 with click 8.5 would otherwise print a flag
# such as --reset as "--reset <bool>", as if it took a value.
app = typer.Typer(help="Tandem: collaborative leadership reflection.", no_args_is_help=True)
kb_app = typer.Typer(help="The curated knowledge base.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled work.", no_args_is_help=True)
leaders_app = typer.Typer(help="Leaders taking part in check-ins.", no_args_is_help=True)
data_app = typer.Typer(help="Data rights: export, erase, import.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
app.add_typer(leaders_app, name="leaders")
app.add_typer(data_app, name="data")
console = Console()
err = Console(stderr=True)


def _lines(arg: str):
    """`-` means one item per stdin line; anything else is a single item."""
    if arg == "-":
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line.strip():
                yield line
    else:
        yield arg


@kb_app.command("check")
def kb_check() -> None:
    """Validate every knowledge document; exits non-zero on any problem."""
    from bot.knowledge.documents import check_knowledge_base
    from bot.knowledge.passages import near_duplicate_warnings
    from bot.knowledge.taxonomy import load_taxonomy

    settings = get_settings()
    themes = {t.slug for t in load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")}
    report = check_knowledge_base(settings.knowledge_dir, themes)
    report.warnings.extend(near_duplicate_warnings(report.documents))
    for problem in report.problems:
        print(problem, flush=True)
    for warning in report.warnings:
        print(f"{warning} (warning)", flush=True)
    if report.problems:
        err.print(f"[red]{len(report.problems)} problem(s)[/red] in the knowledge base.")
        raise typer.Exit(1)
    counts: dict[str, int] = {}
    for doc in report.documents:
        counts[doc.themes[0]] = counts.get(doc.themes[0], 0) + 1
    console.print(
        f"[green]OK[/green]: {len(report.documents)} documents across {len(counts)} themes."
    )


@kb_app.command("ingest")
def kb_ingest() -> None:
    """Index the knowledge base (incremental: only changed documents are re-embedded)."""
    from rich.progress import Progress

    from bot.knowledge.index import KnowledgeBaseInvalid, ingest

    settings = get_settings()
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Indexing", total=None)

        def on_progress(done: int, total: int, doc_id: str) -> None:
            progress.update(task, total=total, completed=done, description=f"Indexing {doc_id}")

        try:
            report = ingest(settings, on_progress=on_progress)
        except KnowledgeBaseInvalid as problem:
            err.print(
                f"[red]The knowledge base has problems; nothing was indexed.[/red]\n{problem}"
            )
            raise typer.Exit(1) from None
    console.print(
        f"Indexed: {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged; {report.chunks} chunks in {report.seconds:.2f} s."
    )


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="The query, or - for one query per stdin line.")],
    k: Annotated[int, typer.Option("--k", min=1, max=20)] = 3,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """Hybrid search of the knowledge base."""
    from bot.knowledge.retrieval import get_retriever
    from bot.text import clean_query

    settings = get_settings()
    retriever = get_retriever(settings)
    for raw in _lines(query):
        text = clean_query(raw, settings.max_question_chars).text
        outcome = retriever.search(text, k=k)
        if as_json or query == "-":
            payload = {"query": raw, "results": [r.as_json() for r in outcome.results]}
            print(json.dumps(payload, ensure_ascii=False), flush=True)
            continue
        for number, result in enumerate(outcome.results, start=1):
            console.print(
                f"[bold]{number}. {result.title}[/bold] [dim]({result.doc_id}, "
                f"score {result.score:.4f}, similarity {result.similarity:.2f})[/dim]"
            )
            console.print(f"   {result.text[:300]}", markup=False)
        if not outcome.grounded:
            console.print("[yellow]Below the grounding threshold: Tandem would abstain.[/yellow]")


def _print_answer(answer) -> None:
    from bot.services.safety import neutralise

    settings = get_settings()
    body = answer.answer
    if answer.mode == "llm":  # model text is untrusted here too, as in Slack
        body = neutralise(body, settings.allowed_link_domains)
    body = body.replace("*", "**") if answer.grounded else body
    console.print(Panel(Markdown(body), title="Tandem", border_style="cyan"))
    if answer.citations:
        console.print("[dim]Sources:[/dim]")
        for number, citation in enumerate(answer.citations, start=1):
            path = settings.knowledge_dir / "docs" / f"{citation.doc_id}.md"
            # Titles and paths are data: printed as plain text, never read as markup.
            console.print(Text(f"  [{number}] {citation.title}", style="dim"), highlight=False)
            console.print(Text(f"      {path}", style="dim"), highlight=False)
    if answer.note:
        console.print(f"[dim]{answer.note}[/dim]")


CLI_COMMANDS = (
    '*Commands*\n`tandem ask "…"`  one question\n`tandem ask`  a conversation '
    '(follow-ups, "more on 2", "something else?")\n`tandem --help`  everything else'
)


@app.command("ask")
def ask(
    question: Annotated[
        str | None, typer.Argument(help="Your question, or - for one per stdin line.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """Ask for guidance. With no question, starts an interactive session."""
    from bot.guidance.service import GuidanceService
    from bot.logging_setup import configure_logging

    settings = get_settings()
    configure_logging("WARNING")
    service = GuidanceService(settings)
    if question is None:
        _interactive(service)
        return
    for raw in _lines(question):
        answer = service.answer(raw, commands=CLI_COMMANDS)
        if as_json or question == "-":
            payload = answer.as_json()
            payload["query"] = raw if question == "-" else answer.query
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)


def _interactive(service) -> None:
    """A conversation: each answer is remembered in memory only, for follow-ups."""
    from bot.guidance.service import PreviousTurn

    console.print(
        "[bold cyan]Tandem[/bold cyan]: ask me about leading collaboratively. "
        "An empty line or Ctrl-D ends the session."
    )
    previous = None
    while True:
        try:
            question = console.input("[bold]You:[/bold] ")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        answer = service.answer(question, previous=previous, commands=CLI_COMMANDS)
        if answer.grounded:
            previous = PreviousTurn.from_memory(answer.memory())
        _print_answer(answer)
    console.print("Thanks for thinking with me. Take care.")


@app.command("serve")
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


@app.command("sandbox")
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


@app.command("run")
def run() -> None:
    """The main job: the real bot when Slack tokens are set, otherwise the sandbox."""
    settings = get_settings()
    if settings.slack_bot_token or settings.oauth_enabled:
        serve(http=not settings.slack_app_token)
        return
    sandbox()


@jobs_app.command("tick")
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


@jobs_app.command("run")
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


@leaders_app.command("import")
def leaders_import(
    file: Annotated[
        str,
        typer.Argument(
            help="CSV: slack_user_id, organisation, time_zone, cadence, day, time, consent"
        ),
    ],
    team: Annotated[
        str | None, typer.Option("--team", help="Slack team id (default: ask Slack).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """Enrol a cohort: consent=yes enrols; others get an invitation DM on the next tick."""
    from pathlib import Path

    from bot.cohort import import_leaders

    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"Could not read {file}: {error}")
        raise typer.Exit(2) from None
    report = import_leaders(get_settings(), team_id(team), text)
    if as_json:
        print(
            json.dumps(
                {
                    "enrolled": report.enrolled,
                    "invited": report.invited,
                    "updated": report.updated,
                    "problems": report.problems,
                }
            )
        )
    else:
        console.print(
            f"Enrolled {report.enrolled}, invited {report.invited}, updated {report.updated}."
        )
        for problem in report.problems:
            err.print(f"{file}: {problem}", markup=False, highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(1)


@data_app.command("export")
def data_export(
    user: Annotated[str, typer.Option("--user")],
    team: Annotated[str | None, typer.Option("--team")] = None,
) -> None:
    """Print everything Tandem holds about one person, as JSON."""
    from bot.privacy import export_user

    print(
        json.dumps(
            export_user(get_settings(), team_id(team), user, actor="admin-cli"),
            indent=2,
            ensure_ascii=False,
        )
    )


@data_app.command("erase")
def data_erase(
    user: Annotated[str, typer.Option("--user")],
    team: Annotated[str | None, typer.Option("--team")] = None,
) -> None:
    """Erase everything Tandem holds about one person."""
    from bot.privacy import erase_user

    existed = erase_user(get_settings(), team_id(team), user, actor="admin-cli")
    console.print(
        "Erased." if existed else "Nothing was held about that person; recorded the request."
    )


@data_app.command("import")
def data_import(file: Annotated[str, typer.Argument(help="A Tandem export (JSON).")]) -> None:
    """Restore an export: validated first, and written whole or not at all."""
    from pathlib import Path

    from bot.privacy import ImportRejected, import_user

    try:
        raw = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"Could not read {file}: {error}")
        raise typer.Exit(2) from None
    settings = get_settings()
    if not settings.slack_bot_token:
        err.print(
            "Set SLACK_BOT_TOKEN: Tandem asks Slack that the person is in the workspace "
            "before restoring anything for them."
        )
        raise typer.Exit(2)

    def user_exists(team_id: str, user_id: str) -> bool:
        from bot.slack.client import TeamClients

        client = TeamClients(settings).for_team(team_id)
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except Exception:
            return False
        return not user.get("deleted") and user.get("team_id", team_id) == team_id

    try:
        result = import_user(settings, raw, actor="admin-cli", user_exists=user_exists)
    except ImportRejected as problem:
        err.print(
            f"{file} was not imported, and nothing was written: {problem}",
            markup=False,
            soft_wrap=True,  # one line, however narrow the terminal
        )
        raise typer.Exit(1) from None
    except Exception as error:  # never a traceback: it could carry the file's content
        err.print(
            f"{file} was not imported ({type(error).__name__}); nothing was written.",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    console.print(f"Imported {result['entries']} journal entries for {result['slack_user_id']}.")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations (a fresh database is migrated automatically too)."""
    from bot.db.engine import current_revision, get_engine, upgrade

    engine = get_engine(get_settings(), migrate=False)
    upgrade(engine, revision)
    console.print(f"Database at revision {current_revision(engine)}.")


def _add_feature_commands() -> None:
    """Feature packages bring their own command groups (`tandem peers`, `tandem digest`)."""
    from bot.cli_digests import app as digest_app
    from bot.cli_peers import app as peers_app

    app.add_typer(peers_app, name="peers")
    app.add_typer(digest_app, name="digest")


_add_feature_commands()

if __name__ == "__main__":
    app()
