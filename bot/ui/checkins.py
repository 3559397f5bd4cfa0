"""Block Kit for check-ins: the question DM, the reflection modal, thanks, invitations."""

from __future__ import annotations

import datetime as dt
import functools
import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.reflection.journal import SHARING, SHARING_LABELS
from bot.services.safety import escape_mrkdwn
from bot.ui.fields import DAY_NAMES

ACTION_REFLECT = "checkin_reflect"
ACTION_DECLINE = "checkin_decline"
ACTION_SNOOZE_HOUR = "checkin_snooze_hour"
ACTION_SNOOZE_TOMORROW = "checkin_snooze_tomorrow"
ACTION_JOIN = "checkins_join"
ACTION_NOT_NOW = "checkins_invitation_decline"
CALLBACK_REFLECTION = "checkin_reflection"
REFLECTION_BLOCK, REFLECTION_ACTION = "reflection", "text"
SHARING_BLOCK, SHARING_ACTION = "sharing", "choice"
MODAL_LIMIT = 3000
METADATA_EVENT = "tandem_checkin"
REMINDER_ACTIONS = "reminder_actions"


def greeting(name: str, local_now: dt.datetime) -> str:
    part = "morning" if local_now.hour < 12 else "afternoon" if local_now.hour < 18 else "evening"
    first = (name or "").split(" ")[0]
    return f"Good {part}{', ' + escape_mrkdwn(first) if first else ''}. A question for your week, if you have a moment:"


ANSWERED_NOTE = (
    "Saved privately in your journal. To add to it, reply in this thread; "
    "`/tandem journal` shows it any time."
)
DECLINED_NOTE = "Not this time, and that's fine. I'll be back at your usual time."
ERASED_NOTE = (
    "Your data was erased, so this check-in is no longer kept and there is nothing to save "
    "it to. If you'd like to start again, `/tandem checkin` is here."
)
INVITATION_DECLINED = (
    "Thanks for letting me know. If you change your mind, `/tandem checkin` is always here."
)
ERASED_REPLY = (
    "Your data was erased, so this check-in is no longer kept and I haven't saved this reply. "
    "If you'd like to start again, `/tandem checkin` is here."
)
ALREADY_ANSWERED = (
    "You've already reflected on this one, and it's saved in your journal. To add to it, "
    "reply in the check-in's thread; `/tandem journal` shows it any time."
)


def checkin_message(
    checkin_id: int, question: str, opener: str, *, state: str = "open", note: str | None = None
) -> tuple[list, str]:
    """The check-in DM as it stands: "open" (every button), "snoozed" (it can still be answered
    now) or "closed" (answered, declined or erased: no buttons, only what happened)."""
    value = str(checkin_id)
    reflect = ButtonElement(
        text="Reflect now", action_id=ACTION_REFLECT, value=value, style="primary"
    )
    decline = ButtonElement(text="Not this time", action_id=ACTION_DECLINE, value=value)
    buttons = {
        "open": [
            reflect,
            decline,
            ButtonElement(text="In an hour", action_id=ACTION_SNOOZE_HOUR, value=value),
            ButtonElement(text="Tomorrow", action_id=ACTION_SNOOZE_TOMORROW, value=value),
        ],
        "snoozed": [reflect, decline],
        "closed": [],
    }[state]
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=opener)),
        SectionBlock(text=MarkdownTextObject(text=f"*{escape_mrkdwn(question)}*")),
    ]
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    if buttons:
        blocks.append(ActionsBlock(block_id="checkin_actions", elements=buttons))
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Or simply reply in this thread, at any length. Your journal is private to you."
                    )
                ]
            )
        )
    return blocks, f"{opener} {question}" + (f" {note}" if note else "")


def checkin_dm(checkin_id: int, question: str, opener: str) -> tuple[list[dict], str]:
    """The open check-in DM as Slack's JSON, for the fan-out: what `checkin_message` gives
    (a test holds them equal), but slack_sdk builds and checks the blocks once per question
    rather than once per DM (serialising Block Kit objects was a fifth of a send's CPU).
    Only the opener and the buttons' values differ between DMs; the rest is shared, so
    nothing may change the blocks returned."""
    opening, asking, actions, context = _open_dm(question)
    value = str(checkin_id)
    blocks = [
        {**opening, "text": {**opening["text"], "text": opener}},
        asking,
        {**actions, "elements": [{**button, "value": value} for button in actions["elements"]]},
        context,
    ]
    return blocks, f"{opener} {question}"


