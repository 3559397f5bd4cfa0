"""The reflective question library (prompts/checkins/*.yaml) and fair rotation through it."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.text import read_yaml


@dataclass(frozen=True)
class CheckInQuestion:
    id: str
    theme: str
    text: str
    follow_up: str


@lru_cache(maxsize=4)
def load_questions(prompts_dir: Path) -> tuple[CheckInQuestion, ...]:
    questions = []
    for path in sorted((Path(prompts_dir) / "checkins").glob("*.yaml")):
        data = read_yaml(path.read_text("utf-8"))
        for item in data["questions"]:
            questions.append(
                CheckInQuestion(
                    item["id"], data["theme"], item["text"].strip(), item["follow_up"].strip()
                )
            )
    return tuple(questions)


def question_by_id(prompts_dir: Path, question_id: str) -> CheckInQuestion | None:
    return next((q for q in load_questions(prompts_dir) if q.id == question_id), None)


def choose_question(
    prompts_dir: Path, focus_themes: list[str], asked_before: list[str], seed: str
) -> CheckInQuestion:
    """A question from the leader's set they have seen least often (so none repeats until all
    have been seen), leaning towards their focus themes when they chose some."""
    questions = load_questions(prompts_dir)
    pool = [q for q in questions if q.theme in focus_themes] or list(questions)
    seen = Counter(asked_before)
    fewest = min(seen[q.id] for q in pool)
    candidates = [q for q in pool if seen[q.id] == fewest]
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return candidates[digest % len(candidates)]
