"""The posting budget shared through the database never lets a second exceed it."""

import threading
import time
from collections import Counter

from bot.services.send_budget import reserve
from tests.conftest import make_settings


def test_concurrent_senders_stay_within_the_workspace_budget_and_one_per_channel(tmp_path):
    from sqlalchemy import select

    from bot.db.engine import session_scope
    from bot.db.models import RateWindow

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="20")

    def sender(worker: int) -> None:
        for n in range(10):
            reserve(settings, "T1", f"D{worker}-{n}")

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The slots each sender was granted, by the second they belong to (timestamps taken
    # after the call would blur the boundary under load, so read the shared ledger).
    with session_scope(settings) as session:
        windows = session.execute(
            select(RateWindow.window_start, RateWindow.count).where(RateWindow.user_key == "ws:T1")
        ).all()
    per_second = Counter()
    for start, count in windows:
        per_second[start.replace(microsecond=0)] += count
    assert sum(per_second.values()) == 60
    assert max(per_second.values()) <= 20  # so the 60 messages were spread over three seconds
    assert len(per_second) >= 3


def test_one_channel_gets_about_one_message_a_second(tmp_path):
    from sqlalchemy import select

    from bot.db.engine import session_scope
    from bot.db.models import RateWindow

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="100")
    started = time.monotonic()
    for _ in range(3):
        reserve(settings, "T1", "C-same")
    assert time.monotonic() - started > 1.0  # the third had to wait for a second boundary twice
    with session_scope(settings) as session:
        counts = session.scalars(
            select(RateWindow.count).where(RateWindow.user_key == "ch:T1:C-same")
        ).all()
    assert sorted(counts) == [1, 1, 1]  # each in a second of its own
