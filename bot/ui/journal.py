"""Block Kit for the journal, settings and data rights. Pure builders."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.reflection.journal import SHARING, SHARING_LABELS, EntryView
from bot.schedule import CADENCES
from bot.services.safety import escape_mrkdwn
from bot.statuses import LeaderStatus, Sharing
from bot.text import split_themes
from bot.ui.fields import DAY_NAMES, day_options, time_options, zone_options

ACTION_SHARING = "journal_sharing"
ACTION_EDIT = "journal_edit"
ACTION_DELETE = "journal_delete"
CALLBACK_EDIT = "journal_edit_entry"
CALLBACK_SETTINGS = "checkin_settings"
CALLBACK_FORGET = "forget_confirm"
CALLBACK_PAUSE = "checkin_pause"
EDIT_BLOCK, EDIT_ACTION = "entry", "text"
PREVIEW_CHARS = 280

# Slack asks "are you sure?" before these act, so one slip of the mouse loses nothing.
CONFIRM_DELETE = ConfirmObject(
    title="Delete this reflection?",
    text="It will be gone from your journal for good. This can't be undone.",
    confirm="Delete",
    deny="Keep it",
    style="danger",
)
CONFIRM_LEAVE = ConfirmObject(
    title="Leave check-ins?",
    text=(
        "I'll stop sending you reflective questions. Your journal stays yours, and you can "
        "join again whenever you like."
    ),
    confirm="Leave",
    deny="Stay",
    style="danger",
)


def _sharing_select(entry: EntryView) -> StaticSelectElement:
    options = [Option(value=f"{entry.id}:{s}", label=SHARING_LABELS[s]) for s in SHARING]
    current = options[SHARING.index(entry.sharing)]
    return StaticSelectElement(action_id=ACTION_SHARING, options=options, initial_option=current)


def theme_sentence(summary: list[tuple[str, int]], names: dict[str, str]) -> str:
    top = [names.get(slug, slug).lower() for slug, count in summary[:2] if count >= 2]
    if not top:
        return "Keep going: after a few entries I'll show the themes you return to."
    return f"Lately you keep coming back to *{' and '.join(top)}*."


def journal_blocks(
    entries: list[EntryView], summary, names: dict[str, str], note: str | None = None
) -> tuple[list, str]:
    """The journal listing; `note` (what just changed) goes first, so a change is seen."""
    noted = [ContextBlock(elements=[MarkdownTextObject(text=note)])] if note else []
    if not entries:
        text = "Your journal is empty for now. Your reflections from check-ins will appear here, visible only to you."
        return [*noted, SectionBlock(text=MarkdownTextObject(text=text))], text
    blocks: list = [
        *noted,
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Your journal* (only you can see this)\n{theme_sentence(summary, names)}"
            )
        ),
        DividerBlock(),
    ]
    for entry in entries:
        preview = (
            entry.text
            if len(entry.text) <= PREVIEW_CHARS
            else entry.text[:PREVIEW_CHARS].rstrip() + "…"
        )
        themes = ", ".join(names.get(t, t) for t in entry.themes) or "no theme yet"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{entry.created_at:%d %b %Y}*  {escape_mrkdwn(preview)}"
                ),
                accessory=_sharing_select(entry),
            )
        )
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"Themes: {escape_mrkdwn(themes)}")])
        )
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(text="Edit", action_id=ACTION_EDIT, value=str(entry.id)),
                    ButtonElement(
                        text="Delete",
                        action_id=ACTION_DELETE,
                        value=str(entry.id),
                        style="danger",
                        confirm=CONFIRM_DELETE,
                    ),
                ]
            )
        )
    return blocks[:50], "Your journal (only you can see this)"


def edit_modal(entry: EntryView, response_url: str | None = None) -> View:
    """`response_url` is the journal message it came from, redrawn once the edit is saved."""
    view = View(
        type="modal",
        callback_id=CALLBACK_EDIT,
        title="Edit reflection",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"entry": entry.id, "response_url": response_url}),
        blocks=[
            InputBlock(
                block_id=EDIT_BLOCK,
                label="Your reflection",
                element=PlainTextInputElement(
                    action_id=EDIT_ACTION, multiline=True, max_length=3000, initial_value=entry.text
                ),
            )
        ],
    )
    view.validate_json()
    return view


def delete_confirmation_text() -> str:
    return "Deleted. That reflection is gone from your journal."


def sharing_changed_text(sharing: str) -> str:
    return f"Done: that entry is now “{SHARING_LABELS[sharing].lower()}”."


EDITED_TEXT = "Saved: your edited reflection is in your journal."


def settings_modal(leader, theme_names: Mapping[str, str]) -> View:
    """The check-in settings form; `theme_names` (slug -> name, from the taxonomy) are the
    themes a leader may choose to focus on."""

    def option(value: str, label: str) -> Option:
        return Option(value=value, label=label)

    days = day_options()
    cadences = [option(c, c.capitalize()) for c in CADENCES]
    zones = zone_options(leader.time_zone)
    times = time_options(leader.local_time, 6, 22)
    quiet = [
        option("none", "No quiet hours"),
        option("20:00-08:00", "20:00 to 08:00"),
        option("18:00-09:00", "18:00 to 09:00"),
        option("21:00-07:00", "21:00 to 07:00"),
    ]
    current_quiet = f"{leader.quiet_start}-{leader.quiet_end}" if leader.quiet_start else "none"

    def pick(options, value):
        return next((o for o in options if o.value == value), options[0])

    themes = [Option(value=slug, label=name) for slug, name in theme_names.items()]
    chosen = [o for o in themes if o.value in split_themes(leader.focus_themes)]
    guidance = Option(value="yes", label="After I reflect, suggest one piece of guidance")
    blocks = [
        InputBlock(
            block_id="cadence",
            label="How often",
            element=StaticSelectElement(
                action_id="v", options=cadences, initial_option=pick(cadences, leader.cadence)
            ),
        ),
        InputBlock(
            block_id="day",
            label="Day",
            element=StaticSelectElement(
                action_id="v", options=days, initial_option=pick(days, leader.day)
            ),
        ),
        InputBlock(
            block_id="time",
            label="Time",
            element=StaticSelectElement(
                action_id="v", options=times, initial_option=pick(times, leader.local_time)
            ),
        ),
        InputBlock(
            block_id="tz",
            label="Time zone",
            element=StaticSelectElement(
                action_id="v", options=zones, initial_option=pick(zones, leader.time_zone)
            ),
        ),
        InputBlock(
            block_id="quiet",
            label="Quiet hours",
            element=StaticSelectElement(
                action_id="v", options=quiet, initial_option=pick(quiet, current_quiet)
            ),
        ),
        InputBlock(
            block_id="focus",
            label="Themes to lean towards",  # Slack adds "(optional)" itself
            optional=True,
            element=StaticMultiSelectElement(
                action_id="v", options=themes, **({"initial_options": chosen} if chosen else {})
            ),
        ),
        InputBlock(
            block_id="guidance",
            label="Guidance",
            optional=True,
            element=CheckboxesElement(
                action_id="v",
                options=[guidance],
                **({"initial_options": [guidance]} if leader.guidance_after_answer else {}),
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=CALLBACK_SETTINGS,
        title="Check-in settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )
    view.validate_json()
    return view


def pause_modal(today: dt.date) -> View:
    view = View(
        type="modal",
        callback_id=CALLBACK_PAUSE,
        title="Pause check-ins",
        submit="Pause",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="until",
                label="Pause until",
                element=DatePickerElement(
                    action_id="v", initial_date=(today + dt.timedelta(days=14)).isoformat()
                ),
            ),
        ],
    )
    view.validate_json()
    return view


def forget_modal() -> View:
    view = View(
        type="modal",
        callback_id=CALLBACK_FORGET,
        title="Erase my data",
        submit="Erase everything",
        close="Keep it",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "This erases everything Tandem holds about you: your journal, your check-in schedule "
                        "and history, and your peer preferences. It can't be undone. You may want to export "
                        "a copy first with `/tandem export`."
                    )
                )
            ),
        ],
    )
    view.validate_json()
    return view


PLAIN_SHARING = {
    Sharing.PRIVATE: "kept just for you",
    Sharing.TEAM: "may count, anonymously, towards your team's themes",
    Sharing.PEERS: "may help match you with a peer",
}


def _sharing_sentence(sharing: dict[str, int]) -> str:
    """ ": 2 kept just for you, 1 may help match you with a peer." in plain words."""
    parts = [f"{sharing[s]} {PLAIN_SHARING[s]}" for s in SHARING if sharing.get(s)]
    return (": " + ", ".join(parts) + ".") if parts else "."


def holdings_blocks(
    leader,
    entries: int,
    sharing: dict[str, int],
    next_checkin: str | None = None,
    skipped: str | None = None,
    snoozed: str | None = None,
) -> list:
    """App Home: check-in settings and what Tandem holds about this person.

    `next_checkin` is when the next one will really arrive (after any skip or snooze), so the
    page never names a date that will not happen; `skipped` and `snoozed` say why."""
    blocks: list = [HeaderBlock(text="Your check-ins")]
    if leader is None or leader.status != LeaderStatus.ACTIVE:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="A short reflective question on your own schedule, kept in a private journal. Would you like to try it?"
                )
            )
        )
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Join check-ins", action_id="home_join", value="join", style="primary"
                    )
                ]
            )
        )
    else:
        paused = f"\nPaused until {leader.paused_until:%d %b %Y}." if leader.paused_until else ""
        when = f"\nNext: {next_checkin}." if next_checkin and not leader.paused_until else ""
        skip = f"\nYou're skipping the one on {skipped}." if skipped else ""
        if leader.skip_next and not skipped:
            skip = "\nThe next one will be skipped."
        snooze = f"\nSnoozed until {snoozed}: nothing arrives before then." if snoozed else ""
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{leader.cadence.capitalize()}* on *{DAY_NAMES[leader.day]}* at *{leader.local_time}* "
                        f"({escape_mrkdwn(leader.time_zone)}).{when}{skip}{snooze}{paused}"
                    )
                )
            )
        )
        if leader.skip_next:
            skip_button = ButtonElement(text="Don't skip", action_id="home_unskip", value="unskip")
        else:
            skip_button = ButtonElement(text="Skip next", action_id="home_skip", value="skip")
        if snoozed:
            snooze_buttons = [
                ButtonElement(text="End snooze", action_id="home_unsnooze", value="unsnooze")
            ]
        else:
            snooze_buttons = [
                ButtonElement(text="Snooze an hour", action_id="home_snooze_hour", value="hour"),
                ButtonElement(
                    text="Snooze to tomorrow",
                    action_id="home_snooze_tomorrow",
                    value="tomorrow",
                ),
            ]
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Change schedule", action_id="home_settings", value="settings"
                    ),
                    ButtonElement(text="Pause", action_id="home_pause", value="pause")
                    if not leader.paused_until
                    else ButtonElement(text="Resume", action_id="home_resume", value="resume"),
                    skip_button,
                    *snooze_buttons,
                    ButtonElement(
                        text="Leave check-ins",
                        action_id="home_leave",
                        value="leave",
                        confirm=CONFIRM_LEAVE,
                    ),
                ]
            )
        )
    blocks.append(DividerBlock())
    blocks.append(HeaderBlock(text="What Tandem holds about me"))
    if leader is None:
        holding = "Nothing about you personally: your questions are answered, not stored."
    else:
        holding = (
            f"Your schedule and preferences, and *{entries}* journal "
            f"{'entry' if entries == 1 else 'entries'}{_sharing_sentence(sharing)} "
            "Nobody else can read your journal."
        )
    blocks.append(SectionBlock(text=MarkdownTextObject(text=holding)))
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(text="Export my data", action_id="home_export", value="export"),
                ButtonElement(
                    text="Erase my data", action_id="home_forget", value="forget", style="danger"
                ),
            ]
        )
    )
    return blocks
