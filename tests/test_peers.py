"""Peer connections end to end: opt in, a round, the group DM, answers, follow-up, pause, erase."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot.cohort import import_leaders
from bot.db.engine import session_scope
from bot.db.models import JournalEntry, PeerExclusion, PeerGroup, PeerMember, PeerPreference
from bot.db.models import PeerRound as RoundRow
from bot.knowledge.documents import check_knowledge_base
from bot.knowledge.taxonomy import load_taxonomy
from bot.peers.matching import NO_MATCH
from bot.peers.preferences import get_choices, save_choices
from bot.peers.rounds import plan_round, record_response
from bot.privacy import erase_user, export_user
from bot.reflection.journal import add_entry
from bot.reflection.leaders import get_leader
from bot.settings import REPO_ROOT
from bot.slack.client import TeamClients
from jobs.peers import run_peer_jobs
from jobs.tick import run_tick
from tests.conftest import make_settings
from tests.slack_fixtures import running_tandem
from tests.support.waiting import settle, wait_until

# Slow tier: peer rounds end to end through Bolt, the tick and the CLI.
pytestmark = pytest.mark.slow

TEAM = "T0TANDEM"
ROUND = dt.datetime(2026, 11, 30, 10, 0)  # a round Monday, 10:00 in London (GMT)
WEEK = dt.timedelta(days=7)
PRIVATE_CANARY = "zebra-canary-4471"
PEERS_CANARY = "okapi-canary-9032"


# A few real knowledge documents on the themes these tests match on: enough for conversation
# starters, and quick to index (the whole base is indexed by tests that need all of it).
STARTER_DOCS = (
    "bringing-people-in-before-the-problem-is-decided",
    "going-to-where-people-already-are",
    "relationships-before-the-crisis",
    "repairing-trust-after-a-let-down",
    "peer-coaching-pairs-across-organisations",
    "making-it-normal-to-ask-a-peer-for-help",
)


@pytest.fixture(scope="module")
def starter_kb(tmp_path_factory):
    from bot.knowledge.index import ingest

    root = tmp_path_factory.mktemp("peers-kb")
    (root / "knowledge" / "docs").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "knowledge" / "taxonomy.yaml", root / "knowledge" / "taxonomy.yaml")
    for doc in STARTER_DOCS:
        shutil.copy(REPO_ROOT / "knowledge" / "docs" / f"{doc}.md", root / "knowledge" / "docs")
    settings = make_settings(root / "data", TANDEM_KNOWLEDGE_DIR=str(root / "knowledge"))
    ingest(settings)
    return settings


@pytest.fixture
def slack(starter_kb, tmp_path):
    with running_tandem(starter_kb, tmp_path) as harness:
        harness.ws.add_user("U3", name="Tomasz Nowak", organisation="Westvale Council")
        yield harness


def peer_jobs(slack, at):
    return run_peer_jobs(slack.settings, now=at, clients=TeamClients(slack.settings))


def join(slack, user, org, name, want=(), offer=(), cadence="fortnightly", exclude=()):
    return save_choices(
        slack.settings,
        TEAM,
        user,
        cadence=cadence,
        prefer_other_org=True,
        want=list(want),
        offer=list(offer),
        exclusions=list(exclude),
        organisation=org,
        display_name=name,
    )


def join_pair(slack, **options):
    join(slack, "U1", "Northshire ICB", "Amara Okafor", want=["trust-and-relationships"], **options)
    join(
        slack, "U2", "St Anne's Hospice", "Priya Shah", want=["trust-and-relationships"], **options
    )


def introductions(slack):
    """Every introduction Tandem posted, wherever it went."""
    return [
        c
        for c in slack.ws.calls_to("chat.postMessage")
        if (c["params"].get("metadata") or "") and "tandem_peer_intro" in str(c["params"])
    ]


def intro_message(slack):
    with session_scope(slack.settings) as session:
        channel = session.scalar(select(PeerGroup.channel_id).where(PeerGroup.status == "sent"))
    [message] = [m for m in slack.bot_messages(channel) if "introduce you" in m.get("text", "")]
    return message


def dm_texts(slack, user):
    return [m.get("text", "") for m in slack.bot_messages(slack.ws.open_dm(user))]


def everything_sent(slack) -> str:
    """All Tandem said to anyone: Web API calls, ephemeral messages, views."""
    seen = [slack.ws.calls]
    for user in ("U1", "U2", "U3"):
        seen += [slack.ws.ephemeral(user), slack.ws.views(user), slack.ws.home_view(user)]
    return json.dumps(seen, default=str)


def test_opting_in_from_the_slash_command_and_modal_without_starting_check_ins(slack):
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="peers")
    offer = wait_until(
        lambda: [e for e in slack.ws.ephemeral("U1") if "peers_open_preferences" in json.dumps(e)]
    )[-1]
    assert "Would you like to be introduced?" in offer["text"]
    slack.ws.click_button("U1", offer, action_id="peers_open_preferences")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view(
        "U1",
        modal["id"],
        values={
            "org": {"v": "Northshire ICB"},
            "cadence": {"v": "fortnightly"},
            "want": {"v": ["trust-and-relationships", "system-leadership"]},
            "offer": {"v": ["psychological-safety"]},
            "exclude": {"v": ["U3"]},
        },
    )
    choices = wait_until(lambda: get_choices(slack.settings, TEAM, "U1"))
    assert choices.opted_in and choices.cadence == "fortnightly" and choices.prefer_other_org
    assert choices.want == ["trust-and-relationships", "system-leadership"]
    assert choices.offer == ["psychological-safety"] and choices.exclusions == ["U3"]
    leader = wait_until(
        lambda: (lambda lead: lead if lead.display_name else None)(
            get_leader(slack.settings, TEAM, "U1")
        )
    )
    assert (leader.status, leader.organisation) == ("peers-only", "Northshire ICB")
    wait_until(lambda: any("you're in" in e.get("text", "") for e in slack.ws.ephemeral("U1")))
    home = json.dumps(wait_until(lambda: slack.ws.home_view("U1")))
    assert "Meet a peer" in home and "Every fortnight" in home and "Trust and relationships" in home
    # Peers only: no check-in ever goes to someone who didn't join check-ins.
    friday_morning = dt.datetime(2026, 12, 4, 9, 30)
    counts = run_tick(slack.settings, now=friday_morning, clients=TeamClients(slack.settings))
    assert counts["checkins"] == 0


def test_help_lists_peers_and_help_stays_last(slack):
    response = slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="help")
    usages = [line.split("`")[1] for line in response.json["text"].splitlines() if "`" in line]
    assert "/tandem peers" in usages and usages[-1] == "/tandem help"


def test_a_round_sends_one_warm_group_introduction_built_only_from_shared_themes(slack):
    join(slack, "U1", "Northshire ICB", "Amara Okafor", want=["inclusion-and-coproduction"])
    leader = get_leader(slack.settings, TEAM, "U1")
    private = add_entry(
        slack.settings,
        leader.id,
        f"{PRIVATE_CANARY}: our targets and performance measures reward the wrong things and "
        "crowd out working together.",
    )
    shared = add_entry(
        slack.settings,
        leader.id,
        f"{PEERS_CANARY}: who really holds power in our partnership, and how do we hold each "
        "other to account as equals?",
        sharing="peers",
    )
    assert private.themes and shared.themes and not set(private.themes) & set(shared.themes)
    join(
        slack,
        "U2",
        "St Anne's Hospice",
        "Priya Shah",
        want=["inclusion-and-coproduction"],
        offer=[shared.themes[0], private.themes[0]],
    )
    preview = plan_round(slack.settings, TEAM, ROUND, dry_run=True).result.as_json()
    [group] = preview["groups"]
    assert group["reasons"] == ["inclusion-and-coproduction", shared.themes[0]]

    assert peer_jobs(slack, ROUND - dt.timedelta(minutes=1)) == 0
    assert peer_jobs(slack, ROUND) == 1
    assert [c["params"]["users"] for c in slack.ws.calls_to("conversations.open")] == ["U1,U2"]
    message = intro_message(slack)
    text = message["text"]
    for expected in ("Amara Okafor", "Northshire ICB", "Priya Shah", "St Anne", "<@U1>", "<@U2>"):
        assert expected in text
    assert "inclusion and co-production" in text and "power and mutual accountability" in text
    assert "measures and incentives" not in text.lower()
    themes = {t.slug for t in load_taxonomy(slack.settings.knowledge_dir / "taxonomy.yaml")}
    kb = check_knowledge_base(slack.settings.knowledge_dir, themes)
    titles = {d.title for d in kb.documents}
    starter_title = text.split("A conversation starter, from *", 1)[1].split("*", 1)[0]
    assert starter_title in titles and "\n> _" in text
    buttons = json.dumps(message["blocks"])
    assert "We've arranged to meet" in buttons and "Not this time" in buttons
    sent = everything_sent(slack) + json.dumps(preview)
    assert PRIVATE_CANARY not in sent and PEERS_CANARY not in sent


def test_arranged_and_not_this_time_and_only_members_may_answer(slack):
    join_pair(slack)
    join(slack, "U3", "Westvale Council", "Tomasz Nowak", cadence="monthly", exclude=["U1", "U2"])
    peer_jobs(slack, ROUND)
    message = intro_message(slack)
    with session_scope(slack.settings) as session:
        group_id = session.scalar(select(PeerGroup.id))
    assert record_response(slack.settings, TEAM, "U3", group_id, "declined") is None
    slack.ws.click_button("U1", message, action_id="peers_arranged")
    wait_until(lambda: _responses(slack) == {"U1": "arranged", "U2": "none"})
    wait_until(lambda: any("good conversation" in e["text"] for e in slack.ws.ephemeral("U1")))
    slack.ws.click_button("U2", message, action_id="peers_not_this_time")
    wait_until(lambda: _responses(slack) == {"U1": "arranged", "U2": "declined"})
    note = wait_until(lambda: [t for t in dm_texts(slack, "U1") if "can't make it" in t])
    assert "can't make it this round" in note[0] and "Priya" not in note[0]
    assert not any("can't make it" in t for t in dm_texts(slack, "U2"))
    wait_until(lambda: any("No problem at all" in e["text"] for e in slack.ws.ephemeral("U2")))
    settle()
    # Declining twice changes nothing and tells nobody anything new.
    slack.ws.click_button("U2", message, action_id="peers_not_this_time")
    wait_until(lambda: any("already noted" in e["text"] for e in slack.ws.ephemeral("U2")))
    assert len([t for t in dm_texts(slack, "U1") if "can't make it" in t]) == 1


def test_a_week_later_each_member_is_asked_privately_and_the_answer_goes_to_their_journal(slack):
    join_pair(slack)
    peer_jobs(slack, ROUND)
    slack.ws.click_button("U1", intro_message(slack), action_id="peers_arranged")
    wait_until(lambda: _responses(slack)["U1"] == "arranged")
    peer_jobs(slack, ROUND + WEEK - dt.timedelta(minutes=1))
    assert not any("what did you take away" in t for t in dm_texts(slack, "U1"))
    peer_jobs(slack, ROUND + WEEK)
    peer_jobs(slack, ROUND + WEEK + dt.timedelta(hours=1))  # replayed: nothing new
    for user, peer in (("U1", "Priya Shah"), ("U2", "Amara Okafor")):
        [asked] = [
            m
            for m in slack.bot_messages(slack.ws.open_dm(user))
            if "what did you take away" in m["text"]
        ]
        assert peer in asked["text"]
    [followup] = [
        m
        for m in slack.bot_messages(slack.ws.open_dm("U1"))
        if "what did you take away" in m["text"]
    ]
    slack.ws.click_button("U1", followup, action_id="peers_takeaway")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    takeaway = "Priya's way of opening meetings with a question is something I'll try."
    slack.ws.submit_view("U1", modal["id"], values={"takeaway": {"text": takeaway}})
    entry = wait_until(lambda: _journal(slack, "U1"))[0]
    assert (entry.text, entry.source, entry.sharing) == (takeaway, "peer", "private")
    assert _journal(slack, "U2") == []


def test_a_replayed_tick_sends_nothing_twice(slack):
    join_pair(slack)
    tick = run_tick(slack.settings, now=ROUND, clients=TeamClients(slack.settings))
    assert tick["peer_introductions"] == 1
    again = run_tick(slack.settings, now=ROUND, clients=TeamClients(slack.settings))
    later = run_tick(
        slack.settings, now=ROUND + dt.timedelta(hours=3), clients=TeamClients(slack.settings)
    )
    assert again["peer_introductions"] == later["peer_introductions"] == 0
    assert len(introductions(slack)) == 1
    with session_scope(slack.settings) as session:
        assert session.scalar(select(func.count()).select_from(RoundRow)) == 1


def test_two_ignored_introductions_bring_a_kind_pause_offer_to_that_person_only(slack):
    join_pair(slack)
    for start in (ROUND, ROUND + 2 * WEEK):
        assert peer_jobs(slack, start) == 1
        latest = [
            m
            for m in slack.bot_messages(_group_channel(slack))
            if "introduce you" in m.get("text", "")
        ][-1]
        slack.ws.click_button("U1", latest, action_id="peers_arranged")
        wait_until(lambda: "arranged" in _all_responses(slack, "U1")[-1:])
        peer_jobs(slack, start + WEEK)
        if start == ROUND:  # one introduction let pass is nothing to remark on
            assert not any("pause" in t for t in dm_texts(slack, "U2"))
    offers = [m for m in slack.bot_messages(slack.ws.open_dm("U2")) if "pause" in m["text"]]
    assert len(offers) == 1 and "Nobody else is told" in offers[0]["text"]
    assert not any("pause them" in t for t in dm_texts(slack, "U1"))
    assert "pause them" not in json.dumps(slack.bot_messages(_group_channel(slack)))
    peer_jobs(slack, ROUND + 3 * WEEK + dt.timedelta(hours=1))  # asked once, not every tick
    assert len([m for m in slack.bot_messages(slack.ws.open_dm("U2")) if "pause" in m["text"]]) == 1
    slack.ws.click_button("U2", offers[0], action_id="peers_pause_for_now")
    choices = wait_until(
        lambda: (lambda c: c if c.paused_until else None)(get_choices(slack.settings, TEAM, "U2"))
    )
    assert choices.opted_in and choices.paused_until > ROUND.date()
    # Paused people are not introduced; U1, alone this round, hears so kindly.
    assert peer_jobs(slack, ROUND + 4 * WEEK) == 0
    assert any("first in line next time" in t for t in dm_texts(slack, "U1"))


def test_someone_nobody_can_be_matched_with_sits_out_kindly_and_goes_first_next_time(slack):
    join_pair(slack, exclude=["U3"])
    join(slack, "U3", "Westvale Council", "Tomasz Nowak")
    assert peer_jobs(slack, ROUND) == 1
    [kind] = [t for t in dm_texts(slack, "U3") if "first in line" in t]
    assert "rather not" not in kind and "U1" not in kind and "U2" not in kind
    with session_scope(slack.settings) as session:
        flags = dict(
            session.execute(
                select(PeerPreference.leader_id, PeerPreference.sat_out_last).order_by(
                    PeerPreference.leader_id
                )
            ).all()
        )
    assert list(flags.values()) == [False, False, True]


def test_monthly_people_rest_the_round_after_an_introduction(slack):
    join_pair(slack, cadence="monthly")
    assert peer_jobs(slack, ROUND) == 1
    assert peer_jobs(slack, ROUND + 2 * WEEK) == 0
    assert peer_jobs(slack, ROUND + 4 * WEEK) == 1


def test_match_cli_dry_run_json_contract_writes_and_sends_nothing(slack):
    join_pair(slack)
    join(slack, "U3", "Westvale Council", "Tomasz Nowak", exclude=["U1", "U2"])
    leader = get_leader(slack.settings, TEAM, "U1")
    add_entry(slack.settings, leader.id, f"{PRIVATE_CANARY} about trust", sharing="private")
    add_entry(slack.settings, leader.id, f"{PEERS_CANARY} about trust", sharing="peers")
    env = {
        "TANDEM_DATA_DIR": str(slack.settings.data_dir),
        "DATABASE_URL": slack.settings.database_url,
        "SLACK_API_URL": slack.settings.slack_api_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-m", "bot.cli", "peers", "match", "--dry-run", "--json"]
    result = subprocess.run(
        [*command, "--at", "2026-11-30T10:00:00Z", "--seed", "5"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "groups": [{"members": ["U1", "U2"], "reasons": ["trust-and-relationships"]}],
        "unmatched": [{"user": "U3", "why": NO_MATCH}],
    }
    assert PRIVATE_CANARY not in result.stdout and PEERS_CANARY not in result.stdout
    assert slack.ws.calls_to("chat.postMessage") == []
    assert slack.ws.calls_to("conversations.open") == []
    with session_scope(slack.settings) as session:
        assert session.scalar(select(func.count()).select_from(RoundRow)) == 0
        assert not any(session.scalars(select(PeerPreference.sat_out_last)))
    with_team = subprocess.run(
        [*command, "--team", TEAM, "--at", "2026-11-30T10:00:00Z", "--seed", "5"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert with_team.stdout == result.stdout


def test_export_shows_your_own_peer_data_and_erase_removes_every_trace(slack):
    join_pair(slack)
    save_choices(
        slack.settings,
        TEAM,
        "U2",
        cadence="fortnightly",
        prefer_other_org=True,
        want=["trust-and-relationships"],
        offer=[],
        exclusions=["U1"],
    )
    join(slack, "U3", "Westvale Council", "Tomasz Nowak", exclude=["U2"])
    # U2 would rather not meet U1: so U1 meets U3, and U2 sits out this round.
    peer_jobs(slack, ROUND)
    exported = export_user(slack.settings, TEAM, "U1", actor="test")["peers"]
    assert exported["preferences"]["want_themes"] == ["trust-and-relationships"]
    assert [i["response"] for i in exported["introductions"]] == ["none"]
    assert "U3" not in json.dumps(exported["introductions"])
    assert "U1" not in json.dumps(export_user(slack.settings, TEAM, "U3", actor="test")["peers"])
    leader_id = get_leader(slack.settings, TEAM, "U1").id
    erase_user(slack.settings, TEAM, "U1", actor="test")
    with session_scope(slack.settings) as session:
        assert session.get(PeerPreference, leader_id) is None
        assert session.scalars(select(PeerExclusion.excluded_user_id)).all() == ["U2"]
        assert (
            session.scalars(
                select(PeerMember.leader_id).where(PeerMember.leader_id == leader_id)
            ).all()
            == []
        )
    assert get_choices(slack.settings, TEAM, "U2").exclusions == []
    assert get_choices(slack.settings, TEAM, "U3").exclusions == ["U2"]


def test_cohort_import_can_opt_leaders_in_to_peers(slack):
    csv_text = (
        "slack_user_id,organisation,time_zone,cadence,day,time,consent,peers,peer_themes,peer_cadence\n"
        "U1,Northshire ICB,Europe/London,weekly,mon,09:00,yes,yes,trust-and-relationships;peer-support,fortnightly\n"
        "U2,St Anne's Hospice,Europe/London,weekly,mon,09:00,yes,no,,\n"
    )
    report = import_leaders(slack.settings, TEAM, csv_text)
    assert report.problems == []
    choices = get_choices(slack.settings, TEAM, "U1")
    assert choices.opted_in and choices.cadence == "fortnightly"
    assert choices.want == ["trust-and-relationships", "peer-support"]
    assert get_choices(slack.settings, TEAM, "U2") is None


def _group_channel(slack):
    with session_scope(slack.settings) as session:
        return session.scalar(select(PeerGroup.channel_id).where(PeerGroup.channel_id.is_not(None)))


def _responses(slack):
    with session_scope(slack.settings) as session:
        rows = session.execute(
            select(PeerMember.leader_id, PeerMember.response).order_by(PeerMember.leader_id)
        ).all()
    users = {get_leader(slack.settings, TEAM, u).id: u for u in ("U1", "U2")}
    return {users[leader]: response for leader, response in rows if leader in users}


def _all_responses(slack, user):
    leader_id = get_leader(slack.settings, TEAM, user).id
    with session_scope(slack.settings) as session:
        return list(
            session.scalars(
                select(PeerMember.response)
                .where(PeerMember.leader_id == leader_id)
                .order_by(PeerMember.group_id)
            )
        )


def _journal(slack, user):
    leader = get_leader(slack.settings, TEAM, user)
    with session_scope(slack.settings) as session:
        rows = session.scalars(
            select(JournalEntry).where(JournalEntry.leader_id == leader.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return rows


# --- issue #14 item 7: rounds are easy to discover and the copy fits the group -------------


def test_the_tick_reports_follow_ups_it_sent_not_nothing_was_due(slack):
    join_pair(slack)
    run_tick(slack.settings, now=ROUND, clients=TeamClients(slack.settings))
    counts = run_tick(slack.settings, now=ROUND + WEEK, clients=TeamClients(slack.settings))
    assert counts["peer_followups"] == 2 and counts["peer_introductions"] == 0
    assert any("what did you take away" in t for t in dm_texts(slack, "U1"))


def test_opting_in_and_app_home_say_when_the_next_round_is(slack):
    from bot.db.models import utcnow
    from bot.peers.rounds import next_round_date

    upcoming = next_round_date(utcnow())
    assert upcoming.weekday() == 0
    words = f"the next round is on {upcoming:%A} {upcoming.day} {upcoming:%B}"
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="peers")
    offer = wait_until(
        lambda: [e for e in slack.ws.ephemeral("U1") if "peers_open_preferences" in json.dumps(e)]
    )[-1]
    assert "every other Monday morning" in offer["text"] and words in offer["text"]
    slack.ws.click_button("U1", offer, action_id="peers_open_preferences")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view("U1", modal["id"], values={"org": {"v": "Northshire ICB"}})
    wait_until(
        lambda: any(
            "you're in" in e["text"] and words in e["text"] for e in slack.ws.ephemeral("U1")
        )
    )
    wait_until(lambda: words in json.dumps(slack.ws.home_view("U1")))


def test_an_introduction_of_two_greets_them_as_people_write_and_says_who_can_see_it(slack):
    join_pair(slack)
    peer_jobs(slack, ROUND)
    message = intro_message(slack)
    assert message["text"].startswith("Hello <@U1> and <@U2>.") or message["text"].startswith(
        "Hello <@U2> and <@U1>."
    )
    assert "Only the two of you can see this conversation" in json.dumps(message["blocks"])
