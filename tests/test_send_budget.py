"""The posting budget shared through the database never lets a second exceed it."""

import json
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from bot.db.engine import get_engine
from bot.services.send_budget import reserve
from bot.settings import REPO_ROOT
from tests.conftest import make_settings
from tests.support.statements import statements_run

# Slow tier: concurrent senders and replica processes share the send budget in real time.
pytestmark = pytest.mark.slow


def workspace_windows(settings, team="T1") -> Counter:
    """Slots counted in the shared table for the workspace, by whole second."""
    from sqlalchemy import select

    from bot.db.engine import session_scope
    from bot.db.models import RateWindow

    with session_scope(settings) as session:
        windows = session.execute(
            select(RateWindow.window_start, RateWindow.count).where(
                RateWindow.user_key == f"ws:{team}"
            )
        ).all()
    per_second = Counter()
    for start, count in windows:
        per_second[start.replace(microsecond=0)] += count
    return per_second


def send_from_threads(settings, senders: int, each: int) -> None:
    """`senders` threads each reserve a slot for `each` posts, every one to its own channel."""

    def sender(worker: int) -> None:
        for n in range(each):
            reserve(settings, "T1", f"D{worker}-{n}")

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_senders_stay_within_the_workspace_budget_and_one_per_channel(tmp_path):
    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="20")

    send_from_threads(settings, senders=6, each=10)
    # The slots reserved, by the second they belong to (timestamps taken after the call
    # would blur the boundary under load, so read the shared ledger). Every post used a
    # counted slot; a slot reserved in a batch and left over is counted but never used.
    per_second = workspace_windows(settings)
    assert sum(per_second.values()) >= 60
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


def test_the_budget_costs_about_one_statement_per_send_when_it_does_not_bind(tmp_path):
    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="5000")
    reserve(settings, "T1", "C-warm")
    with statements_run(settings) as statements:
        for n in range(64):
            reserve(settings, "T1", f"D{n}")
    # One insert for each channel's second, and the workspace's slots a batch at a time.
    assert len(statements) <= 64 * 1.25
    assert sum(1 for s in statements if "rate_windows" in s) == len(statements)


REPLICA = """
import json, sys, time
from bot.services.send_budget import reserve
from tests.conftest import make_settings
from tests.support.statements import statements_run
settings = make_settings(sys.argv[1], DATABASE_URL=sys.argv[2], SLACK_SENDS_PER_SECOND="20")
reserve(settings, "T9", "warm-" + sys.argv[3])
time.sleep(max(0.0, float(sys.argv[4]) - time.time()))
started = time.time()
for n in range(40):
    reserve(settings, "T1", f"D{sys.argv[3]}-{n}")
print(json.dumps([started, time.time()]))
"""


def test_two_replicas_reserving_in_batches_share_one_budget(tmp_path):
    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="20")
    get_engine(settings)  # migrated before the replicas start
    start_at = time.time() + 4.0
    replicas = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                REPLICA,
                str(tmp_path),
                settings.resolved_database_url,
                str(n),
                str(start_at),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for n in range(2)
    ]
    spans = [json.loads(replica.communicate(timeout=60)[0]) for replica in replicas]
    assert all(replica.returncode == 0 for replica in replicas)
    per_second = workspace_windows(settings)
    assert sum(per_second.values()) >= 80
    assert max(per_second.values()) <= 20
    # 80 posts at 20 a second need four seconds' windows, so well over two seconds passed.
    assert max(end for _, end in spans) - min(start for start, _ in spans) > 2.5


def test_a_seconds_windows_add_up_to_the_budget_exactly():
    from bot.services.send_budget import SLICES_PER_SECOND, slice_limit

    for budget in range(SLICES_PER_SECOND, 201):
        shares = [slice_limit(budget, SLICES_PER_SECOND, i) for i in range(SLICES_PER_SECOND)]
        assert sum(shares) == budget, budget
        assert max(shares) - min(shares) <= 1
        assert slice_limit(budget, SLICES_PER_SECOND, 7) == shares[2]  # by position in a second


def test_a_budget_that_does_not_divide_into_fifths_is_used_in_full(tmp_path):
    """9 a second was counted as 1 per fifth, so a fan-out sent only 5 a second."""
    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="9")

    send_from_threads(settings, senders=6, each=8)
    per_second = sorted(workspace_windows(settings).items())
    assert sum(count for _s, count in per_second) >= 48
    assert max(count for _s, count in per_second) <= 9
    full = [count for _s, count in per_second[1:-1]]  # whole seconds between the first and last
    assert full and min(full) >= 8, per_second


def channel_rows(settings, keys) -> Counter:
    """Channel seconds counted in the shared table, by channel key."""
    from sqlalchemy import select

    from bot.db.engine import session_scope
    from bot.db.models import RateWindow

    with session_scope(settings) as session:
        return Counter(
            session.scalars(select(RateWindow.user_key).where(RateWindow.user_key.in_(keys)))
        )


