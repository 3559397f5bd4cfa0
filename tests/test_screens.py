"""Every action leaves the screen it came from showing the current state (issue #14, item 3).

Over the real Bolt stack: each test clicks or submits in the local Slack-compatible workspace
and then reads the message, ephemeral message or view that workspace now holds.
"""

from __future__ import annotations

import json

import pytest

from bot.reflection.journal import add_entry
from bot.ui import checkins as checkin_ui
from tests.slack_fixtures import running_tandem
from tests.support.waiting import settle, wait_until
from tests.test_checkins import MONDAY_0900_GMT, checkin_messages, join, tick

# Slow tier: every screen through the real Bolt app and the workspace server.
pytestmark = pytest.mark.slow


@pytest.fixture
def slack(kb_settings, tmp_path):
    with running_tandem(kb_settings, tmp_path) as harness:
        yield harness


def _buttons(message: dict) -> list[str]:
    return [
        element.get("action_id")
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def _text(message: dict) -> str:
    return json.dumps(message.get("blocks", []))


def _one_checkin(slack) -> dict:
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    assert checkin_ui.ACTION_REFLECT in _buttons(message)
    return message


def _settled(slack, words: str) -> dict:
    """The check-in DM once it says `words`."""
    return wait_until(lambda: next((m for m in checkin_messages(slack) if words in _text(m)), None))


def test_after_reflecting_in_the_modal_the_check_in_shows_it_is_saved_without_buttons(slack):
    message = _one_checkin(slack)
    slack.ws.click_button("U1", message, action_id=checkin_ui.ACTION_REFLECT)
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view(
        "U1", modal["id"], values={"reflection": {"text": "Trust is slowly returning."}}
    )
    settled = _settled(slack, "Saved privately in your journal")
    assert _buttons(settled) == []
    assert "Trust is slowly returning" not in json.dumps(settled)  # the words stay private
    assert settled["ts"] == message["ts"]  # the same message, updated in place


def test_after_a_thread_reply_the_check_in_shows_it_is_saved_without_buttons(slack):
    message = _one_checkin(slack)
    slack.ws.user_posts(
        "U1", channel=slack.ws.open_dm("U1"), text="A thought.", thread_ts=message["ts"]
    )
    assert _buttons(_settled(slack, "Saved privately in your journal")) == []


def test_reflect_now_on_a_check_in_answered_elsewhere_says_so_instead_of_an_empty_modal(slack):
    message = _one_checkin(slack)
    [checkin_id] = {
        e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    }
    leader = join(slack, day="mon", local_time="09:00")
    add_entry(
        slack.settings, leader.id, "Answered from another device.", checkin_id=int(checkin_id)
    )
    slack.ws.click_button("U1", message, action_id=checkin_ui.ACTION_REFLECT)
    wait_until(
        lambda: any("already reflected" in e.get("text", "") for e in slack.ws.ephemeral("U1"))
    )
    assert _buttons(_settled(slack, "Saved privately in your journal")) == []
    assert slack.ws.views("U1") == []


def test_not_this_time_settles_the_check_in(slack):
    message = _one_checkin(slack)
    slack.ws.click_button("U1", message, action_id=checkin_ui.ACTION_DECLINE)
    assert _buttons(_settled(slack, "Not this time, and that's fine")) == []


def test_snoozing_says_when_and_still_lets_them_reflect_now(slack):
    message = _one_checkin(slack)
    slack.ws.click_button("U1", message, action_id=checkin_ui.ACTION_SNOOZE_HOUR)
    settled = _settled(slack, "ask again in about an hour")
    assert _buttons(settled) == [checkin_ui.ACTION_REFLECT, checkin_ui.ACTION_DECLINE]


def test_an_invitation_becomes_its_answer(slack):
    from bot.cohort import import_leaders

    import_leaders(
        slack.settings,
        "T0TANDEM",
        "slack_user_id,organisation,time_zone,cadence,day,time,consent\n"
        "U2,St Anne's Hospice,Europe/London,weekly,tue,10:30,no\n",
    )
    tick(slack, MONDAY_0900_GMT)
    dm = slack.ws.open_dm("U2")
    [invitation] = [m for m in slack.bot_messages(dm) if "Would you like to join" in m["text"]]
    slack.ws.click_button("U2", invitation, action_id=checkin_ui.ACTION_JOIN)
    joined = wait_until(
        lambda: next((m for m in slack.bot_messages(dm) if "You're in" in m["text"]), None)
    )
    assert joined["ts"] == invitation["ts"] and _buttons(joined) == []


def _journal(slack, user="U1") -> dict:
    """The latest journal listing shown to the person."""
    return wait_until(lambda: [e for e in slack.ws.ephemeral(user) if "Your journal" in _text(e)])[
        -1
    ]


def _open_journal(slack, *texts: str) -> dict:
    leader = join(slack, day="mon", local_time="09:00")
    for text in texts:
        add_entry(slack.settings, leader.id, text)
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="journal")
    return _journal(slack)


