"""The guidance service: a message in, Tandem's reply out.

Used by the CLI, the Slack listeners and the check-in follow-ups; it never imports Bolt.
A message is first read for what it is (`conversation.classify`): a greeting, thanks, a
request for help, something Tandem declines, a follow-up to the previous answer, or a
question. A question passes the scope gate, then the offline composer (or, when one is
configured, a language model whose every point is checked against its cited passage).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from bot.guidance.composer import LEAD_IN, Composition, Point, compose, expand
from bot.guidance.conversation import (
    REFUSALS,
    Intent,
    Wording,
    classify,
    load_wording,
)
from bot.guidance.refusal_gate import RefusalGate
from bot.guidance.request_models import RequestModel, surest
from bot.knowledge.embeddings import DIMENSIONS
from bot.knowledge.retrieval import (
    Retriever,
    SearchOutcome,
    SearchResult,
    get_retriever,
    requests_dir,
)
from bot.knowledge.scope import load_refusal_examples, load_request_examples, scope_dir
from bot.knowledge.taxonomy import load_taxonomy
from bot.knowledge.wordvectors import load_or_embed
from bot.metrics import MODEL_FALLBACKS, MODEL_SECONDS
from bot.settings import Settings
from bot.text import clean_query

log = logging.getLogger(__name__)
_WORD = re.compile(r"[^\W\d_]{2,}")
WARM_UP_QUESTION = "How do I build trust between partners?"  # never shown, never stored
HELP_COMMANDS = "Type a question any time, or say *help* to see this again."
# A message this short that points at something ("is it legal?", "how do I submit it?") with
# nothing earlier to point at is met with a question, not a search.
POINTING_MAX_WORDS = 6
ABOUT_TANDEM = ("about_privacy", "about_checkins")  # answered with the facts, never searched
OVER_REFUSAL = 0.97  # how sure a reading as about Tandem must be to set aside a refusal by meaning


@dataclass(frozen=True)
class Reading:
    """A message as the request models read it (`GuidanceService._reading`)."""

    vector: np.ndarray
    features: np.ndarray  # MiniLM then word vectors
    paraphrase: bool  # a way leaders ask for a document


@dataclass
class Citation:
    doc_id: str
    title: str
    path: str = ""


@dataclass
class Answer:
    query: str
    grounded: bool
    answer: str
    citations: list[Citation] = field(default_factory=list)
    mode: str = "offline"
    note: str = ""
    # answer | follow_up | more_on | something_else | greeting | thanks | help | clarify |
    # out_of_scope | not_grounded | empty | unavailable | one of conversation.REFUSALS
    kind: str = "answer"
    redirect: str = ""
    points: list[Point] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # passage ids already offered
    search_text: str = ""  # what was searched, so a follow-up can build on it

    @property
    def is_refusal(self) -> bool:
        return self.kind in REFUSALS

    def as_json(self) -> dict:
        return {
            "query": self.query,
            "grounded": self.grounded,
            "answer": self.answer,
            "citations": [{"doc_id": c.doc_id, "title": c.title} for c in self.citations],
            "mode": self.mode,
            "kind": self.kind,
        }

    def memory(self) -> dict:
        """What a follow-up needs of this answer (kept with the conversation, then expired)."""
        return {
            "search_text": self.search_text,
            "points": [
                {"text": p.text, "doc_id": p.doc_id, "passage_id": p.passage_id}
                for p in self.points
            ],
            "used": list(self.used),
        }


@dataclass(frozen=True)
class PreviousTurn:
    """The earlier answer in this conversation, as `Answer.memory()` kept it."""

    search_text: str
    points: tuple[dict, ...] = ()
    used: tuple[str, ...] = ()

    @classmethod
    def from_memory(cls, memory: dict | None) -> PreviousTurn | None:
        if not memory or not memory.get("search_text"):
            return None
        return cls(
            str(memory["search_text"]),
            tuple(p for p in memory.get("points", []) if isinstance(p, dict)),
            tuple(str(u) for u in memory.get("used", [])),
        )


class GuidanceService:
    def __init__(self, settings: Settings, retriever: Retriever | None = None) -> None:
        self.settings = settings
        self._retriever = retriever
        # (the index's matrix they were built for, the refusal gate, the request models)
        self._gate: tuple = (None, None, None)
        self._gate_lock = threading.Lock()

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = get_retriever(self.settings)
        return self._retriever

    def warm(self) -> None:
        """Load the index, both models and the refusal examples now, so the first leader's
        answer is as quick as the rest (the first run of a model is the slowest)."""
        self.refusal_gate()
        self.retriever.search(WARM_UP_QUESTION, k=1)

    @property
    def wording(self) -> Wording:
        return load_wording(self.settings.prompts_dir)

    # --- the front door ----------------------------------------------------------------

    def answer(
        self,
        question: str | None,
        history: list[tuple[str, str]] | None = None,
        previous: PreviousTurn | None = None,
        commands: str = HELP_COMMANDS,
        on_progress=None,
    ) -> Answer:
        """Tandem's reply to one message. `previous` is the earlier answer in this
        conversation (for follow-ups); `history` the thread's turns (for a model);
        `on_progress(text)` sees a model's checked points as they stream in."""
        cleaned = clean_query(question, self.settings.max_question_chars)
        text = cleaned.text
        note = (
            self.wording.text("truncated").format(limit=self.settings.max_question_chars)
            if cleaned.truncated
            else ""
        )
        intent = classify(text, self.wording, after_answer=previous is not None)
        if not _WORD.search(text) and intent.kind not in ("greeting", "thanks", "help"):
            # nothing to read: emoji, punctuation, stray codes
            return self._said("", "empty", self.wording.text("empty"))
        vector = None  # the question's embedding, computed once for refusals and search
        unsure = False  # declined by a request model alone, which may have misread it
        if intent.kind == "question" and not self.retriever.empty:
            vector = self.retriever.encode_query(text)
            reading = self._reading(vector, text)
            refused = None
            if not self.wording.on_receiving_end(text):
                refused = self._refused_by_meaning(vector, text)
                if refused is None:
                    refused = self._read_as_request(reading, text)
                    unsure = refused is not None
            # A question about Tandem itself ("who can see what I write?"), read by meaning,
            # wins over a refusal by meaning only when it is surer than it needs to be alone.
            about = self._read_as_about_tandem(reading, over_refusal=refused is not None)
            if about is not None:
                refused, unsure = about, False
            intent = Intent(refused or "question")
        if intent.kind in REFUSALS:
            return self._said(text, intent.kind, self.wording.reply(intent.kind, unsure=unsure))
        if intent.kind in ("greeting", "thanks"):
            return self._said(text, intent.kind, self._conversation_reply(intent.kind))
        if intent.kind == "help":
            return self._said(text, "help", self.help_text(commands))
        if intent.kind in ABOUT_TANDEM:
            return self._said(text, intent.kind, self.wording.text(intent.kind, "reply"))
        if self.retriever.empty:
            return self._said(text, "unavailable", self.wording.text("unavailable"), note)
        if intent.kind == "more_on":
            return self._more_on(text, intent, previous)
        if intent.kind == "something_else":
            return self._something_else(text, previous)
        if intent.kind == "follow_up":
            if previous is None:
                words = intent.topic.split()
                # "what's happening with the council?" reads well; a whole clause would not.
                fits = bool(words) and words[0].lower() in ("with", "for", "at", "in", "on")
                topic = f" {intent.topic}" if fits else ""
                clarify = self.wording.text("follow_up", "clarify").format(topic=topic)
                return self._said(text, "clarify", clarify, note)
            search = f"{previous.search_text}\n{text}"
            lead_in = self.wording.text("follow_up", "lead_in")
            return self._question(text, search, note, history, "follow_up", lead_in, on_progress)
        return self._question(text, text, note, history, on_progress=on_progress, vector=vector)

    def _refused_by_meaning(self, vector, message: str) -> str | None:
        """A refusal kind when the message means what a refusal example means (the patterns
        catch the usual wordings; the gate catches the rest)."""
        kind = self.refusal_gate().judge(vector, self.wording.seeks_advice(message)).kind
        if kind == "coercive" and self.wording.asks_fairly(message):
            return None  # "how do I make performance conversations supportive, not threatening"
        return kind

    def _reading(self, vector, message: str) -> Reading:
        """What the request models read, worked out once a message: its MiniLM and word
        vectors side by side, and whether it is a way leaders ask for a document."""
        features = np.concatenate([vector, self.retriever.encode_words(message)])
        return Reading(vector, features, self.retriever.scope.paraphrases_a_document(vector))

    def _read_as_about_tandem(self, reading: Reading, over_refusal: bool) -> str | None:
        """A question about Tandem itself ("who can see what I write here?", "stop the
        check-ins") read by meaning, where the conversation patterns did not see it;
        `over_refusal`: a refusal by meaning is on the table, so only a surer reading wins."""
        models = {k: m for k, m in self._gates()[2].items() if k in ABOUT_TANDEM}
        if not models or reading.paraphrase:
            return None
        kind, probability = surest(models, reading.features)
        if over_refusal and probability < OVER_REFUSAL:
            return None
        return kind

    def _read_as_request(self, reading: Reading, message: str) -> str | None:
        """The request models' reading, on the message's MiniLM and word vectors."""
        models = {k: m for k, m in self._gates()[2].items() if k in REFUSALS}
        if not models or self.wording.asks_fairly(message):
            return None
        if reading.paraphrase:
            return None  # a way leaders ask for a document: a document answers it
        kind, _ = surest(models, reading.features)
        deferred = kind is not None and models[kind].defers_to_scope
        if deferred and not self.retriever.scope.judge(reading.vector).in_scope:
            return None  # a job for someone else ("write a disciplinary invite"): redirected
        return kind

    def refusal_gate(self) -> RefusalGate:
        return self._gates()[1]

    def _gates(self) -> tuple:
        """Built once per loaded index: the documents' own questions are part of both."""
        retriever = self.retriever
        with self._gate_lock:
            if self._gate[0] is not retriever.matrix:
                gate = _refusal_gate(self.settings, retriever, self.wording)
                self._gate = (retriever.matrix, gate, _request_models(self.settings, retriever))
            return self._gate

    # --- replies that are not searches --------------------------------------------------

    def _said(self, query: str, kind: str, text: str, note: str = "") -> Answer:
        return Answer(query, False, text, note=note, kind=kind)

    def _examples(self, count: int = 3) -> list[str]:
        return list(self.wording.conversation["examples"][:count])

    def _conversation_reply(self, kind: str) -> str:
        reply = " ".join(self.wording.reply(kind).split())
        one, two = self._examples(2)
        return reply.format(example_one=one, example_two=two)

    def help_text(self, commands: str = HELP_COMMANDS) -> str:
        themes = load_taxonomy(self.settings.taxonomy_path)
        listed = "\n".join(f"• *{t.name}*: {t.about[0].lower()}{t.about[1:]}" for t in themes)
        examples = "\n".join(f"• _{e}_" for e in self._examples(3))
        return self.wording.reply("help").format(
            themes=listed, commands=commands.strip(), examples=examples
        )

    # --- questions ---------------------------------------------------------------------

    def search(self, search_text: str, vector=None) -> SearchOutcome:
        k = max(self.settings.retrieval_k, 5)
        return self.retriever.search(search_text, k=k, vector=vector)

    def _question(
        self,
        query: str,
        search_text: str,
        note: str,
        history,
        kind: str = "answer",
        lead_in: str | None = None,
        on_progress=None,
        vector=None,
    ) -> Answer:
        outcome = self.search(search_text, vector)
        acknowledgement = self.wording.acknowledgement(query)
        if (
            kind == "answer"
            and not acknowledgement
            and (
                (
                    not outcome.grounded
                    and self.wording.points_back(query)
                    and len(query.split()) <= POINTING_MAX_WORDS
                )
                or self.wording.bare.search(query.strip())
            )
        ):
            # "how long should that take?", "is this normal?" with nothing earlier to point
            # at: ask, don't guess. A longer question carries its own subject ("is it safe to
            # crush tablets for a patient with dysphagia"), so it is searched, and redirected
            # when it is for someone else.
            clarify = self.wording.text("follow_up", "clarify").format(topic="")
            return self._said(query, "clarify", clarify, note)
        # Someone under strain is always in scope: how they are is what Tandem is for. So is a
        # follow-up: it continues an answer Tandem chose to give ("does that still apply if
        # it's a care home?"), and read with that answer it can look like something else.
        if not outcome.scope.in_scope and not acknowledgement and kind != "follow_up":
            return self._redirected(query, outcome, note)
        if not outcome.results or outcome.best_similarity < self.settings.retrieval_min_similarity:
            return self._said(query, "not_grounded", self.wording.text("not_grounded"), note)
        composition = compose(outcome.results, acknowledgement=acknowledgement)
        if len(composition.points) < 2:
            return self._said(query, "not_grounded", self.wording.text("not_grounded"), note)
        if self.settings.llm_configured:
            answer = self._model_answer(query, outcome, history, note, on_progress)
            if answer is not None:
                if answer.grounded:
                    answer.kind, answer.search_text = kind, search_text
                return answer
        return self._from_composition(query, composition, note, kind, search_text, lead_in)

    def _redirected(self, query: str, outcome: SearchOutcome, note: str) -> Answer:
        """Out of scope: who can help instead, and no citations."""
        answer = self._said(query, "out_of_scope", self.wording.redirect(outcome.scope.redirect))
        answer.redirect = outcome.scope.redirect
        answer.note = note
        return answer

    def _from_composition(
        self,
        query: str,
        composition: Composition,
        note: str,
        kind: str,
        search_text: str,
        lead_in: str | None = None,
    ) -> Answer:
        offer = self.wording.text("something_else", "offer") if kind != "something_else" else ""
        text = composition.text(lead_in or LEAD_IN, offer)
        return Answer(
            query,
            True,
            text,
            _citations(composition.cited),
            "offline",
            note,
            kind=kind,
            points=composition.points,
            used=sorted(composition.used),
            search_text=search_text,
        )

    def _more_on(self, query: str, intent: Intent, previous: PreviousTurn | None) -> Answer:
        if previous is None or not previous.points:
            return self._said(query, "clarify", self.wording.text("more_on", "no_previous"))
        count = len(previous.points)
        index = count if intent.which == "last" else int(intent.which or 0)
        if not 1 <= index <= count:
            text = self.wording.text("more_on", "no_such_point").format(count=count)
            return self._said(query, "clarify", text)
        chosen = previous.points[index - 1]
        doc = self.retriever.document(str(chosen.get("doc_id", "")))
        if doc is None:
            return self._said(query, "clarify", self.wording.text("more_on", "no_previous"))
        vector = self.retriever.encode_query(previous.search_text)
        more = expand(doc, str(chosen.get("passage_id", "")), vector)
        pitfalls = [p for p in doc.advice(("pitfall",))]
        pitfalls.sort(key=lambda p: -float(p.vector @ vector))
        lines = [f"{self.wording.text('more_on', 'lead_in')} _{chosen.get('text', '')}_", ""]
        lines += [f"• {line} [1]" for line in more]
        if pitfalls:
            lines += ["", f"*Watch for:* {pitfalls[0].text} [1]"]
        if doc.question:
            lines += ["", f"_Something to sit with: {doc.question}_"]
        return Answer(
            query,
            True,
            "\n".join(lines),
            [Citation(doc.doc_id, doc.title, doc.path)],
            kind="more_on",
            points=[Point(str(chosen.get("text", "")), doc.doc_id, "", 1)],
            used=list(previous.used),
            search_text=previous.search_text,
        )

    def _something_else(self, query: str, previous: PreviousTurn | None) -> Answer:
        if previous is None:
            return self._said(query, "clarify", self.wording.text("something_else", "no_previous"))
        outcome = self.search(previous.search_text)
        skip = set(previous.used)
        # Another angle first: the best documents not drawn on before, with their own opening.
        drawn_on = {passage_id.rsplit(":", 1)[0] for passage_id in skip}
        others = [r for r in outcome.results if r.doc_id not in drawn_on]
        composition = compose(others[:1], skip=skip)  # the angle the answer offered
        if len(composition.points) < 2:
            composition = compose(others, skip=skip)
        if len(composition.points) < 2:
            composition = compose(outcome.results, skip=skip, opening="")
        if len(composition.points) < 2:
            deeper = compose(outcome.results[1:], skip=skip, opening="")
            composition = deeper if len(deeper.points) >= 2 else composition
        if len(composition.points) < 2:
            text = self.wording.text("something_else", "nothing_more")
            return self._said(query, "clarify", text)
        answer = self._from_composition(
            query,
            composition,
            "",
            "something_else",
            previous.search_text,
            self.wording.text("something_else", "lead_in"),
        )
        answer.used = sorted(skip | composition.used)
        return answer

    # --- the model path ----------------------------------------------------------------

    def _model_answer(self, query, outcome: SearchOutcome, history, note, on_progress=None):
        from bot.guidance.llm import ModelAnswerRejected, ModelDeclined, ask_model

        started = time.perf_counter()
        try:
            reply = ask_model(self.settings, query, outcome, history, on_progress)
        except ModelDeclined:
            MODEL_FALLBACKS.labels(reason="declined").inc()
            answer = self._said(query, "not_grounded", self.wording.text("not_grounded"), note)
            answer.mode = "llm"
            return answer
        except ModelAnswerRejected as reason:
            MODEL_FALLBACKS.labels(reason="rejected").inc()
            log.warning("model answer rejected (%s); using the offline composer", reason)
            return None
        except Exception as error:  # any model failure falls back, never crashes
            MODEL_FALLBACKS.labels(reason="error").inc()
            log.warning("model call failed (%s); using the offline composer", type(error).__name__)
            return None
        finally:
            MODEL_SECONDS.observe(time.perf_counter() - started)
        return Answer(query, True, reply.text, _citations(reply.cited), "llm", note)


