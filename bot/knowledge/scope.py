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
Pure numpy. Training over the whole knowledge base takes about 0.3 s, a third of a cold
`tandem ask`, so the fitted weights are kept on disk beside the index under a hash of exactly
the vectors and settings they were fitted from (`fit_saved`): a saved fit is only ever used
for identical input, so it cannot be stale.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.knowledge.embedcache import write_atomically
from bot.knowledge.embeddings import DIMENSIONS, MODEL_SHA256
from bot.knowledge.vocabulary import Vocabulary
from bot.settings import Settings
from bot.text import read_yaml

log = logging.getLogger(__name__)

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
# The regression's L2 penalty. At 1.0 it kept to a line so smooth that it declined 7 of 62
# situations leaders told as statements ("the acute keep sending the deputy's deputy to
# programme board"), held out from a blind writer's 120; at 0.3, with the threshold
# re-chosen on dev (0.55), 2 of 62, with dev unchanged (98.2 % off-topic declined, 1.1 %
# in-topic declined).
REGULARISATION = 0.3
NEIGHBOURS = 5
FIT_FORMAT = 1  # bump when fit_logistic or what is saved changes
FIT_STEPS = 60


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


@dataclass(frozen=True)
class RequestKind:
    """One kind's examples for its model (requests to decline, or questions about Tandem
    itself), with the model's threshold and regularisation."""

    requests: tuple[str, ...]
    threshold: float
    regularisation: float
    defer_to_scope: bool = False  # an out-of-scope message is redirected, not declined
    not_these: tuple[str, ...] = ()  # this kind's own negatives, beside the shared fair asks


@dataclass(frozen=True)
class RequestExamples:
    """Requests to decline by kind, questions about Tandem itself (`about_privacy`,
    `about_checkins`) and fair asks in the same words (`request_models.yaml`), for the models
    in `bot/guidance/request_models.py`."""

    kinds: dict[str, RequestKind] = field(default_factory=dict)
    fair: tuple[str, ...] = ()

    def texts(self) -> list[str]:
        own = [t for kind in self.kinds.values() for t in (*kind.requests, *kind.not_these)]
        return own + list(self.fair)


@lru_cache(maxsize=4)
def load_request_examples(scope_dir: Path) -> RequestExamples:
    path = scope_dir / "request_models.yaml"
    if not path.exists():
        return RequestExamples()
    data = read_yaml(path.read_text("utf-8")) or {}
    kinds = {
        str(kind): RequestKind(
            tuple(str(t) for t in entry.get("requests") or []),
            float(entry.get("threshold", 1.0)),
            float(entry.get("regularisation", REGULARISATION)),
            bool(entry.get("defer_to_scope", False)),
            tuple(str(t) for t in entry.get("not") or []),
        )
        for kind, entry in (data.get("models") or {}).items()
    }
    return RequestExamples(kinds, tuple(str(t) for t in data.get("fair") or []))


def scope_dir(settings: Settings) -> Path:
    return settings.knowledge_dir / "scope"


def scope_texts(settings: Settings) -> list[str]:
    """Every example text as it is embedded, so the embedding cache keeps their vectors
    (refusal examples are read the way questions are: organisation names as their group)."""
    from bot.knowledge.vocabulary import load_vocabulary

    examples = load_examples(scope_dir(settings))
    vocabulary = load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")
    refusals = load_refusal_examples(scope_dir(settings))
    requests = load_request_examples(scope_dir(settings))
    return [
        *examples.inside,
        *examples.outside,
        *(
            vocabulary.normalise(t)
            for t in [*refusals.texts(), *examples.outside, *requests.texts()]
        ),
    ]


PARAPHRASE_KINDS = ("card", "question")


def paraphrase_texts(vocabulary, passages) -> list[str]:
    """How leaders ask for each document (its card and questions), read the way a question
    is (organisation names as their group): the scope gate's paraphrase anchors. Ingest
    keeps their vectors in the embedding cache, so a start only looks them up.
    `passages`: (kind, text) pairs, in the index's order."""
    return [vocabulary.normalise(text) for kind, text in passages if kind in PARAPHRASE_KINDS]


