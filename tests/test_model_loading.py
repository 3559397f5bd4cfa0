"""Models loaded once per process, ahead of use in a thread (bot.knowledge.embeddings)."""

import threading

import pytest

from bot.knowledge.embeddings import LoadedOnce

WAIT = 30  # seconds: only a guard against hanging, never a measure


def test_start_returns_while_loading_and_get_waits_for_that_one_load():
    release, loading = threading.Event(), threading.Event()
    calls = []

    def load():
        calls.append(threading.current_thread().name)
        loading.set()
        assert release.wait(WAIT)
        return "model"

    once = LoadedOnce(load, "fake")
    once.start()
    assert loading.wait(WAIT)
    starter = threading.Thread(target=once.start)  # again, while the load holds its lock
    starter.start()
    starter.join(WAIT)
    assert not starter.is_alive()  # start() never waits for a load
    got = []
    getter = threading.Thread(target=lambda: got.append(once.get()))
    getter.start()
    release.set()
    getter.join(WAIT)
    assert got == ["model"] and once.get() == "model"
    assert calls == ["load-fake"]  # loaded once, in the background


def test_a_failed_background_load_is_tried_again_and_raised_by_get():
    attempts, both = [], threading.Event()

    def load():
        attempts.append(threading.current_thread().name)
        if len(attempts) == 2:
            both.set()
        raise RuntimeError("checksum mismatch")

    once = LoadedOnce(load, "broken")
    once.start()
    with pytest.raises(RuntimeError, match="checksum"):
        once.get()  # whichever came first, the caller sees the error
    assert both.wait(WAIT)
    assert sorted(attempts) == sorted(["load-broken", threading.current_thread().name])


def test_get_without_start_loads_in_the_caller():
    once = LoadedOnce(lambda: threading.current_thread().name, "plain")
    assert once.get() == threading.current_thread().name
    once.start()  # already loaded: nothing to do
    assert once.get() == threading.current_thread().name


@pytest.mark.parametrize(
    ("question", "searches"),
    [
        ("How do I rebuild trust with a partner organisation?", True),
        ("hello", False),
        ("thanks, that helps", False),
        ("rank my team by how often they reply", False),  # declined by its wording
        (None, True),  # a conversation
        ("-", True),  # one question per stdin line
    ],
)
def test_tandem_ask_loads_the_models_ahead_only_when_it_will_search(tmp_path, question, searches):
    from bot.cli.ask import _will_search
    from tests.conftest import make_settings

    assert _will_search(question, make_settings(tmp_path)) is searches
