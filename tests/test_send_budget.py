"""The posting budget shared through the database never lets a second exceed it."""

import threading
import time
from collections import Counter

from bot.services.send_budget import reserve
from tests.conftest import make_settings


def test_concurrent_senders_stay_within_the_workspace_budget_and_one_per_channel(tmp_path):
    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="20")
    sent_at: list[float] = []
    lock = threading.Lock()

    def sender(worker: int) -> None:
        for n in range(10):
            reserve(settings, "T1", f"D{worker}-{n}")
            with lock:
                sent_at.append(time.time())

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_second = Counter(int(t) for t in sent_at)
    assert len(sent_at) == 60
    assert max(per_second.values()) <= 20  # so 60 messages needed at least three seconds


def test_one_channel_gets_about_one_message_a_second(tmp_path):
    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="100")
    seconds = []
    for _ in range(3):
        reserve(settings, "T1", "C-same")
        seconds.append(int(time.time()))
    assert len(set(seconds)) == 3  # each in a second of its own
