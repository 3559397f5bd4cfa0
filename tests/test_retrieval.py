import json
import shutil

import numpy as np
import pytest

from bot.knowledge import scope
from bot.knowledge.index import ingest
from bot.knowledge.retrieval import Retriever, keywords_dir, scope_fit_dir
from bot.settings import REPO_ROOT
from tests.support.cli import run_cli
from tests.support.knowledge_edits import add_an_offtopic_example

# Slow tier: fresh indexes and CLI processes per test.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(kb_settings):
    return Retriever(kb_settings)


@pytest.mark.parametrize(
    ("question", "theme"),
    [
        ("How do I make it safe for my team to admit mistakes?", "psychological-safety"),
        ("our targets keep pulling partners apart", "measures-and-incentives"),
        ("setting up an action learning set for system leaders", "peer-support"),
        ("how do we involve patients and carers as real partners", "inclusion-and-coproduction"),
    ],
)
def test_hybrid_search_finds_the_right_theme(retriever, question, theme):
    outcome = retriever.search(question, k=3)
    assert outcome.grounded
    assert theme in [r.themes[0] for r in outcome.results]


def test_results_are_grouped_by_document(retriever):
    outcome = retriever.search("trust between organisations", k=8)
    ids = [r.doc_id for r in outcome.results]
    assert len(ids) == len(set(ids)) == 8
    assert [r.score for r in outcome.results] == sorted(
        (r.score for r in outcome.results), reverse=True
    )


@pytest.mark.parametrize(
    "question", ["what is the capital of Peru", "recipe for lasagne", "zxqv plorb"]
)
def test_off_topic_questions_are_not_grounded(retriever, question):
    assert not retriever.search(question).grounded


@pytest.mark.parametrize(
    ("question", "document"),
    [
        ("my deputy keeps going over my head to the chief exec", "a-deputy-who-goes-round-you"),
        (
            "two of my directors are at war and it's affecting everyone",
            "two-directors-in-open-conflict",
        ),
        ("how does a section 75 pooled budget actually work", "section-75-and-pooled-budgets"),
        ("first 90 days in a new ICB place director role", "the-first-90-days-in-a-system-role"),
    ],
)
def test_the_document_for_the_problem_comes_first(retriever, question, document):
    assert retriever.search(question, k=3).results[0].doc_id == document


@pytest.mark.parametrize(
    "partner", ["the hospice", "the council", "the care home", "our PCN", "a charity"]
)
def test_the_partners_organisation_type_does_not_change_the_top_document(retriever, partner):
    template = "{} keeps cancelling our joint meetings at the last minute and I'm losing patience"
    baseline = retriever.search(template.format("The acute trust"), k=1).results[0].doc_id
    assert retriever.search(template.format(partner), k=1).results[0].doc_id == baseline


def test_a_story_that_shares_the_questions_nouns_does_not_outrank_guidance(retriever):
    # "hospice" appears in many stories; the problem here is a deputy going round you.
    outcome = retriever.search("my deputy at the hospice goes behind my back to the chair", k=3)
    assert outcome.results[0].doc_id == "a-deputy-who-goes-round-you"


def test_no_two_near_duplicate_documents_share_the_top_three(retriever):
    for question in ("trust between organisations", "psychological safety", "peer support"):
        top = retriever.search(question, k=3).results
        vectors = [retriever.doc_vectors[retriever.doc_order.index(r.doc_id)] for r in top]
        for i in range(3):
            for j in range(i + 1, 3):
                assert float(vectors[i] @ vectors[j]) < 0.9


@pytest.mark.parametrize(
    ("question", "redirect"),
    [
        ("what's the paracetamol dose for an adult", "pharmacy"),
        ("how do I reset my NHSmail password", "it"),
        ("how much notice for a redundancy consultation of 25 staff", "employment_law"),
    ],
)
def test_the_scope_gate_declines_near_off_topic_questions_with_who_can_help(
    retriever, question, redirect
):
    outcome = retriever.search(question)
    assert not outcome.scope.in_scope and not outcome.grounded
    assert outcome.scope.redirect == redirect


