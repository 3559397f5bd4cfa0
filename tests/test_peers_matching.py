"""Peer matching is pure: properties over random rounds (Hypothesis), and a few exact cases."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.peers.matching import ALONE, NO_MATCH, REPEAT_WINDOW, Candidate, common_themes, match

THEMES = ("trust", "safety", "power", "system", "conflict")
ORGS = ("", "Northshire ICB", "St Anne's Hospice", "Westvale Council")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rounds(draw, min_size=0, max_size=14):
    """(candidates, history, seed): orgs, themes, exclusions, sat-out flags and past pairs."""
    n = draw(st.integers(min_size, max_size))
    users = [f"U{i:03d}" for i in range(n)]
    themes = st.frozensets(st.sampled_from(THEMES), max_size=3)
    candidates = []
    for user in users:
        others = [u for u in users if u != user]
        excludes = (
            draw(st.frozensets(st.sampled_from(others), max_size=2)) if others else frozenset()
        )
        candidates.append(
            Candidate(
                user_id=user,
                organisation=draw(st.sampled_from(ORGS)),
                wants=draw(themes),
                offers=draw(themes),
                prefer_other_org=draw(st.booleans()),
                excludes=excludes if draw(st.integers(0, 3)) == 0 else frozenset(),
                sat_out_last=draw(st.integers(0, 5)) == 0,
            )
        )
    history = {}
    if n >= 2:
        pairs = draw(
            st.lists(st.tuples(st.sampled_from(users), st.sampled_from(users)), max_size=n)
        )
        for a, b in pairs:
            if a != b:
                history[frozenset((a, b))] = draw(st.integers(1, REPEAT_WINDOW + 4))
    return candidates, history, draw(st.integers(0, 2**31))


def _by_id(candidates):
    return {c.user_id: c for c in candidates}


def _allowed(a: Candidate, b: Candidate) -> bool:
    return a.user_id not in b.excludes and b.user_id not in a.excludes


def _same_org_unwanted(a: Candidate, b: Candidate) -> bool:
    same = a.organisation and a.organisation == b.organisation
    return bool(same) and (a.prefer_other_org or b.prefer_other_org)


def _recent(history, a: Candidate, b: Candidate) -> bool:
    return history.get(frozenset((a.user_id, b.user_id)), 10**6) <= REPEAT_WINDOW


def _pairs_in(group):
    members = list(group.members)
    return [(x, y) for i, x in enumerate(members) for y in members[i + 1 :]]


@pytest.mark.slow  # many random rounds each
@FAST
@given(rounds())
def test_no_one_is_ever_matched_with_someone_either_of_them_excluded(case):
    candidates, history, seed = case
    people = _by_id(candidates)
    for group in match(candidates, history, seed).groups:
        for a, b in _pairs_in(group):
            assert _allowed(people[a], people[b])


@pytest.mark.slow  # many random rounds each
@FAST
@given(rounds())
def test_every_eligible_leader_is_matched_once_or_told_why(case):
    candidates, history, seed = case
    result = match(candidates, history, seed)
    placed = [u for g in result.groups for u in g.members] + [u.user for u in result.unmatched]
    assert sorted(placed) == sorted(c.user_id for c in candidates)
    assert all(len(g.members) in (2, 3) for g in result.groups)
    assert all(u.why in (ALONE, NO_MATCH) for u in result.unmatched)


@pytest.mark.slow  # many random rounds each
@FAST
@given(rounds(), st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_round_whatever_the_input_order(case, rng):
    candidates, history, seed = case
    shuffled = list(candidates)
    rng.shuffle(shuffled)
    assert match(candidates, history, seed) == match(shuffled, dict(history), seed)


@pytest.mark.slow  # many random rounds each
@FAST
@given(rounds(min_size=2))
def test_no_repeat_within_the_window_while_a_fresh_partner_was_left_over(case):
    candidates, history, seed = case
    people = _by_id(candidates)
    result = match(candidates, history, seed)
    left = [people[u.user] for u in result.unmatched]
    for group in result.groups:
        if len(group.members) != 2:
            continue
        a, b = (people[u] for u in group.members)
        if not _recent(history, a, b):
            continue
        for member in (a, b):
            assert not any(_allowed(member, c) and not _recent(history, member, c) for c in left)


@FAST
@given(st.integers(2, 10), st.integers(0, 2**31), st.randoms(use_true_random=False))
def test_nobody_meets_last_rounds_partner_again_when_others_are_free(half, seed, rng):
    users = [f"U{i:03d}" for i in range(2 * half)]
    rng.shuffle(users)
    history = {frozenset(users[i : i + 2]): 1 for i in range(0, len(users), 2)}
    candidates = [Candidate(u, prefer_other_org=False) for u in users]
    result = match(candidates, history, seed)
    assert not result.unmatched
    for group in result.groups:
        for a, b in _pairs_in(group):
            assert frozenset((a, b)) not in history


@pytest.mark.slow  # many random rounds each
@FAST
@given(rounds(min_size=2))
def test_a_same_organisation_match_only_when_no_cross_organisation_partner_was_left(case):
    candidates, history, seed = case
    people = _by_id(candidates)
    result = match(candidates, history, seed)
    left = [people[u.user] for u in result.unmatched]
    for group in result.groups:
        if len(group.members) != 2:
            continue
        a, b = (people[u] for u in group.members)
        if not _same_org_unwanted(a, b):
            continue
        for member in (a, b):
            assert not any(
                _allowed(member, c)
                and not _same_org_unwanted(member, c)
                and not _recent(history, member, c)
                for c in left
            )


@FAST
@given(st.integers(1, 6), st.integers(0, 2**31))
def test_everyone_who_prefers_another_organisation_gets_one_when_numbers_allow(k, seed):
    candidates = [Candidate(f"UA{i}", "Northshire ICB", prefer_other_org=True) for i in range(k)]
    candidates += [Candidate(f"UB{i}", "Westvale Council", prefer_other_org=True) for i in range(k)]
    result = match(candidates, {}, seed)
    assert not result.unmatched
    for group in result.groups:
        assert {u[:2] for u in group.members} == {"UA", "UB"}


@FAST
@given(st.integers(0, 2**31))
def test_whoever_sat_out_last_time_is_first_in_line(seed):
    # B would rather not meet C, so only one of them can be introduced to A this round.
    a = Candidate("UA")
    b = Candidate("UB", excludes=frozenset({"UC"}))
    for sat_out, expected in (("UB", ("UA", "UB")), ("UC", ("UA", "UC"))):
        people = [
            a,
            Candidate("UB", excludes=b.excludes, sat_out_last=sat_out == "UB"),
            Candidate("UC", sat_out_last=sat_out == "UC"),
        ]
        result = match(people, {}, seed)
        assert [g.members for g in result.groups] == [expected]
        assert [u.why for u in result.unmatched] == [NO_MATCH]


@pytest.mark.slow  # many random rounds each
@FAST
@given(rounds(min_size=2))
def test_reasons_are_only_themes_the_group_can_think_about_together(case):
    candidates, history, seed = case
    people = _by_id(candidates)
    for group in match(candidates, history, seed).groups:
        members = [people[u] for u in group.members]
        for slug in group.reasons:
            assert slug in THEMES
            wanting = [m for m in members if slug in m.wants]
            assert wanting
            assert any(slug in o.wants | o.offers for w in wanting for o in members if o is not w)


def test_people_thinking_about_the_same_thing_are_introduced_to_each_other():
    candidates = [
        Candidate("U1", "Org 1", wants=frozenset({"trust"})),
        Candidate("U2", "Org 2", wants=frozenset({"safety"})),
        Candidate("U3", "Org 3", wants=frozenset({"trust"})),
        Candidate("U4", "Org 4", offers=frozenset({"safety"})),
    ]
    result = match(candidates, {}, seed=7)
    assert {g.members: g.reasons for g in result.groups} == {
        ("U1", "U3"): ("trust",),
        ("U2", "U4"): ("safety",),
    }


def test_an_odd_one_out_joins_a_pair_instead_of_sitting_out():
    result = match([Candidate(f"U{i}", f"Org {i}") for i in range(5)], {}, seed=1)
    assert sorted(len(g.members) for g in result.groups) == [2, 3]
    assert result.unmatched == []


def test_one_person_alone_and_nobody_at_all():
    assert match([Candidate("U1")], {}, 0).unmatched[0].why == ALONE
    assert match([], {}, 0).as_json() == {"groups": [], "unmatched": []}


def test_a_large_round_keeps_every_promise_and_is_quick():
    rng = random.Random(5)
    users = [f"U{i:05d}" for i in range(2000)]
    candidates = [
        Candidate(
            user,
            f"Org {rng.randrange(40)}",
            frozenset(rng.sample(THEMES, rng.randint(1, 3))),
            frozenset(rng.sample(THEMES, rng.randint(1, 3))),
            rng.random() < 0.8,
            frozenset(rng.sample(users, 2)) if rng.random() < 0.05 else frozenset(),
        )
        for user in users
    ]
    history = {frozenset(rng.sample(users, 2)): rng.randint(1, 8) for _ in range(3000)}
    started = time.perf_counter()
    result = match(candidates, history, seed=11)
    assert time.perf_counter() - started < 10
    people = _by_id(candidates)
    placed = [u for g in result.groups for u in g.members]
    assert len(placed) == len(set(placed)) == len(users) - len(result.unmatched)
    for group in result.groups:
        for a, b in _pairs_in(group):
            assert _allowed(people[a], people[b])


def test_a_round_too_big_to_compare_every_pair_keeps_every_promise(monkeypatch):
    """Past EXACT_UP_TO free people, partners come from samples: the promises still hold,
    and pairs share nearly as many themes as when every pair is compared."""
    rng = random.Random(8)
    users = [f"U{i:05d}" for i in range(3000)]
    candidates = [
        Candidate(
            user,
            f"Org {rng.randrange(40)}",
            frozenset(rng.sample(THEMES, rng.randint(1, 3))),
            frozenset(rng.sample(THEMES, rng.randint(1, 3))),
            True,
            frozenset(rng.sample(users, 2)) - {user} if rng.random() < 0.05 else frozenset(),
        )
        for user in users
    ]
    shuffled = users[:]
    rng.shuffle(shuffled)
    history = {frozenset(shuffled[i : i + 2]): 1 for i in range(0, len(shuffled), 2)}
    exact = match(candidates, history, seed=3)
    monkeypatch.setattr("bot.peers.matching.EXACT_UP_TO", 600)
    monkeypatch.setattr("bot.peers.matching.SAMPLE", 300)
    result = match(candidates, history, seed=3)
    assert result != exact  # the sampled path really ran
    people = _by_id(candidates)
    placed = [u for g in result.groups for u in g.members]
    assert len(placed) == len(set(placed)) == len(users)
    pairs = [pair for group in result.groups for pair in _pairs_in(group)]
    for a, b in pairs:
        assert _allowed(people[a], people[b])
        assert frozenset((a, b)) not in history
        assert people[a].organisation != people[b].organisation

    def shared(groups):
        found = [pair for group in groups for pair in _pairs_in(group)]
        return sum(len(common_themes(people[a], people[b])) for a, b in found) / len(found)

    chance = sum(
        len(common_themes(people[a], people[b]))
        for a, b in zip(shuffled[::2], shuffled[1::2], strict=True)
    ) / (len(shuffled) // 2)
    assert shared(result.groups) >= 0.95 * shared(exact.groups)
    assert shared(result.groups) >= 1.4 * chance