def _selected_sharing(listing: dict) -> list[str]:
    return [
        block["accessory"]["initial_option"]["value"].partition(":")[2]
        for block in listing["blocks"]
        if block.get("accessory", {}).get("action_id") == "journal_sharing"
    ]


def test_a_sharing_change_redraws_the_journal_with_the_new_choice(slack):
    listing = _open_journal(slack, "A thought about peers.")
    assert _selected_sharing(listing) == ["private"]
    [entry_value] = [
        o["value"]
        for b in listing["blocks"]
        if b.get("accessory", {}).get("action_id") == "journal_sharing"
        for o in b["accessory"]["options"]
        if o["value"].endswith(":team")
    ]
    slack.ws.click_button("U1", listing, action_id="journal_sharing", value=entry_value)
    redrawn = wait_until(
        lambda: (lambda shown: shown if _selected_sharing(shown) == ["team"] else None)(
            _journal(slack)
        )
    )
    assert redrawn["ts"] == listing["ts"]  # replaced in place, not a second message
    assert "Done: that entry is now" in _text(redrawn)


def test_saving_an_edit_confirms_it_and_shows_the_new_words(slack):
    listing = _open_journal(slack, "A first draft of a thought about trust.")
    slack.ws.click_button("U1", listing, action_id="journal_edit")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view(
        "U1", modal["id"], values={"entry": {"text": "A better thought about trust."}}
    )
    redrawn = wait_until(
        lambda: (lambda shown: shown if "A better thought" in _text(shown) else None)(
            _journal(slack)
        )
    )
    assert redrawn["ts"] == listing["ts"]
    assert "Saved" in _text(redrawn) and "A first draft" not in _text(redrawn)


def test_after_deleting_the_entry_is_no_longer_shown(slack):
    listing = _open_journal(slack, "Keep this one.", "Delete this one.")
    delete_value = next(
        element["value"]
        for index, block in enumerate(listing["blocks"])
        if block["type"] == "actions"
        and "Delete this one" in _text({"blocks": listing["blocks"][index - 2 : index]})
        for element in block["elements"]
        if element["action_id"] == "journal_delete"
    )
    slack.ws.click_button("U1", listing, action_id="journal_delete", value=delete_value)
    redrawn = wait_until(
        lambda: (lambda shown: shown if "Deleted" in _text(shown) else None)(_journal(slack))
    )
    assert "Delete this one" not in _text(redrawn) and "Keep this one" in _text(redrawn)
    settle()
    assert len([e for e in slack.ws.ephemeral("U1") if "Your journal" in _text(e)]) == 1


# --- issue #14 item 4: destructive actions ask first ---------------------------------------


def _element(blocks: list[dict], action_id: str) -> dict:
    return next(
        element
        for block in blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("action_id") == action_id
    )


def test_deleting_a_reflection_asks_for_confirmation_first(slack):
    listing = _open_journal(slack, "A thought I may want to keep.")
    confirm = _element(listing["blocks"], "journal_delete")["confirm"]
    assert confirm["title"]["text"] == "Delete this reflection?"
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Delete", "Keep it")
    assert confirm["style"] == "danger"