def _refusal_gate(settings: Settings, retriever: Retriever, wording: Wording) -> RefusalGate:
    """The gate over the shipped examples, read the way questions are (organisation names as
    their group), with the vectors the retriever read for both gates."""
    examples = retriever.examples
    answerable = np.vstack(
        [
            retriever.questions_matrix(),
            examples.lookalikes,
            examples.outside_read,  # the scope gate's to redirect
        ]
    )
    return RefusalGate(
        dict(examples.refusals),
        answerable,
        wording.refusal_margin,
        wording.advice_margin,
    )


def _request_models(settings: Settings, retriever: Retriever) -> dict[str, RequestModel]:
    """A model a kind in `request_models.yaml`, trained on that kind's requests there and in
    `refusals.yaml` against the fair asks, the look-alikes and every way leaders ask for a
    document; fitted once per set of vectors and kept beside the index, like the scope gate."""
    folder = scope_dir(settings)
    requests, refusals = load_request_examples(folder), load_refusal_examples(folder)
    if not requests.kinds:
        return {}
    examples, vocabulary = retriever.examples, retriever.vocabulary
    kinds = list(requests.kinds)
    refusal_kinds = [kind for kind in kinds if kind in REFUSALS]
    # Everything Tandem declines: never a question about Tandem itself ("show me Priya's
    # journal" is a refusal, not a question about your own privacy).
    declined = [
        *(t for texts in refusals.by_kind.values() for t in texts),
        *(t for kind in refusal_kinds for t in requests.kinds[kind].requests),
    ]
    groups = [
        *(refusals.by_kind.get(kind, ()) + requests.kinds[kind].requests for kind in kinds),
        *(requests.kinds[kind].not_these for kind in kinds),
        tuple(declined),
        requests.fair + refusals.lookalikes,
    ]
    words = load_or_embed(
        requests_dir(settings),
        [t for group in groups for t in group],
        vocabulary.normalise,
        vocabulary.fingerprint(),
    )
    ends = np.cumsum([len(group) for group in groups])
    names = [*kinds, *(f"not:{kind}" for kind in kinds), "declined", "fair"]
    word_rows = dict(zip(names, np.split(words, ends[:-1]), strict=True))
    asked, asked_words = retriever.asked_vectors()
    fair = np.hstack(
        [
            np.vstack([examples.fair, examples.lookalikes, asked]),
            np.vstack([word_rows["fair"], asked_words]),
        ]
    )
    declined_rows = np.hstack(
        [
            np.vstack(
                [
                    *examples.refusals.values(),
                    *(examples.requests[kind] for kind in refusal_kinds),
                    np.zeros((0, DIMENSIONS), np.float32),
                ]
            ),
            word_rows["declined"],
        ]
    )
    models = {}
    for kind in kinds:
        entry = requests.kinds[kind]
        meaning = np.vstack(
            [
                examples.refusals.get(kind, np.zeros((0, DIMENSIONS), np.float32)),
                examples.requests[kind],
            ]
        )
        own_fair = np.hstack([examples.not_these[kind], word_rows[f"not:{kind}"]])
        if kind not in REFUSALS:
            own_fair = np.vstack([own_fair, declined_rows])
        models[kind] = RequestModel(
            np.hstack([meaning, word_rows[kind]]),
            np.vstack([own_fair, fair]),
            entry.threshold,
            entry.regularisation,
            requests_dir(settings) / kind,
            entry.defer_to_scope,
        )
    return models


def _citations(results: list[SearchResult]) -> list[Citation]:
    return [Citation(r.doc_id, r.title, r.path) for r in results]
