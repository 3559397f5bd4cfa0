import json

import pytest

from bot.knowledge.retrieval import Retriever
from tests.support.cli import run_cli


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
