"""The second model (WordLlama word vectors) and abbreviations read in full."""

import dataclasses
import socket
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge.retrieval import Retriever, words_dir
from bot.knowledge.vocabulary import load_vocabulary
from bot.knowledge.wordvectors import (
    DIMENSIONS,
    MODEL,
    WordEncoder,
    get_word_encoder,
    load_or_embed,
)

VOCABULARY = Path(__file__).resolve().parents[1] / "knowledge" / "vocabulary.yaml"


def test_the_word_model_loads_and_reads_meaning_with_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the word model tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    encoder = WordEncoder()  # a fresh load, not the process-wide one
    trust, rebuild, payroll = encoder.encode(
        [
            "How do I rebuild trust with a partner organisation?",
            "Our partners no longer trust us; how can we repair the relationship?",
            "When is the payroll deadline for overtime claims?",
        ]
    )
    assert trust.shape == (DIMENSIONS,)
    assert abs(float(np.linalg.norm(trust)) - 1.0) < 1e-5
    assert float(trust @ rebuild) > float(trust @ payroll) + 0.1


def test_the_word_vectors_are_exactly_the_wordllama_packages_own(kb_settings):
    """WordEncoder runs WordLlama's inference without importing the package; its vectors
    must be the package's, bit for bit, alone and in batches (padding is in the sums)."""
    import importlib.util

    from wordllama import WordLlama

    package = Path(list(importlib.util.find_spec("wordllama").submodule_search_locations)[0])
    model = WordLlama.load(config=MODEL, dim=DIMENSIONS, cache_dir=package, disable_download=True)
    retriever = Retriever(kb_settings)
    asked = [
        retriever.vocabulary.normalise(text)
        for text, meta in zip(retriever.passage_text, retriever.passage_meta, strict=True)
        if meta["kind"] in ("card", "question")
    ]
    odd = [
        " ",
        "How do I rebuild trust with a partner organisation?",
        "rank my team by how often they reply 🙂",
        "Ça marche? Naïve café — “quotes” and 数字",
        "word " * 3000,  # far longer than any question: no truncation
        "x",
    ]
    encoder = WordEncoder()
    for texts in (asked, odd, *([t] for t in odd), asked[:65], asked[7:71]):
        expected = np.asarray(model.embed(texts, norm=True), dtype=np.float32)
        assert np.array_equal(encoder.encode(texts), expected)


def test_saved_word_vectors_are_reused_only_for_exactly_the_same_texts(tmp_path):
    texts = ["a divided executive team", "a deputy who goes round you"]
    first = load_or_embed(tmp_path, texts)
    [saved] = list(tmp_path.glob("*.npy"))
    marked = first[::-1].copy()  # a stand-in no model would produce for these texts
    np.save(saved, marked)
    assert np.array_equal(load_or_embed(tmp_path, texts), marked)  # read, not re-embedded
    changed = load_or_embed(tmp_path, ["a divided executive team", "a chair who is hands-on"])
    assert not np.array_equal(changed[1], first[1])
    assert [p.name for p in tmp_path.glob("*.npy")] != [saved.name]  # the old file went
    assert len(list(tmp_path.glob("*.npy"))) == 1


def test_saved_word_vectors_are_never_reused_when_the_texts_are_read_differently(tmp_path):
    texts = ["the hospice will not share data", "our PCN CDs dont come"]
    vocabulary = load_vocabulary(VOCABULARY)
    read = vocabulary.normalise
    first = load_or_embed(tmp_path, texts, read, vocabulary.fingerprint())
    assert np.array_equal(first, get_word_encoder().encode([read(t) for t in texts]))
    [saved] = list(tmp_path.glob("*.npy"))
    np.save(saved, first[::-1].copy())
    again = load_or_embed(tmp_path, texts, read, vocabulary.fingerprint())
    assert np.array_equal(again, first[::-1])  # read from the file, not embedded
    # A changed vocabulary may read them differently: embedded afresh, the old file goes.
    changed = dataclasses.replace(vocabulary, group_of={**vocabulary.group_of, "cds": "x"})
    fresh = load_or_embed(tmp_path, texts, changed.normalise, changed.fingerprint())
    assert np.array_equal(fresh, first)  # not the stand-in in the old file
    assert [p.name for p in tmp_path.glob("*.npy")] != [saved.name]
    plain = load_or_embed(tmp_path, texts, str, "as written")
    assert np.array_equal(plain, get_word_encoder().encode(texts))
    assert len(list(tmp_path.glob("*.npy"))) == 1


def test_a_second_start_reads_the_word_vectors_the_first_saved(kb_settings):
    first = Retriever(kb_settings)
    [saved] = list(words_dir(kb_settings).glob("*.npy"))
    second = Retriever(kb_settings)
    assert np.array_equal(first.word_matrix, second.word_matrix)
    assert list(words_dir(kb_settings).glob("*.npy")) == [saved]
    question = "how do I get PCN clinical directors to come to place meetings"
    assert [r.doc_id for r in first.search(question, k=5).results] == [
        r.doc_id for r in second.search(question, k=5).results
    ]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("PCN CDs dont come", "partner organisation clinical directors dont come"),
        ("they tell the PM instead", "they tell the practice manager instead"),
        ("our NED and the DPH", "our non-executive director and the director of public health"),
        ("meet at 2 PM", "meet at 2 PM"),  # a time, not a practice manager
        ("cds and Cd", "cds and Cd"),  # capitals only
        ("ED and IT", "ED and IT"),  # not known: left as written
    ],
)
def test_abbreviations_are_read_in_full_in_capitals_only(written, read):
    assert load_vocabulary(VOCABULARY).normalise(written) == read


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("how to chair mtg w big egos", "how to chair meeting with big egos"),
        (
            "Mtg w/ the ceo tmrw, w/o notes",
            "meeting with the chief executive tomorrow, without notes",
        ),
        ("convo abt my mgr tbh", "conversation about my manager to be honest"),
        ("W. Yorkshire and Q3", "W. Yorkshire and Q3"),  # single letters in lower case only
        ("the U-turn, wk-by-wk", "the U-turn, wk-by-wk"),  # not inside a longer word
        ("all day in Teams meetings", "all day in online meetings"),  # the product
        ("the Teams   call, then our teams\nmeeting", "the online call, then our online meeting"),
        ("our teams' meetings and team meetings", "our teams' meetings and team meetings"),
    ],
)
def test_slack_shorthand_is_read_in_full(written, read):
    assert load_vocabulary(VOCABULARY).normalise(written) == read


def test_a_question_in_shorthand_finds_what_it_finds_written_out(kb_settings):
    retriever = Retriever(kb_settings)
    typed = retriever.search("how do i open a tough partnership mtg w the council", k=3)
    written = retriever.search("how do i open a tough partnership meeting with the council", k=3)
    assert [r.doc_id for r in typed.results] == [r.doc_id for r in written.results]
