"""The shared evaluation set (bench/eval/v2): questions written blind to the knowledge base.

`questions.yaml` was written by people who never saw the documents, as leaders type in
Slack; `labels.yaml` adds, for each in-topic question, the documents that would be an
acceptable first answer (labelled afterwards, from the documents' titles and guidance).
Each question belongs to the dev or the test split by a hash of its text, so the split
never changes when questions are added. Tune on dev; report test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

EVAL_DIR = Path(__file__).parent / "eval" / "v2"


def question_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]


def split_of(text: str) -> str:
    return "dev" if int(question_key(text), 16) % 2 == 0 else "test"


@dataclass(frozen=True)
class EvalQuestion:
    text: str
    kind: str  # in_topic | off_topic | adversarial | conversation
    split: str
    docs: tuple[str, ...] = ()  # acceptable documents, best first (in_topic only)
    expect: str = ""  # adversarial and conversation: what should happen
    previous: str = ""  # conversation: the earlier question
    redirect: str = ""  # off_topic: who should answer instead
    style: str = ""
    strain: bool = False
    need: str = ""

    @property
    def key(self) -> str:
        return question_key(self.text)

    @property
    def boundary(self) -> bool:
        return self.need.startswith("boundary")


@lru_cache(maxsize=1)
def load_eval(eval_dir: Path = EVAL_DIR) -> tuple[EvalQuestion, ...]:
    raw = yaml.safe_load((eval_dir / "questions.yaml").read_text("utf-8"))["questions"]
    labels_path = eval_dir / "labels.yaml"
    labels = {}
    if labels_path.exists():
        labels = (yaml.safe_load(labels_path.read_text("utf-8")) or {}).get("labels", {})
    found = []
    for item in raw:
        text = str(item["q"])
        found.append(
            EvalQuestion(
                text=text,
                kind=item["kind"],
                split=split_of(text),
                docs=tuple(labels.get(question_key(text), {}).get("docs", [])),
                expect=str(item.get("expect", "")),
                previous=str(item.get("previous", "")),
                redirect=str(item.get("redirect", "")),
                style=str(item.get("style", "")),
                strain=bool(item.get("strain", False)),
                need=str(item.get("need", "")),
            )
        )
    return tuple(found)


def select(questions, *, kind: str | None = None, split: str | None = None, labelled=False):
    return [
        q
        for q in questions
        if (kind is None or q.kind == kind)
        and (split is None or q.split == split)
        and (not labelled or q.docs)
    ]


@lru_cache(maxsize=1)
def load_second_reader(eval_dir: Path = EVAL_DIR) -> dict[str, dict[str, str]]:
    """A blind second reader's verdicts (good, partial, no) on each question's pooled
    documents, by question key (`second_reader.yaml`); empty when the file is absent."""
    path = eval_dir / "second_reader.yaml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text("utf-8")).get("judgements", {})


FRESH_DIR = Path(__file__).parent / "eval" / "fresh"


@dataclass(frozen=True)
class FreshSet:
    """A set of questions written blind by one writer, judged by blind readers: the top
    documents Tandem and its keyword-only and meaning-only modes found were pooled and each
    judged good, partial or no (`judgements`, by question key). `role` says whether the set
    has shaped the knowledge base (dev) or only measures it (test)."""

    name: str
    role: str
    in_topic: tuple[str, ...]
    off_topic: tuple[str, ...]
    judgements: dict[str, dict[str, str]]


def load_fresh(fresh_dir: Path = FRESH_DIR) -> list[FreshSet]:
    """Every fresh set in `bench/eval/fresh/` (questions in `<name>.yaml`, verdicts in
    `<name>.judged.yaml`); empty when there are none."""
    found = []
    for path in sorted(fresh_dir.glob("*.yaml")):
        if path.name.endswith(".judged.yaml"):
            continue
        raw = yaml.safe_load(path.read_text("utf-8"))
        judged = fresh_dir / f"{path.stem}.judged.yaml"
        verdicts = (
            yaml.safe_load(judged.read_text("utf-8"))["judgements"] if judged.exists() else {}
        )
        found.append(
            FreshSet(
                path.stem,
                str(raw["role"]),
                tuple(raw["in_topic"]),
                tuple(raw["off_topic"]),
                {key: {d: str(v) for d, v in docs.items()} for key, docs in verdicts.items()},
            )
        )
    return found
