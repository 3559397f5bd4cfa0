"""`tandem ask`: guidance at the terminal, one question or a conversation."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import console, each_input
from bot.settings import get_settings

CLI_COMMANDS = (
    '*Commands*\n`tandem ask "…"`  one question\n`tandem ask`  a conversation '
    '(follow-ups, "more on 2", "something else?")\n`tandem --help`  everything else'
)


def ask(
    question: Annotated[
        str | None, typer.Argument(help="Your question, or - for one per stdin line.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """Ask for guidance. With no question, starts an interactive session."""
    settings = get_settings()
    if _will_search(question, settings):
        from bot.knowledge.embeddings import load_encoder_in_background
        from bot.knowledge.wordvectors import load_word_encoder_in_background

        # Both models load in threads while the rest is imported and the index is read,
        # rather than after.
        load_encoder_in_background()
        load_word_encoder_in_background()
    from bot.guidance.service import GuidanceService
    from bot.logging_setup import configure_logging

    configure_logging("WARNING")
    service = GuidanceService(settings)
    if question is None:
        _interactive(service)
        return
    for raw in each_input(question):
        answer = service.answer(raw, commands=CLI_COMMANDS)
        if as_json or question == "-":
            payload = answer.as_json()
            payload["query"] = raw if question == "-" else answer.query
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)


def _will_search(question: str | None, settings) -> bool:
    """Whether this run needs the models: a conversation or stdin will; one message only when
    it reads as a question (a greeting or a refusal never loads them, so it need not wait for
    them before exiting). Only a head start: the answer itself does not depend on it."""
    if question is None or question == "-":
        return True
    from bot.guidance.conversation import classify, load_wording
    from bot.text import clean_query

    text = clean_query(question, settings.max_question_chars).text
    return classify(text, load_wording(settings.prompts_dir)).kind == "question"


def _print_answer(answer) -> None:
    # Here, not at the top: rendering Markdown is only for people, and importing it costs
    # a tenth of a second of every `tandem ask --json`.
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.text import Text

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