def test_leaving_check_ins_asks_for_confirmation_first(slack):
    join(slack, day="mon", local_time="09:00")
    slack.ws.open_app_home("U1")
    home = wait_until(lambda: slack.ws.home_view("U1"))
    confirm = _element(home["blocks"], "home_leave")["confirm"]
    assert confirm["title"]["text"] == "Leave check-ins?"
    assert "journal stays yours" in confirm["text"]["text"]


# --- issue #14 item 8: after /tandem forget, old controls say the data was erased ----------


def _forget(slack, user="U1") -> None:
    from bot.reflection.leaders import get_leader

    slack.ws.run_slash_command(user, channel="C1", command="/tandem", text="forget")
    [modal] = wait_until(lambda: slack.ws.views(user))
    slack.ws.submit_view(user, modal["id"], values={})
    wait_until(lambda: get_leader(slack.settings, "T0TANDEM", user) is None)


def test_after_forget_reflect_now_on_an_old_check_in_says_the_data_was_erased(slack):
    message = _one_checkin(slack)
    _forget(slack)
    slack.ws.click_button("U1", message, action_id=checkin_ui.ACTION_REFLECT)
    settled = _settled(slack, "Your data was erased")
    assert _buttons(settled) == [] and settled["ts"] == message["ts"]
    assert "belongs to someone else" not in json.dumps(slack.ws.ephemeral("U1"))
    assert slack.ws.views("U1") == []


def test_after_forget_a_reply_in_an_old_check_in_thread_is_not_answered_as_a_question(slack):
    message = _one_checkin(slack)
    _forget(slack)
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I build trust?", thread_ts=message["ts"])
    [note] = wait_until(
        lambda: [m for m in slack.bot_messages(dm, message["ts"]) if m["ts"] != message["ts"]]
    )
    assert "Your data was erased" in note["text"] and "haven't saved" in note["text"]
    assert _buttons(_settled(slack, "Your data was erased")) == []
    settle()
    assert len(slack.bot_messages(dm, message["ts"])) == 2  # the check-in and the note only


# --- issue #14 item 6: App Home's skip and snooze show what they did ------------------------


def _home_after(slack, action_id: str, words: str) -> str:
    """Click `action_id` in App Home, then the home's text once it says `words`."""
    slack.ws.click_button("U1", slack.ws.home_view("U1"), action_id=action_id)
    return wait_until(
        lambda: (lambda text: text if words in text else None)(json.dumps(slack.ws.home_view("U1")))
    )


def _long_date(day) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _open_home(slack) -> None:
    join(slack, day="mon", local_time="09:00")
    slack.ws.open_app_home("U1")
    wait_until(lambda: slack.ws.home_view("U1"))


def test_skip_next_names_the_one_after_as_next_and_can_be_undone(slack):
    import datetime as dt
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo("Europe/London"))
    first = now.date() + dt.timedelta(days=(0 - now.weekday()) % 7)
    if first == now.date() and now.hour >= 9:
        first += dt.timedelta(days=7)
    second = first + dt.timedelta(days=7)
    _open_home(slack)
    assert f"Next: {_long_date(first)} at 09:00" in json.dumps(slack.ws.home_view("U1"))

    home = _home_after(slack, "home_skip", "skipping")
    assert f"Next: {_long_date(second)} at 09:00." in home
    assert f"skipping the one on {_long_date(first)} at 09:00" in home
    assert "home_unskip" in home and 'home_skip"' not in home

    home = _home_after(slack, "home_unskip", f"Next: {_long_date(first)}")
    assert "skipping" not in home and 'home_skip"' in home


def test_snoozing_shows_until_when_and_can_be_ended(slack):
    _open_home(slack)
    home = _home_after(slack, "home_snooze_hour", "Snoozed until")
    assert "nothing arrives before then" in home and "home_unsnooze" in home
    assert "home_snooze_hour" not in home
    home = _home_after(slack, "home_unsnooze", "home_snooze_hour")
    assert "Snoozed until" not in home

    home = _home_after(slack, "home_snooze_tomorrow", "Snoozed until")
    assert "at 09:00: nothing arrives before then" in home