@dataclass(frozen=True)
class ExampleVectors:
    """Every example's vector, as the two gates read them: the scope gate's examples as
    written; the refusal examples, the lookalikes and the off-topic examples read the way
    questions are (organisation names as their group)."""

    inside: np.ndarray
    outside: np.ndarray
    refusals: dict[str, np.ndarray]  # by kind, in the order of refusals.yaml
    lookalikes: np.ndarray
    outside_read: np.ndarray
    anchors: np.ndarray  # the scope gate's paraphrase anchors (`paraphrase_texts`)
    requests: dict[str, np.ndarray]  # `request_models.yaml`, by kind, read as questions are
    fair: np.ndarray
    not_these: dict[str, np.ndarray]  # each kind's own negatives


EXAMPLES_FORMAT = 3  # bump when what is saved, or how the examples are read, changes


def example_vectors(
    settings: Settings,
    vocabulary: Vocabulary,
    saved: Path | None = None,
    anchors: list[str] | tuple[str, ...] = (),
) -> ExampleVectors:
    """The examples' vectors, from the embedding cache (`knowledge/embeddings.npz`) and the
    model for any text it lacks, as the gates always took them.

    Looking up 1,400 texts (and reading the refusal ones the way questions are) took a
    tenth of the work of a start, so `saved` keeps them beside the index under a hash of
    every example text, the vocabulary, the model and the embedding cache file's bytes: a
    saved file is only used for exactly that input. It is only written when every vector
    came from the cache file, so it holds exactly what a start without it would read.
    `anchors`: the paraphrase anchors' texts, already read as questions are."""
    from bot.knowledge.embedcache import CACHE_NAME, EmbeddingCache, cache_file_digest

    folder = scope_dir(settings)
    examples, refusals = load_examples(folder), load_refusal_examples(folder)
    requests = load_request_examples(folder)
    cache_path = settings.knowledge_dir / CACHE_NAME
    groups = {  # in the order the gates first looked them up, should any need the model
        "inside": list(examples.inside),
        "outside": list(examples.outside),
        "lookalikes": list(refusals.lookalikes),
        "outside_read": list(examples.outside),
        **{f"refusal:{kind}": list(texts) for kind, texts in refusals.by_kind.items()},
        "anchors": list(anchors),
        **{f"request:{kind}": list(entry.requests) for kind, entry in requests.kinds.items()},
        "fair": list(requests.fair),
        **{f"not:{kind}": list(entry.not_these) for kind, entry in requests.kinds.items()},
    }
    path = None
    if saved is not None:
        digest = hashlib.sha256(f"{EXAMPLES_FORMAT}\n{MODEL_SHA256}\n".encode())
        digest.update(vocabulary.fingerprint().encode() + b"\x00")
        digest.update(cache_file_digest(cache_path).encode())
        for name, texts in groups.items():
            digest.update(f"\x01{name}".encode())
            for text in texts:
                digest.update(b"\x00" + text.encode())
        path = saved / f"{digest.hexdigest()[:32]}.npz"
        loaded = _load_vectors(path, {name: len(texts) for name, texts in groups.items()})
        if loaded is not None:
            return _example_vectors(loaded, refusals, requests)
    cache = EmbeddingCache(cache_path)
    read = {
        "outside_read",
        "lookalikes",
        "fair",
        *(n for n in groups if n.startswith(("refusal:", "request:", "not:"))),
    }
    vectors = {
        name: cache.encode([vocabulary.normalise(t) for t in texts] if name in read else texts)
        for name, texts in groups.items()
    }
    cache.save()  # examples added since the last ingest are embedded once
    if path is not None and not cache.embedded:
        _save_vectors(saved, path, vectors)
    return _example_vectors(vectors, refusals, requests)