def test_every_way_a_document_is_asked_for_is_in_scope(retriever):
    """The gate's regression alone declined 330 of the documents' own questions (those near
    the legal, finance and HR examples); a curated way of asking is in scope by definition."""
    from bot.knowledge.scope import PARAPHRASE_KINDS

    asked = [
        text
        for text, meta in zip(retriever.passage_text, retriever.passage_meta, strict=True)
        if meta.get("kind") in PARAPHRASE_KINDS
    ]
    vectors = retriever.examples.anchors  # what ingest stored for them, in the same order
    assert len(vectors) == len(asked)
    for text, vector in list(zip(asked, vectors, strict=True))[::400]:
        # the stored vectors are what the question gets from the model
        assert float(vector @ retriever.encode_query(text)) > 0.999
    declined = [
        t for t, v in zip(asked, vectors, strict=True) if not retriever.scope.judge(v).in_scope
    ]
    assert len(asked) > 3000 and declined == []


def test_a_paraphrase_of_a_documents_question_is_answered_but_its_legal_neighbour_is_not(
    retriever,
):
    lever = retriever.search("what is a section 75 agreement and when would we use one")
    assert lever.scope.in_scope and lever.grounded
    assert lever.results[0].doc_id == "section-75-and-pooled-budgets"
    legal = retriever.search("what notice period does a s75 agreement need for a partner to leave")
    assert not legal.scope.in_scope and legal.scope.redirect == "legal"


def test_each_single_retriever_works_alone(retriever):
    for mode in ("bm25", "dense"):
        outcome = retriever.search("psychological safety in a team huddle", mode=mode)
        assert outcome.results, mode