@functools.lru_cache(maxsize=256)
def _open_dm(question: str) -> tuple[dict, ...]:
    blocks, _text = checkin_message(0, question, "-")
    return tuple(block.to_dict() for block in blocks)


def erased_checkin_blocks(blocks: list[dict]) -> list[dict]:
    """An old check-in after its leader erased their data: its words stay, its buttons go."""
    kept = [b for b in blocks if b.get("type") == "section"][:2]
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": ERASED_NOTE}]}
    return [*kept, note]


def reminder_text(question: str) -> str:
    return f"A gentle nudge, in case this one is still with you: _{escape_mrkdwn(question)}_ No pressure at all."


def reminder_message(checkin_id: int, question: str) -> tuple[list, str]:
    """The nudge, posted in the check-in's thread, with its own way to answer there and then."""
    text = reminder_text(question)
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id=REMINDER_ACTIONS,
            elements=[
                ButtonElement(
                    text="Reflect now",
                    action_id=ACTION_REFLECT,
                    value=str(checkin_id),
                    style="primary",
                ),
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Or reply in this thread: it goes to the same entry.")
            ]
        ),
    ]
    return blocks, text


def reflection_modal(checkin_id: int, question: str) -> View:
    options = [Option(value=s, label=SHARING_LABELS[s]) for s in SHARING]
    view = View(
        type="modal",
        callback_id=CALLBACK_REFLECTION,
        title="Reflect",
        submit="Save",
        close="Not now",
        private_metadata=json.dumps({"checkin": checkin_id}),
        blocks=[
            InputBlock(
                block_id=REFLECTION_BLOCK,
                label=question[:2000],
                hint=(
                    f"Up to {MODAL_LIMIT:,} characters here. For a longer reflection, reply in the "
                    "check-in's thread instead: there is no limit there."
                ),
                element=PlainTextInputElement(
                    action_id=REFLECTION_ACTION, multiline=True, max_length=MODAL_LIMIT
                ),
            ),
            InputBlock(
                block_id=SHARING_BLOCK,
                label="What may Tandem do with this?",
                element=RadioButtonsElement(
                    action_id=SHARING_ACTION, options=options, initial_option=options[0]
                ),
            ),
        ],
    )
    view.validate_json()
    return view


def thanks_blocks(follow_up: str | None, guidance: dict | None) -> tuple[list, str]:
    lines = ["Thank you for taking a moment to reflect. It's saved privately in your journal."]
    if follow_up:
        lines.append(f"If you'd like to go a little further: _{escape_mrkdwn(follow_up)}_")
    blocks = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
    if guidance:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Something that might help: *{escape_mrkdwn(guidance['title'])}*. "
                    f"{escape_mrkdwn(guidance['summary'])}"
                )
            )
        )
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Source: {escape_mrkdwn(guidance['title'])}")]
            )
        )
    return blocks, "\n".join(lines)


def invitation_message() -> tuple[list, str]:
    text = (
        "Hello. Your leadership programme suggested Tandem's reflective check-ins for you: a short "
        "question on your own schedule, with answers kept in a private journal that only you can see. "
        "Would you like to join?"
    )
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id="invitation_actions",
            elements=[
                ButtonElement(
                    text="Yes, join", action_id=ACTION_JOIN, value="join", style="primary"
                ),
                ButtonElement(text="Not for me", action_id=ACTION_NOT_NOW, value="decline"),
            ],
        ),
    ]
    return blocks, text


def joined_text(leader) -> str:
    return (
        f"You're in. I'll send a short question {leader.cadence} on {DAY_NAMES[leader.day]} at "
        f"{leader.local_time} ({leader.time_zone}). Your answers stay in a private journal. "
        "Change the timing, pause or leave any time from my Home tab."
    )
