"""The scope gate: is this a question about leading collaboratively, or for someone else?

One similarity threshold cannot tell "how do I rebuild trust with the council" from "what
is the NEWS2 escalation score": near-off-topic questions use the same words. So the gate
is a small model, a logistic regression over the question's embedding, trained when the
index loads on two sets of examples:

- in scope: the ways leaders ask for each document (front-matter `questions`), each
  document's title and insight, and `knowledge/scope/inscope_boundary.yaml` (the leadership
  side of HR, clinical, IT and finance matters);
- out of scope: `knowledge/scope/offtopic.yaml`, realistic questions for someone else,
  each labelled with who can help.

Its threshold is calibrated on the evaluation set's dev split (`make calibrate`) and kept
in `knowledge/scope/gate.yaml`. Who can help is read from the nearest off-topic examples.
Pure numpy; training takes milliseconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.settings import Settings
from bot.text import read_yaml

REDIRECTS = (
    "clinical",
    "pharmacy",
    "hr",
    "employment_law",
    "it",
    "payroll",
    "finance",
    "legal",
    "estates",
    "general",
)
DEFAULT_THRESHOLD = 0.5
DEFAULT_PARAPHRASE = 0.85
NEIGHBOURS = 5


@dataclass(frozen=True)
class ScopeExamples:
    inside: tuple[str, ...]
    outside: tuple[str, ...]
    redirects: tuple[str, ...]  # one per `outside` example
    threshold: float
    paraphrase: float = DEFAULT_PARAPHRASE


def _questions(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = read_yaml(path.read_text("utf-8")) or {}
    return [q for q in data.get("questions") or [] if isinstance(q, dict) and q.get("q")]


@lru_cache(maxsize=4)
def load_examples(scope_dir: Path) -> ScopeExamples:
    outside = _questions(scope_dir / "offtopic.yaml")
    inside = _questions(scope_dir / "inscope_boundary.yaml")
    gate = scope_dir / "gate.yaml"
    settings = (read_yaml(gate.read_text("utf-8")) or {}) if gate.exists() else {}
    threshold = float(settings.get("threshold", DEFAULT_THRESHOLD))
    paraphrase = float(settings.get("paraphrase_similarity", DEFAULT_PARAPHRASE))
    return ScopeExamples(
        inside=tuple(str(q["q"]) for q in inside),
        outside=tuple(str(q["q"]) for q in outside),
        redirects=tuple(
            str(q.get("redirect", "general")) if q.get("redirect") in REDIRECTS else "general"
            for q in outside
        ),
        threshold=threshold,
        paraphrase=paraphrase,
    )


@dataclass(frozen=True)
class RefusalExamples:
    """Requests Tandem declines, by kind, and leadership questions that only sound like
    them (`refusals.yaml`); the refusal gate in `bot/guidance/refusal_gate.py` reads them."""

    by_kind: dict[str, tuple[str, ...]]
    lookalikes: tuple[str, ...]

    def texts(self) -> list[str]:
        return [t for texts in self.by_kind.values() for t in texts] + list(self.lookalikes)


@lru_cache(maxsize=4)
def load_refusal_examples(scope_dir: Path) -> RefusalExamples:
    path = scope_dir / "refusals.yaml"
    data = (read_yaml(path.read_text("utf-8")) or {}) if path.exists() else {}
    by_kind = {
        str(kind): tuple(str(t) for t in texts or [])
        for kind, texts in (data.get("examples") or {}).items()
    }
    return RefusalExamples(by_kind, tuple(str(t) for t in data.get("lookalikes") or []))


def scope_dir(settings: Settings) -> Path:
    return settings.knowledge_dir / "scope"


def scope_texts(settings: Settings) -> list[str]:
    """Every example text as it is embedded, so the embedding cache keeps their vectors
    (refusal examples are read the way questions are: organisation names as their group)."""
    from bot.knowledge.vocabulary import load_vocabulary

    examples = load_examples(scope_dir(settings))
    vocabulary = load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")
    refusals = load_refusal_examples(scope_dir(settings))
    return [
        *examples.inside,
        *examples.outside,
        *(vocabulary.normalise(t) for t in [*refusals.texts(), *examples.outside]),
    ]


PARAPHRASE_KINDS = ("card", "question")


def paraphrase_texts(vocabulary, passages) -> list[str]:
    """How leaders ask for each document (its card and questions), read the way a question
    is (organisation names as their group): the scope gate's paraphrase anchors. Ingest
    keeps their vectors in the embedding cache, so a start only looks them up."""
    return [vocabulary.normalise(p.text) for p in passages if p.kind in PARAPHRASE_KINDS]


@dataclass(frozen=True)
class ScopeVerdict:
    in_scope: bool
    probability: float  # that the question is about leading collaboratively
    redirect: str  # who can help, when it is not ("" when in scope)


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, l2: float = 1.0, steps: int = 60
) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-regularised logistic regression by Newton's method."""
    n, d = features.shape
    x = np.hstack([features, np.ones((n, 1))])
    positives = max(1, int(labels.sum()))
    negatives = max(1, n - positives)
    weights = np.where(labels == 1, n / (2 * positives), n / (2 * negatives))
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (weights * (p - labels)) + penalty * w
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1], float(w[-1])


class ScopeGate:
    """Trained once per index load from vectors the caller supplies.

    The regression draws one smooth line, and near the line it can decline a question that is
    almost word for word one of the ways leaders ask for a document ("what is a section 75
    agreement": the off-topic side holds legal and finance questions about section 75). So a
    question at least `paraphrase` similar to one of `anchors` (the documents' own questions
    and cards) is in scope whatever the regression says: a curator has said it is."""

    def __init__(
        self,
        inside: np.ndarray,
        outside: np.ndarray,
        redirects: tuple[str, ...],
        threshold: float = DEFAULT_THRESHOLD,
        l2: float = 1.0,
        *,
        anchors: np.ndarray | None = None,
        paraphrase: float = DEFAULT_PARAPHRASE,
    ) -> None:
        self.threshold = threshold
        self.redirects = redirects
        self.outside = outside
        self.anchors = anchors if anchors is not None else np.zeros((0, inside.shape[1]))
        self.paraphrase = paraphrase
        self.trained = len(inside) > 0 and len(outside) > 0
        if self.trained:
            features = np.vstack([inside, outside]).astype(np.float64)
            labels = np.concatenate([np.ones(len(inside)), np.zeros(len(outside))])
            self.coef, self.bias = fit_logistic(features, labels, l2=l2)

    def probability(self, vector: np.ndarray) -> float:
        if not self.trained:
            return 1.0
        return float(1.0 / (1.0 + np.exp(-(float(vector @ self.coef) + self.bias))))

    def redirect_for(self, vector: np.ndarray) -> str:
        if not len(self.outside):
            return "general"
        nearest = np.argsort(-(self.outside @ vector))[:NEIGHBOURS]
        votes = Counter(self.redirects[i] for i in nearest)
        return votes.most_common(1)[0][0]

    def paraphrases_a_document(self, vector: np.ndarray) -> bool:
        return bool(len(self.anchors)) and float((self.anchors @ vector).max()) >= self.paraphrase

    def judge(self, vector: np.ndarray, threshold: float | None = None) -> ScopeVerdict:
        probability = self.probability(vector)
        cut = self.threshold if threshold is None else threshold
        if probability >= cut or self.paraphrases_a_document(vector):
            return ScopeVerdict(True, probability, "")
        return ScopeVerdict(False, probability, self.redirect_for(vector))
