"""Block Kit builders are pure: tested without any Slack."""

import json

from bot.guidance.service import Answer, Citation
from bot.ui.answer import ACTION_SHARE, answer_blocks, split_for_sections, to_dicts
from bot.ui.home import home_view
from bot.ui.messages import commands_text, help_blocks

DOMAINS = ("nhs.uk",)


def _answer(text="Two ideas [1] [2].", mode="offline", grounded=True):
    return Answer(
        "q", grounded, text, [Citation("a-doc", "A doc"), Citation("b-doc", "B & C")], mode
    )


def test_answer_has_text_numbered_sources_with_view_buttons_and_feedback():
    blocks, text = answer_blocks(_answer(), DOMAINS)
    dicts = to_dicts(blocks)
    assert [b["type"] for b in dicts] == ["section", "context", "section", "section", "actions"]
    sources = dicts[2:4]
    assert [s["text"]["text"] for s in sources] == ["[1] A doc", "[2] B &amp; C"]
    assert [s["accessory"]["action_id"] for s in sources] == ["view_source:1", "view_source:2"]
    assert [s["accessory"]["value"] for s in sources] == ["a-doc", "b-doc"]
    buttons = dicts[4]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Helpful", "Not helpful"]
    assert json.loads(buttons[0]["value"]) == ["a-doc", "b-doc"]
    assert "Two ideas" in text and "Sources:" in text


def test_the_share_button_carries_only_the_kept_answers_id():
    blocks, _ = answer_blocks(_answer(), DOMAINS, share_id="k3pt-1d")
    share = [e for e in to_dicts(blocks)[-1]["elements"] if e["action_id"] == ACTION_SHARE]
    assert share[0]["value"] == "k3pt-1d"


def test_a_share_id_stays_short_whatever_the_question():
    question = "😀é" * 1000  # once overflowed Slack's 2,000-character button value
    answer = Answer(question, True, "Two ideas [1].", [Citation("a-doc", "A doc")])
    blocks, _ = answer_blocks(answer, DOMAINS, share_id="abc")
    for block in to_dicts(blocks):
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= 2000


def test_long_answers_are_split_within_slack_limits():
    long_text = "\n\n".join(("word " * 500).strip() for _ in range(30))  # ~75,000 chars
    blocks, text = answer_blocks(_answer(long_text, mode="llm"), DOMAINS)
    dicts = to_dicts(blocks)
    assert len(dicts) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in dicts if b["type"] == "section")
    assert len(text) <= 3900


def test_a_single_giant_word_is_still_split():
    parts = split_for_sections("x" * 7000)
    assert [len(p) for p in parts] == [3000, 3000, 1000]


def test_model_text_is_neutralised_but_curated_text_only_escaped():
    hostile = "Ping <!channel> and <@U999>, see <https://evil.example|here> or https://www.nhs.uk/a"
    blocks, _ = answer_blocks(_answer(hostile, mode="llm"), DOMAINS)
    section = to_dicts(blocks)[0]["text"]["text"]
    assert "<!channel>" not in section and "<@U999>" not in section
    assert "evil.example" not in section
    assert "<https://www.nhs.uk/a>" in section
    blocks, _ = answer_blocks(_answer("Use <b> & <!here>", mode="offline"), DOMAINS)
    assert to_dicts(blocks)[0]["text"]["text"] == "Use &lt;b&gt; &amp; &lt;!here&gt;"


def test_not_grounded_answers_have_no_feedback_buttons():
    answer = Answer(
        "q", False, "I don't have guidance on that.", [], "offline", kind="not_grounded"
    )
    blocks, _ = answer_blocks(answer, DOMAINS, share_id="q")
    assert [b["type"] for b in to_dicts(blocks)] == ["section"]


def test_help_lists_exactly_the_commands_it_is_given():
    entries = [("/tandem ask <question>", "guidance"), ("/tandem help", "this list")]
    listed = commands_text(entries)
    _, text = help_blocks(f"Themes...\n\n{listed}")
    assert "`/tandem ask <question>`  guidance" in text and "`/tandem help`  this list" in text
    assert "checkin" not in text


def test_a_document_opens_in_a_modal_within_slacks_limits():
    from bot.knowledge.documents import load_document
    from bot.knowledge.taxonomy import load_taxonomy
    from bot.settings import REPO_ROOT
    from bot.ui.knowledge import document_modal

    themes = {t.slug for t in load_taxonomy(REPO_ROOT / "knowledge" / "taxonomy.yaml")}
    doc = load_document(REPO_ROOT / "knowledge", "a-deputy-who-goes-round-you", themes)
    view = document_modal(doc)
    assert view["type"] == "modal" and len(view["blocks"]) <= 100
    body = json.dumps(view["blocks"], ensure_ascii=False)
    assert doc.title in body and "A conversation plan" in body and "Sources" in body
    assert load_document(REPO_ROOT / "knowledge", "../../etc/passwd", themes) is None