def test_kb_search_reads_queries_from_stdin_and_prints_one_json_line_each(kb_settings):
    result = run_cli(
        ["kb", "search", "--k", "2", "-"],
        kb_settings,
        stdin="trust with partners\n\nrecipe for lasagne\n",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["trust with partners", "recipe for lasagne"]
    first = lines[0]["results"]
    assert len(first) == 2
    assert set(first[0]) == {"doc_id", "title", "themes", "score", "text"}


class CountingRetriever(Retriever):
    """The real retriever, counting how many keyword indexes it had to build."""

    builds = 0

    def _bm25_over(self, corpus):
        self.builds += 1
        return super()._bm25_over(corpus)


def test_a_saved_keyword_index_ranks_exactly_as_a_freshly_built_one(kb_settings):
    shutil.rmtree(keywords_dir(kb_settings), ignore_errors=True)
    built = CountingRetriever(kb_settings)
    loaded = CountingRetriever(kb_settings)
    assert (built.builds, loaded.builds) == (2, 0)  # the second start read what the first saved
    asked = [
        t
        for t, m in zip(built.passage_text, built.passage_meta, strict=True)
        if m["kind"] == "question"
    ]
    for question in asked[::20]:
        vector = built.encode_query(question)
        for mode in ("hybrid", "bm25"):
            fresh = built.search(question, k=10, mode=mode, vector=vector).results
            saved = loaded.search(question, k=10, mode=mode, vector=vector).results
            assert [(r.doc_id, r.score) for r in saved] == [(r.doc_id, r.score) for r in fresh]


def add_a_zebracanary_line(settings):
    """Change one document by a word no other document has; returns its path."""
    changed = sorted((settings.knowledge_dir / "docs").glob("*.md"))[-1]
    changed.write_text(
        changed.read_text("utf-8").replace(
            "## Common pitfalls", "## Common pitfalls\n\nA freshly written zebracanary line.", 1
        ),
        "utf-8",
    )
    return changed


def test_a_saved_keyword_index_is_never_used_for_changed_passages(small_kb):
    ingest(small_kb)
    CountingRetriever(small_kb)  # saves the keyword index for the documents as they were
    changed = add_a_zebracanary_line(small_kb)
    ingest(small_kb)
    after = CountingRetriever(small_kb)
    assert after.builds == 2
    top = after.search("zebracanary", k=3, mode="bm25").results[0]
    assert top.doc_id == changed.stem and top.score > 0


def test_a_saved_scope_fit_judges_exactly_as_a_fresh_one(kb_settings, monkeypatch):
    shutil.rmtree(scope_fit_dir(kb_settings), ignore_errors=True)
    fitted = Retriever(kb_settings)
    [saved] = list(scope_fit_dir(kb_settings).glob("*.npz"))

    def no_fitting(*args, **kwargs):
        raise AssertionError("fitted again although the saved fit matched")

    monkeypatch.setattr(scope, "fit_logistic", no_fitting)
    loaded = Retriever(kb_settings)
    assert np.array_equal(loaded.scope.coef, fitted.scope.coef)
    assert loaded.scope.bias == fitted.scope.bias
    assert list(scope_fit_dir(kb_settings).glob("*.npz")) == [saved]
    for question in (
        "How do I rebuild trust with a partner organisation?",
        "what is the NEWS2 escalation score",
        "how do I reset my NHS email password",
        "how do I handle a grievance about a manager in a partner trust",
    ):
        vector = fitted.encode_query(question)
        assert loaded.scope.judge(vector) == fitted.scope.judge(vector)


def test_a_saved_scope_fit_is_never_used_for_changed_examples(small_kb):
    shutil.copytree(REPO_ROOT / "knowledge" / "scope", small_kb.knowledge_dir / "scope")
    ingest(small_kb)
    before = Retriever(small_kb)
    [saved] = list(scope_fit_dir(small_kb).glob("*.npz"))
    add_an_offtopic_example(small_kb.knowledge_dir)
    scope.load_examples.cache_clear()  # the process read the examples before the change
    after = Retriever(small_kb)
    assert len(after.scope.outside) == len(before.scope.outside) + 1
    assert [p.name for p in scope_fit_dir(small_kb).glob("*.npz")] != [saved.name]
    inside = np.vstack([after.matrix[after._groups["asked"]], after.examples.inside])
    features = np.vstack([inside, after.scope.outside]).astype(np.float64)
    labels = np.concatenate([np.ones(len(inside)), np.zeros(len(after.scope.outside))])
    coef, bias = scope.fit_logistic(features, labels)
    assert np.array_equal(after.scope.coef, coef) and after.scope.bias == bias


def test_a_start_from_the_snapshot_ranks_exactly_as_one_reading_chroma(kb_settings):
    from bot.knowledge import snapshot
    from bot.knowledge.index import get_collection

    assert snapshot.snapshot_path(kb_settings).is_file()  # ingest wrote it
    from_snapshot = Retriever(kb_settings)
    from_chroma = Retriever(kb_settings, collection=get_collection(kb_settings))
    assert from_snapshot.passage_ids == from_chroma.passage_ids
    assert from_snapshot.passage_text == from_chroma.passage_text
    assert from_snapshot.passage_meta == from_chroma.passage_meta  # shared fields rebuilt
    assert (from_snapshot.matrix == from_chroma.matrix).all()
    for question in ("How do I rebuild trust with the council?", "PCN CDs never come", "hi"):
        fresh = from_chroma.search(question, k=10).results
        saved = from_snapshot.search(question, k=10).results
        assert [(r.doc_id, r.score) for r in saved] == [(r.doc_id, r.score) for r in fresh]


def test_ingest_replaces_the_snapshot_and_a_start_without_one_reads_chroma(small_kb):
    from bot.knowledge import snapshot

    ingest(small_kb)
    path = snapshot.snapshot_path(small_kb)
    first = path.read_bytes()
    changed = add_a_zebracanary_line(small_kb)
    ingest(small_kb)
    assert path.read_bytes() != first
    assert Retriever(small_kb).search("zebracanary", k=1, mode="bm25").results[0].doc_id == (
        changed.stem
    )
    path.unlink()  # e.g. an ingest that failed half-way: the next start reads Chroma again
    again = Retriever(small_kb)
    assert again.search("zebracanary", k=1, mode="bm25").results[0].doc_id == changed.stem
    assert path.is_file()  # ...and leaves a snapshot for the start after


def test_a_chroma_server_is_always_read_never_a_snapshot(small_kb):
    from bot.knowledge import snapshot

    ingest(small_kb)
    served = small_kb.model_copy(update={"chroma_url": "http://127.0.0.1:9"})
    assert snapshot.snapshot_path(served) == snapshot.snapshot_path(small_kb)
    assert snapshot.load(served) is None
