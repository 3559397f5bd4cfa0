"""Writes docs/answers.md: 20 test-split questions with the v1 and v2 offline answers side by
side, so anyone can judge what Tandem says. Run: `python -m bench.answers_doc`.

The questions are the first 20 test-split in-topic questions in key order (a hash of the
text, so the choice is fixed and not picked by hand).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.baseline_v1 import RetrieverV1, compose_v1
from bench.evalset import load_eval, select
from bench.quality import calibrate_v1
from bot.guidance.service import GuidanceService
from bot.knowledge.index import ingest
from bot.knowledge.retrieval import Retriever
from bot.settings import REPO_ROOT, Settings

COUNT = 20
OUT = REPO_ROOT / "docs" / "answers.md"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().split("\n"))


def main() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, TANDEM_DATA_DIR=tmp)
        ingest(settings)
        v2 = GuidanceService(settings, Retriever(settings))
        v1 = RetrieverV1(settings)
        questions = load_eval()
        threshold = calibrate_v1(
            v1,
            [q.text for q in select(questions, kind="in_topic", split="dev")],
            [q.text for q in select(questions, kind="off_topic", split="dev")],
        )
        chosen = sorted(select(questions, kind="in_topic", split="test"), key=lambda q: q.key)
        parts = [
            "# Answers, v1 and v2 side by side",
            "",
            "Twenty questions from the test split of the evaluation set (`bench/eval/v2`), written",
            "by people who never saw the knowledge base, chosen by the hash of their text (not by",
            "hand). **v1** is the first offline composer on retrieval v1; **v2** is the offline",
            "composer v2 on retrieval v2 (`bot/guidance/composer.py`). No language model is used.",
            "Regenerate with `.venv/bin/python -m bench.answers_doc`.",
            "",
        ]
        for number, question in enumerate(chosen[:COUNT], start=1):
            outcome = v1.search(question.text, k=3)
            if outcome.best_similarity < threshold:
                old = "I don't have guidance on that in my library, and I'd rather not guess."
            else:
                old = compose_v1(question.text, outcome.results[:3])
            answer = v2.answer(question.text)
            sources = "; ".join(f"[{i}] {c.title}" for i, c in enumerate(answer.citations, 1))
            parts += [
                f"## {number}. {question.text}",
                "",
                "**v1**",
                "",
                _quote(old),
                "",
                "**v2**",
                "",
                _quote(answer.answer),
                "",
                f"Sources: {sources}" if sources else "",
                "",
            ]
    OUT.write_text("\n".join(parts).rstrip() + "\n", "utf-8")
    return OUT


if __name__ == "__main__":
    print(main())