# --- issue #14 item 9: a gentle nudge can be answered where it is ---------------------------


def _nudge(slack, message: dict) -> dict:
    import datetime as dt

    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=1))["reminders"] == 1
    dm = slack.ws.open_dm("U1")
    return next(m for m in slack.bot_messages(dm, message["ts"]) if "gentle nudge" in m["text"])


def test_a_nudge_has_its_own_reflect_button_which_goes_once_the_check_in_is_answered(slack):
    message = _one_checkin(slack)
    nudge = _nudge(slack, message)
    assert _buttons(nudge) == [checkin_ui.ACTION_REFLECT]
    slack.ws.click_button("U1", nudge, action_id=checkin_ui.ACTION_REFLECT)
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view("U1", modal["id"], values={"reflection": {"text": "Later, a thought."}})
    _settled(slack, "Saved privately in your journal")
    dm = slack.ws.open_dm("U1")
    wait_until(
        lambda: all(
            _buttons(m) == []
            for m in slack.bot_messages(dm, message["ts"])
            if "gentle nudge" in m["text"]
        )
    )


def test_a_reply_to_a_nudge_is_kept_in_the_check_in_thread_and_settles_it(slack):
    from bot.reflection.journal import leader_id_for, recent_entries

    message = _one_checkin(slack)
    nudge = _nudge(slack, message)
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="Replying to the nudge.", thread_ts=nudge["ts"])
    _settled(slack, "Saved privately in your journal")
    leader = leader_id_for(slack.settings, "T0TANDEM", "U1")
    assert [e.text for e in recent_entries(slack.settings, leader)] == ["Replying to the nudge."]
    assert any(m["text"] == "Replying to the nudge." for m in slack.ws.messages(dm, message["ts"]))


# --- issue #14 item 12: the smaller things --------------------------------------------------


def _answered(slack) -> dict:
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I rebuild trust with a partner?")
    return wait_until(
        lambda: [m for m in slack.bot_messages(dm) if "feedback_helpful" in json.dumps(m)]
    )[-1]


def test_not_helpful_with_a_reason_is_thanked_in_the_modal_and_kept(slack):
    from bot.services.feedback import feedback_counts

    answer = _answered(slack)
    slack.ws.click_button("U1", answer, action_id="feedback_not_helpful")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view("U1", modal["id"], values={"reason": {"reason_input": "Too general"}})
    [thanks] = slack.ws.views("U1")
    assert "Thank you" in json.dumps(thanks["blocks"]) and thanks["id"] == modal["id"]
    wait_until(lambda: any(c["not_helpful"] for c in feedback_counts(slack.settings).values()))


def test_not_helpful_after_helpful_says_so_instead_of_asking_for_a_reason_it_would_drop(slack):
    answer = _answered(slack)
    slack.ws.click_button("U1", answer, action_id="feedback_helpful")
    wait_until(lambda: any("Thank you" in e["text"] for e in slack.ws.ephemeral("U1")))
    slack.ws.click_button("U1", answer, action_id="feedback_not_helpful")
    wait_until(lambda: any("already told me" in e["text"] for e in slack.ws.ephemeral("U1")))
    assert slack.ws.views("U1") == []


def test_app_home_says_what_each_entry_may_do_in_plain_words(slack):
    leader = join(slack, day="mon", local_time="09:00")
    add_entry(slack.settings, leader.id, "One for me.")
    add_entry(slack.settings, leader.id, "One for the team.", sharing="team")
    slack.ws.open_app_home("U1")
    home = json.dumps(wait_until(lambda: slack.ws.home_view("U1")))
    assert "*2* journal entries: 1 kept just for you, 1 may count, anonymously" in home
    assert "sharing:" not in home


def test_the_reflection_modal_asks_its_sharing_question_plainly(slack):
    message = _one_checkin(slack)
    slack.ws.click_button("U1", message, action_id=checkin_ui.ACTION_REFLECT)
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    assert "What may Tandem do with this?" in json.dumps(modal["blocks"])
    assert "Who may this count for?" not in json.dumps(modal["blocks"])
