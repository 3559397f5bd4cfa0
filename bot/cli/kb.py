"""`tandem kb`: check, index and search the curated knowledge base."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import console, each_input, err
from bot.settings import get_settings

app = typer.Typer(help="The curated knowledge base.", no_args_is_help=True)


@app.command("check")
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


@app.command("ingest")
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


@app.command("search")
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
    for raw in each_input(query):
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
