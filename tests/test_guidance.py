import json

import pytest

from bot.guidance.service import GuidanceService
from tests.support.cli import run_cli
from tests.support.openai_stub import OpenAIStub


@pytest.fixture(scope="module")
def offline(kb_settings):
    return GuidanceService(kb_settings)


def test_offline_answer_is_composed_with_titles_citations_and_a_question(offline):
    answer = offline.answer("How can I rebuild trust after we let a partner organisation down?")
    assert answer.grounded and answer.mode == "offline"
    assert 1 <= len(answer.citations) <= 3
    for number, citation in enumerate(answer.citations, start=1):
        assert citation.title in answer.answer
        assert f"[{number}]" in answer.answer
    assert answer.answer.rstrip("_").endswith("?")
    assert len(answer.answer) < 1800  # a readable answer, not a dump of chunks


def test_not_grounded_answer_says_so_kindly_and_cites_nothing(offline):
    answer = offline.answer("What's the best way to cook a Sunday roast?")
    assert not answer.grounded and answer.citations == []
    assert "rather not guess" in answer.answer
    assert "trust and relationships" in answer.answer


def test_empty_question_gets_a_usage_hint(offline):
    answer = offline.answer("  \u200b ")
    assert answer.kind == "empty" and not answer.grounded
    assert "for example" in answer.answer


def test_a_very_long_question_is_truncated_with_a_note(offline):
    question = "How do I build trust with partners? " + "More detail about our situation. " * 1300
    answer = offline.answer(question)
    assert len(question) > 40_000
    assert answer.note.startswith("Your message was long")
    assert len(answer.query) <= 4000
    assert answer.grounded


def test_control_characters_in_a_question_are_stripped(offline):
    answer = offline.answer("psychological\u200b safety\x00 for\u202e my team")
    assert answer.query == "psychological safety for my team"
    assert answer.grounded


def _llm_service(kb_settings, stub, **extra):
    settings = kb_settings.model_copy(
        update={"openai_base_url": stub.base_url, "llm_timeout_seconds": 1.0, **extra}
    )
    return GuidanceService(settings)


QUESTION = "How do I make it safe for people to disagree in our partnership board?"


def test_model_answer_with_valid_citations_is_used_and_renumbered(kb_settings):
    with OpenAIStub() as stub:
        stub.reply = "Invite dissent early [P2]. Thank the first person who disagrees [P2][P1]."
        answer = _llm_service(kb_settings, stub).answer(QUESTION)
    assert answer.mode == "llm" and answer.grounded
    assert answer.answer == "Invite dissent early [1]. Thank the first person who disagrees [1][2]."
    assert len(answer.citations) == 2
    sent = stub.requests[0]
    assert kb_settings.llm_max_tokens in (sent.get("max_tokens"), sent.get("max_completion_tokens"))
    user_message = sent["messages"][-1]["content"]
    assert '<reference id="P1"' in user_message and "<question>" in user_message
    assert "reference material" in sent["messages"][0]["content"]


@pytest.mark.parametrize(
    ("behaviour", "reply"),
    [
        ("answer", "Be brave and kind [P9]."),  # cites an unknown passage
        ("answer", "Just be brave and kind."),  # cites nothing
        ("answer", "NO_ANSWER"),
        ("malformed", ""),
        ("error", ""),
        ("sleep", ""),  # slower than the timeout
    ],
)
def test_any_model_failure_falls_back_to_the_offline_composer(kb_settings, behaviour, reply):
    with OpenAIStub() as stub:
        stub.behaviour, stub.reply, stub.delay = behaviour, reply, 3.0
        answer = _llm_service(kb_settings, stub).answer(QUESTION)
        assert stub.requests, "the real client should have called the stub"
    assert answer.mode == "offline" and answer.grounded
    assert answer.citations and "[1]" in answer.answer


def test_off_topic_question_never_reaches_the_model(kb_settings):
    with OpenAIStub() as stub:
        answer = _llm_service(kb_settings, stub).answer("who won the cup final in 1966")
    assert not answer.grounded and stub.requests == []


def test_ask_json_from_stdin_prints_one_object_per_line(kb_settings):
    result = run_cli(
        ["ask", "--json", "-"],
        kb_settings,
        stdin="how do I support a peer under pressure\nwhat's the capital of Peru\n",
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert set(first) == {"query", "grounded", "answer", "citations", "mode"}
    assert first["grounded"] and first["citations"] and first["mode"] == "offline"
    assert set(first["citations"][0]) == {"doc_id", "title"}
    assert second == {
        **second,
        "grounded": False,
        "citations": [],
        "query": "what's the capital of Peru",
    }


def test_ask_uses_the_model_through_openai_base_url(kb_settings):
    with OpenAIStub() as stub:
        stub.reply = "Start with one honest conversation [P1]."
        result = run_cli(
            ["ask", "--json", QUESTION], kb_settings, extra_env={"OPENAI_BASE_URL": stub.base_url}
        )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (
        payload["mode"] == "llm" and payload["answer"] == "Start with one honest conversation [1]."
    )
