"""The pure digest composer: properties that must hold for any group, entries and choices."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digests.compose import (
    Digest,
    DigestInputs,
    Guide,
    Library,
    band,
    compose_digest,
    contributor_hash,
)
from bot.digests.service import load_wording
from bot.knowledge.taxonomy import load_taxonomy
from bot.reflection.prompts import load_questions
from bot.settings import REPO_ROOT
from bot.ui.digests import detail_blocks, headline_blocks, preview_blocks

TEAM, CHANNEL, SALT = "T0TANDEM", "C0DIGEST", "test-salt"
THEMES = [t.slug for t in load_taxonomy(REPO_ROOT / "knowledge" / "taxonomy.yaml")]
CANARY_THEME = "zz-canary-theme"


def _library() -> Library:
    taxonomy = load_taxonomy(REPO_ROOT / "knowledge" / "taxonomy.yaml")
    questions: dict[str, list[str]] = {}
    for question in load_questions(REPO_ROOT / "prompts"):
        questions.setdefault(question.theme, []).append(question.text)
    return Library(
        theme_names={t.slug: t.name for t in taxonomy},
        guidance={
            t.slug: [Guide(f"{t.slug}-guide-{i}", f"On {t.name.lower()} ({i})") for i in (1, 2)]
            for t in taxonomy
        },
        questions=questions,
        wording=load_wording(REPO_ROOT / "prompts")["offline"],
    )


LIBRARY = _library()


@dataclass(frozen=True)
class Row:
    """A journal entry as loaded, with everything compose must never repeat."""

    author: str
    author_name: str
    themes: tuple[str, ...]
    sharing: str
    text: str


def inputs(group, entries, k=5, period="W2026-48", previous=None, others=(), connections=0):
    return DigestInputs(
        team_id=TEAM,
        channel=CHANNEL,
        period=period,
        cadence="weekly",
        k=k,
        sections=("themes", "guidance", "question", "connections", "invitation"),
        salt=SALT,
        group=frozenset(group),
        entries=tuple(entries),
        connections=connections,
        previous_shown=previous or {},
        others_shown=tuple(others),
    )


def everything_shown(digest: Digest) -> str:
    """Every character a person or tool could see: the JSON and all three renderings."""
    import datetime as dt

    rendered = [
        digest.as_json(),
        digest.headline,
        [b.to_dict() for b in headline_blocks(digest)[0]],
        [b.to_dict() for b in detail_blocks(digest)[0]],
        detail_blocks(digest)[1],
        [b.to_dict() for b in preview_blocks(digest, dt.datetime(2026, 12, 4, 15, 0))[0]],
    ]
    return json.dumps(rendered, ensure_ascii=False)


def team_contributors(group, entries, theme) -> set[str]:
    return {
        e.author for e in entries if e.sharing == "team" and e.author in group and theme in e.themes
    }


user_ids = st.lists(
    st.from_regex(r"U[A-Z0-9]{8}", fullmatch=True), min_size=0, max_size=14, unique=True
)


@st.composite
def scenarios(draw):
    users = draw(user_ids)
    k = draw(st.integers(min_value=3, max_value=7))
    in_group = draw(st.lists(st.booleans(), min_size=len(users), max_size=len(users)))
    group = [u for u, member in zip(users, in_group, strict=True) if member]
    entries = []
    if users:
        for number in range(draw(st.integers(min_value=0, max_value=40))):
            author = draw(st.sampled_from(users))
            themes = draw(
                st.lists(st.sampled_from([*THEMES[:2], CANARY_THEME]), max_size=3, unique=True)
            )
            # Weighted towards "team", so theme counts often sit right around k.
            sharing = draw(st.sampled_from(["team", "team", "private", "peers"]))
            entries.append(
                Row(
                    author=author,
                    author_name=f"Name-{author}-canary",
                    themes=tuple(themes),
                    sharing=sharing,
                    text=f"text-canary-{number}-{author} about trust and safety",
                )
            )
    return users, group, entries, k


@pytest.mark.slow  # many random scenarios each
@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_no_digest_ever_contains_entry_text_names_or_user_ids(scenario):
    users, group, entries, k = scenario
    digest = compose_digest(inputs(group, entries, k=k, connections=len(users)), LIBRARY)
    shown = everything_shown(digest)
    assert "canary" not in shown
    for user in users:
        assert user not in shown
        assert user not in json.dumps(digest.shown)  # the ledger keeps salted hashes only


@pytest.mark.slow  # many random scenarios each
@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_theme_shown_has_at_least_k_distinct_team_contributors(scenario):
    _users, group, entries, k = scenario
    digest = compose_digest(inputs(group, entries, k=k), LIBRARY)
    for line in digest.themes:
        people = team_contributors(set(group), entries, line.slug)
        assert len(people) >= k
        assert line.band == band(len(people), k)
        assert digest.shown[line.slug] == sorted(contributor_hash(SALT, TEAM, u) for u in people)
    assert set(digest.shown) == {line.slug for line in digest.themes}


@pytest.mark.slow  # many random scenarios each
@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_private_and_peers_only_entries_never_count(scenario):
    _users, group, entries, k = scenario
    team_only = [e for e in entries if e.sharing == "team"]
    everything = compose_digest(inputs(group, entries, k=k), LIBRARY)
    shared = compose_digest(inputs(group, team_only, k=k), LIBRARY)
    assert everything.as_json() == shared.as_json() and everything.shown == shared.shown


@pytest.mark.slow  # many random scenarios each
@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(min_value=0, max_value=40))
def test_a_group_smaller_than_k_gets_no_aggregate_and_reveals_nothing_of_its_entries(
    scenario, connections
):
    users, _group, entries, _k = scenario
    group = users[:4]
    digest = compose_digest(inputs(group, entries, k=5, connections=connections), LIBRARY)
    data = digest.as_json()
    assert data["themes"] == [] and data["connections_band"] == ""
    assert data["group_size_band"] == "" and digest.shown == {}
    # Guidance and question cannot hint at what was written: they are the same with no entries.
    assert data == compose_digest(inputs(group, [], k=5), LIBRARY).as_json()


def _rows(people, theme="trust-and-relationships"):
    return [Row(u, "", (theme,), "team", "") for u in people]


def test_a_theme_with_k_minus_one_contributors_never_appears():
    people = [f"U00000{i:03d}" for i in range(9)]
    for k in (3, 5, 7):
        digest = compose_digest(inputs(people, _rows(people[: k - 1]), k=k), LIBRARY)
        assert digest.themes == []
        digest = compose_digest(inputs(people, _rows(people[:k]), k=k), LIBRARY)
        assert [t.slug for t in digest.themes] == ["trust-and-relationships"]


def test_many_entries_from_one_person_still_count_as_one():
    people = [f"U00000{i:03d}" for i in range(6)]
    entries = _rows(people[:4]) + _rows([people[0]] * 20)
    assert compose_digest(inputs(people, entries, k=5), LIBRARY).themes == []


def test_the_second_of_two_digests_differing_by_one_person_suppresses_the_theme():
    people = [f"U00000{i:03d}" for i in range(8)]
    first = compose_digest(inputs(people, _rows(people[:5]), period="W2026-48"), LIBRARY)
    assert [t.slug for t in first.themes] == ["trust-and-relationships"]
    second = compose_digest(
        inputs(people, _rows(people[:6]), period="W2026-49", previous=first.shown), LIBRARY
    )
    assert second.themes == [] and second.shown == {}
    # The same five people again reveal nothing new: shown again.
    same = compose_digest(
        inputs(people, _rows(people[:5]), period="W2026-49", previous=first.shown), LIBRARY
    )
    assert [t.slug for t in same.themes] == ["trust-and-relationships"]


def test_two_overlapping_channels_cannot_be_subtracted():
    people = [f"U00000{i:03d}" for i in range(8)]
    channel_a = compose_digest(inputs(people[:6], _rows(people[:6])), LIBRARY)
    assert channel_a.themes
    # Channel B is channel A without one person: its digest would tell them apart.
    channel_b = compose_digest(
        inputs(people[1:6], _rows(people[1:6]), others=[channel_a.shown]), LIBRARY
    )
    assert channel_b.themes == []
    # A channel with entirely different people is unaffected by channel A.
    strangers = [f"U99999{i:03d}" for i in range(5)]
    channel_c = compose_digest(
        inputs(strangers, _rows(strangers), others=[channel_a.shown]), LIBRARY
    )
    assert [t.slug for t in channel_c.themes] == ["trust-and-relationships"]


@st.composite
def histories(draw):
    users, group, entries, k = draw(scenarios())
    shown_sets = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        picked = draw(st.lists(st.sampled_from(users), unique=True)) if users else []
        theme = draw(st.sampled_from(THEMES[:2]))
        shown_sets.append({theme: sorted(contributor_hash(SALT, TEAM, u) for u in picked)})
    return group, entries, k, shown_sets


@pytest.mark.slow  # many random scenarios each
@settings(max_examples=150, deadline=None)
@given(histories())
def test_a_shown_theme_never_differs_from_an_earlier_digest_by_fewer_than_k_people(history):
    group, entries, k, earlier = history
    previous, *others = earlier or [{}]
    digest = compose_digest(inputs(group, entries, k=k, previous=previous, others=others), LIBRARY)
    for slug, hashes in digest.shown.items():
        for before in earlier:
            difference = set(hashes) ^ set(before.get(slug, []))
            assert len(difference) == 0 or len(difference) >= k


def test_bands_hide_exact_counts():
    assert [band(n, 5) for n in (4, 5, 9, 10, 19, 20, 300)] == [
        "",
        "5–9",
        "5–9",
        "10–19",
        "10–19",
        "20+",
        "20+",
    ]
    assert band(3, 3) == "under 5" and band(2, 3) == ""


def test_guidance_and_question_follow_the_leading_theme_and_are_stable_per_period():
    people = [f"U00000{i:03d}" for i in range(6)]
    entries = _rows(people, "psychological-safety")
    digest = compose_digest(inputs(people, entries), LIBRARY)
    again = compose_digest(inputs(people, list(reversed(entries))), LIBRARY)
    assert digest.as_json() == again.as_json()
    assert digest.guidance.doc_id.startswith("psychological-safety-guide-")
    assert digest.question in LIBRARY.questions["psychological-safety"]
    assert digest.headline == (
        "This week's reflection digest: 1 theme, guidance and a question for the team "
        "— details in the thread"
    )
    assert "psychological safety" in digest.text


def test_sections_left_out_stay_out():
    people = [f"U00000{i:03d}" for i in range(6)]
    only_question = DigestInputs(
        **{**inputs(people, _rows(people)).__dict__, "sections": ("question",)}
    )
    data = compose_digest(only_question, LIBRARY).as_json()
    assert data["themes"] == [] and data["guidance"] == {} and data["question"]