def test_a_fan_out_takes_its_channels_seconds_in_one_statement_and_each_once(tmp_path):
    from bot.services.send_budget import take_channel_seconds

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="5000")
    reserve(settings, "T1", "C-warm")
    channels = [("T1", f"D{n}") for n in range(8)]
    with statements_run(settings) as statements:
        second, held = take_channel_seconds(settings, [*channels, ("T1", "D0")])
    assert len(statements) == 1  # eight channels' seconds in one statement
    assert held == set(channels)  # the channel listed twice is granted once
    rows = channel_rows(settings, [f"ch:T1:D{n}" for n in range(8)])
    assert rows == Counter({f"ch:T1:D{n}": 1 for n in range(8)})
    assert second == float(int(second))


def test_a_second_another_replica_holds_is_not_granted_to_a_fan_out(tmp_path):
    import datetime as dt

    from sqlalchemy import insert

    from bot.db.models import RateWindow
    from bot.services.send_budget import take_channel_seconds

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="5000")
    now = int(time.time())
    # Another replica holds D1's seconds from now on (a few, so the test's own second is one).
    with get_engine(settings).begin() as connection:
        connection.execute(
            insert(RateWindow),
            [
                {
                    "user_key": "ch:T1:D1",
                    "window_start": dt.datetime.fromtimestamp(now + n, dt.UTC).replace(tzinfo=None),
                    "count": 1,
                }
                for n in range(5)
            ],
        )
    _second, held = take_channel_seconds(settings, [("T1", "D0"), ("T1", "D1"), ("T1", "D2")])
    assert held == {("T1", "D0"), ("T1", "D2")}


def test_a_send_in_the_second_its_fan_out_took_does_not_take_it_again(tmp_path):
    from bot.services.send_budget import take_channel_seconds

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="5000")
    reserve(settings, "T1", "C-warm")
    channels = [("T1", f"D{n}") for n in range(64)]
    second, held = take_channel_seconds(settings, channels)
    assert held == set(channels)
    for team, channel in channels:
        reserve(settings, team, channel, held_second=second)
    # Each channel was counted once in `second`; only a send that found the second over (a
    # slow machine) took one of its own, in a later second.
    rows = channel_rows(settings, [f"ch:T1:D{n}" for n in range(64)])
    assert set(rows) == {f"ch:T1:D{n}" for n in range(64)}
    assert max(rows.values()) <= 2
    assert sum(rows.values()) < 64 * 2  # not all taken twice: the held second was used


def test_a_groups_own_writes_and_its_channels_seconds_are_one_transaction(tmp_path):
    from sqlalchemy import event, insert

    from bot.db.engine import get_ephemeral_engine
    from bot.db.models import RateWindow
    from bot.services.send_budget import take_channel_seconds

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="5000")
    reserve(settings, "T1", "C-warm")
    engine = get_ephemeral_engine(settings)
    commits = []

    def committed(_connection):
        commits.append(1)

    event.listen(engine, "commit", committed)

    def alongside(connection):
        connection.execute(insert(RateWindow).values(user_key="own", window_start=_now(), count=1))
        return "done"

    try:
        second, held = take_channel_seconds(
            settings, [("T1", "D0"), ("T1", "D1")], alongside=alongside
        )
    finally:
        event.remove(engine, "commit", committed)
    assert held == {("T1", "D0"), ("T1", "D1")}
    assert len(commits) == 1
    assert channel_rows(settings, ["own", "ch:T1:D0", "ch:T1:D1"]) == Counter(
        {"own": 1, "ch:T1:D0": 1, "ch:T1:D1": 1}
    )

    def failing(connection):
        connection.execute(insert(RateWindow).values(user_key="own2", window_start=_now(), count=1))
        raise RuntimeError("the group's own write failed")

    with pytest.raises(RuntimeError):
        take_channel_seconds(settings, [("T1", "D2")], alongside=failing)
    # Neither the group's write nor its channel's second was kept.
    assert channel_rows(settings, ["own2", "ch:T1:D2"]) == Counter()


def test_with_the_budget_off_a_groups_own_writes_still_happen(tmp_path):
    from bot.services.send_budget import take_channel_seconds

    settings = make_settings(tmp_path, SLACK_SENDS_PER_SECOND="0")
    ran = []
    second, held = take_channel_seconds(
        settings, [("T1", "D0")], alongside=lambda connection: ran.append(connection)
    )
    assert (second, held) == (0.0, set()) and len(ran) == 1
    assert channel_rows(settings, ["ch:T1:D0"]) == Counter()


def test_a_busy_sender_reserves_about_what_it_used_in_the_last_window_and_leaves_room():
    from bot.services.send_budget import RESERVE_BATCH, _Held

    assert _Held(used_before=0).batch(20_000) == RESERVE_BATCH  # nothing known: a small batch
    assert _Held(used_before=200).batch(20_000) == 200  # one reservation a window, not 13
    assert _Held(used_before=5_000).batch(400) == 200  # at most half a window's share...
    assert _Held(used_before=5_000).batch(20) == RESERVE_BATCH  # ...beyond the usual batch
    assert _Held(used_before=50).batch(4) == 4  # and never more than the window allows


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