def test_home_welcomes_first_timers_differently():
    first = json.dumps(home_view(first_visit=True).to_dict())
    again = json.dumps(home_view(first_visit=False).to_dict())
    assert "Welcome to Tandem" in first and "Welcome to Tandem" not in again
    assert "Ask for guidance" in first


def test_every_field_of_a_digest_is_escaped_in_its_fallback_text_too():
    from bot.digests.compose import Digest, Guide, ThemeLine
    from bot.ui.digests import detail_blocks, headline_blocks, preview_blocks

    hostile = "<!channel> see <https://evil.example|this>"
    digest = Digest(
        channel="C1",
        period="W2026-49",
        cadence="weekly",
        k=5,
        group_size_band="5–9",
        themes=[ThemeLine("trust-and-relationships", hostile, "5–9")],
        guidance=Guide("a-doc", hostile, hostile),
        question=hostile,
        connections_band="",
        invitation=False,
        text=hostile,
    )
    import datetime as dt

    for blocks, text in (
        detail_blocks(digest),
        headline_blocks(digest),
        preview_blocks(digest, dt.datetime(2026, 12, 4, 15, 0)),
    ):
        sent = text + json.dumps(to_dicts(blocks))
        assert "<!channel>" not in sent and "<https://evil.example" not in sent


def test_optional_inputs_do_not_say_optional_twice():
    from bot.ui.feedback import reason_modal

    labels = [
        b["label"]["text"]
        for b in reason_modal("{}").to_dict()["blocks"]
        if b["type"] == "input" and b.get("optional")
    ]
    assert labels and not any("(optional)" in label for label in labels)


def test_a_three_person_introduction_reads_naturally_and_says_the_three_of_you():
    from bot.ui.peers import introduction_message

    people = [("UA", "Amara", "ICB"), ("UB", "Grace", "Council"), ("UC", "Ciarán", "PCN")]
    blocks, text = introduction_message(7, people, [], None)
    assert text.startswith("Hello <@UA>, <@UB> and <@UC>. ")
    context = [b for b in blocks if b["type"] == "context"][0]["elements"][0]["text"]
    assert context.startswith("Only the three of you can see this conversation.")


def test_the_settings_form_offers_the_themes_it_is_given_and_keeps_no_state():
    import datetime as dt

    from bot.reflection.leaders import LeaderView
    from bot.ui.journal import settings_modal

    now = dt.datetime(2026, 12, 1, 9, 0)
    leader = LeaderView(
        id=1, team_id="T1", slack_user_id="U1", display_name="", organisation="",
        time_zone="Europe/London", cadence="weekly", day="wed", local_time="09:30",
        quiet_start=None, quiet_end=None, paused_until=None, skip_next=False,
        snoozed_until=None, focus_themes="trust", guidance_after_answer=True, status="active",
        consent_source="self", anchor_date=now.date(), invited_at=None, enrolled_at=now,
        created_at=now, next_due_at=None,
    )  # fmt: skip

    def themes_offered(view) -> dict:
        block = next(b for b in view.to_dict()["blocks"] if b.get("block_id") == "focus")
        element = block["element"]
        offered = [o["value"] for o in element.get("options", [])]
        chosen = [o["value"] for o in element.get("initial_options", [])]
        return {"offered": offered, "chosen": chosen}

    first = themes_offered(settings_modal(leader, {"trust": "Trust", "power": "Power"}))
    second = themes_offered(settings_modal(leader, {"purpose": "Shared purpose"}))
    assert first == {"offered": ["trust", "power"], "chosen": ["trust"]}
    assert second == {"offered": ["purpose"], "chosen": []}  # nothing left over from the first


def test_the_fan_outs_check_in_dm_is_the_check_in_message_to_the_last_field():
    from bot.ui.checkins import checkin_dm, checkin_message

    cases = [
        (1, "What helped this week?", "Good morning, Ann. A question for your week:"),
        (98765, "Who <did> you & *they* rely on?", "Good evening. A question:"),
        (2, "What helped this week?", "Good afternoon, Bo."),  # the same question, shared
    ]
    for checkin_id, question, opener in cases:
        blocks, text = checkin_message(checkin_id, question, opener)
        dm_blocks, dm_text = checkin_dm(checkin_id, question, opener)
        assert json.dumps(dm_blocks, sort_keys=True) == json.dumps(to_dicts(blocks), sort_keys=True)
        assert dm_text == text
    # One DM's values do not leak into another's shared blocks.
    first, _ = checkin_dm(1, "What helped this week?", "Hello, Ann.")
    checkin_dm(2, "What helped this week?", "Hello, Bo.")
    assert first[0]["text"]["text"] == "Hello, Ann."
    assert {button["value"] for button in first[2]["elements"]} == {"1"}