def _example_vectors(
    vectors: dict[str, np.ndarray], refusals: RefusalExamples, requests: RequestExamples
) -> ExampleVectors:
    return ExampleVectors(
        vectors["inside"],
        vectors["outside"],
        {kind: vectors[f"refusal:{kind}"] for kind in refusals.by_kind},
        vectors["lookalikes"],
        vectors["outside_read"],
        vectors["anchors"],
        {kind: vectors[f"request:{kind}"] for kind in requests.kinds},
        vectors["fair"],
        {kind: vectors[f"not:{kind}"] for kind in requests.kinds},
    )


def _load_vectors(path: Path, rows: dict[str, int]) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = {name: data[name] for name in rows}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        log.warning("saved example vectors unreadable (%s); reading them", type(error).__name__)
        return None
    for name, count in rows.items():
        if vectors[name].shape != (count, DIMENSIONS) or vectors[name].dtype != np.float32:
            return None
    return vectors


def _save_vectors(directory: Path, path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Atomically (a reader never sees half a file); older files can never match again."""
    try:
        write_atomically(path, lambda out: np.savez(out, **vectors))
        for other in directory.glob("*.npz"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as error:  # a read-only install still works, just slower to start
        log.warning("could not save the example vectors (%s)", type(error).__name__)


@dataclass(frozen=True)
class ScopeVerdict:
    in_scope: bool
    probability: float  # that the question is about leading collaboratively
    redirect: str  # who can help, when it is not ("" when in scope)


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, l2: float = REGULARISATION, steps: int = FIT_STEPS
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


def fit_key(inside: np.ndarray, outside: np.ndarray, l2: float) -> str:
    """A hash of everything a fit depends on: the exact vectors (bytes, type and shape) on
    each side, the penalty, the steps, the version of the fitting code and of numpy, and how
    many threads BLAS may use (they add up in a different order: the last bits differ)."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "")  # bot/__init__.py sets it to 1
    digest = hashlib.sha256(
        f"{FIT_FORMAT}\n{np.__version__}\n{threads}\n{FIT_STEPS}\n{l2!r}\n".encode()
    )
    for side in (inside, outside):
        side = np.ascontiguousarray(side)
        digest.update(f"{side.dtype.str}{side.shape}\n".encode())
        digest.update(side.data)
    return digest.hexdigest()[:32]


def fit_saved(
    directory: Path | None, inside: np.ndarray, outside: np.ndarray, l2: float
) -> tuple[np.ndarray, float]:
    """`fit_logistic` over these examples: the saved fit when exactly these vectors were
    fitted before, otherwise a fresh one, saved for next time (when the directory is
    writable). Older fits can never match again, so they go."""

    def fit() -> tuple[np.ndarray, float]:
        features = np.vstack([inside, outside]).astype(np.float64)
        labels = np.concatenate([np.ones(len(inside)), np.zeros(len(outside))])
        return fit_logistic(features, labels, l2=l2)

    if directory is None:
        return fit()
    path = directory / f"{fit_key(inside, outside, l2)}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                coef, bias = data["coef"], data["bias"]
            if coef.shape == (inside.shape[1],) and coef.dtype == np.float64 and bias.shape == ():
                return coef, float(bias)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            # unreadable: only slower, never wrong
            log.warning("saved scope gate unreadable (%s); fitting", type(error).__name__)
    coef, bias = fit()
    try:
        write_atomically(
            path, lambda out: np.savez(out, coef=coef, bias=np.array(bias, dtype=np.float64))
        )
        for other in directory.glob("*.npz"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as error:  # a read-only install still works, just slower to start
        log.warning("could not save the scope gate (%s)", type(error).__name__)
    return coef, bias


class ScopeGate:
    """Trained once per index load from vectors the caller supplies; `saved`: a directory
    where fits are kept between starts (see `fit_saved`), or None to always fit.

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
        l2: float = REGULARISATION,
        saved: Path | None = None,
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
            self.coef, self.bias = fit_saved(saved, inside, outside, l2)

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
