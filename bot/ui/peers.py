"""Block Kit for peer connections: App Home, preferences, introductions, follow-ups. Pure.

Theme names are passed in (slug -> name) so the builders never read files.
"""

from __future__ import annotations

import datetime as dt
import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.services.safety import escape_mrkdwn

ACTION_OPEN = "peers_open_preferences"
ACTION_LEAVE = "peers_leave"
ACTION_RESUME = "peers_resume"
ACTION_ARRANGED = "peers_arranged"
ACTION_DECLINE = "peers_not_this_time"
ACTION_TAKEAWAY = "peers_takeaway"
ACTION_PAUSE = "peers_pause_for_now"
ACTION_KEEP = "peers_keep_me_in"
CALLBACK_PREFERENCES = "peers_preferences"
CALLBACK_TAKEAWAY = "peers_takeaway_note"
INTRO_ACTIONS = "peer_intro_actions"
TAKEAWAY_BLOCK, TAKEAWAY_ACTION = "takeaway", "text"
METADATA_EVENT = "tandem_peer_intro"
TAKEAWAY_LIMIT = 3000
CADENCE_LABELS = {"fortnightly": "Every fortnight", "monthly": "About once a month"}
MAX_THEMES_PICKED = 4


NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def natural_list(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C": a list as people write it."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def rounds_text(next_round: dt.date | None) -> str:
    """When introductions happen, so nobody has to wonder."""
    text = "Introductions go out every other Monday morning"
    if next_round:
        text += f"; the next round is on {next_round:%A} {next_round.day} {next_round:%B}"
    return text + "."


def _checked(blocks: list) -> list:
    for block in blocks:
        block.validate_json()  # raises before sending if Slack would refuse it
    return blocks


def _theme_list(slugs: list[str], names: dict[str, str]) -> str:
    return ", ".join(escape_mrkdwn(names.get(s, s)) for s in slugs)


def _summary(choices, names: dict[str, str], next_round: dt.date | None = None) -> str:
    other = ", ideally someone from another organisation" if choices.prefer_other_org else ""
    lines = [f"*{CADENCE_LABELS.get(choices.cadence, choices.cadence)}*{other}."]
    if choices.want:
        lines.append(f"You'd like to think with someone about: {_theme_list(choices.want, names)}.")
    if choices.offer:
        lines.append(f"You could offer a view on: {_theme_list(choices.offer, names)}.")
    if choices.exclusions:
        lines.append(
            "You've named people you'd rather not be matched with; that stays between you and Tandem."
        )
    if choices.paused_until:
        lines.append(f"Paused until {choices.paused_until:%d %B %Y}.")
    else:
        lines.append(rounds_text(next_round))
    return "\n".join(lines)


INVITATION = (
    "Now and then, an introduction to a peer who is thinking about similar things, often in "
    "another organisation of your system. An invitation, never an obligation."
)


def _buttons(choices) -> ActionsBlock:
    if choices is None or not choices.opted_in:
        label = "I'd like that" if choices is None else "Rejoin"
        return ActionsBlock(
            elements=[
                ButtonElement(text=label, action_id=ACTION_OPEN, value="open", style="primary")
            ]
        )
    elements = [ButtonElement(text="Change preferences", action_id=ACTION_OPEN, value="open")]
    if choices.paused_until:
        elements.append(ButtonElement(text="Resume", action_id=ACTION_RESUME, value="resume"))
    elements.append(
        ButtonElement(text="Leave peer introductions", action_id=ACTION_LEAVE, value="leave")
    )
    return ActionsBlock(elements=elements)


def _status_text(choices, names: dict[str, str], next_round: dt.date | None = None) -> str:
    if choices is None:
        return f"{INVITATION} {rounds_text(next_round)}"
    if not choices.opted_in:
        return "You've stepped back from peer introductions. You're welcome back any time."
    return _summary(choices, names, next_round)


def home_blocks(choices, names: dict[str, str], next_round: dt.date | None = None) -> list:
    """App Home's "Meet a peer" section."""
    return _checked(
        [
            HeaderBlock(text="Meet a peer"),
            SectionBlock(text=MarkdownTextObject(text=_status_text(choices, names, next_round))),
            _buttons(choices),
        ]
    )


def command_blocks(
    choices, names: dict[str, str], next_round: dt.date | None = None
) -> tuple[list, str]:
    """The private reply to `/tandem peers`."""
    if choices is None:
        text = f"*Meet a peer*\n{INVITATION} {rounds_text(next_round)} Would you like to be introduced?"
    elif not choices.opted_in:
        text = f"*Meet a peer*\n{_status_text(choices, names)}"
    else:
        text = f"*Your peer introductions*\n{_summary(choices, names, next_round)}"
    blocks = _checked([SectionBlock(text=MarkdownTextObject(text=text)), _buttons(choices)])
    return [b.to_dict() for b in blocks], text


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=label[:75])


def preferences_modal(
    choices, names: dict[str, str], organisation: str, today: dt.date, private_metadata: str = ""
) -> View:
    themes = [_option(slug, name) for slug, name in names.items()]
    cadences = [_option(c, label) for c, label in CADENCE_LABELS.items()]
    cadence = choices.cadence if choices else "monthly"
    other_org = _option("yes", "Prefer someone from another organisation")
    prefer_other = choices.prefer_other_org if choices else True

    def picked(slugs):
        chosen = [o for o in themes if o.value in (slugs or [])]
        return {"initial_options": chosen} if chosen else {}

    blocks = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "I'll suggest a peer who is thinking about similar things, with a question to "
                    "start you off. Meet if it suits you both; saying “not this time” is always fine."
                )
            )
        ),
        InputBlock(
            block_id="org",
            label="Your organisation",
            optional=True,
            hint="So I can introduce you across organisations, if you'd like that.",
            element=PlainTextInputElement(
                action_id="v",
                max_length=200,
                placeholder="e.g. Northshire ICB",
                **({"initial_value": organisation} if organisation else {}),
            ),
        ),
        InputBlock(
            block_id="cadence",
            label="How often",
            element=StaticSelectElement(
                action_id="v",
                options=cadences,
                initial_option=next(o for o in cadences if o.value == cadence),
            ),
        ),
        InputBlock(
            block_id="cross_org",
            label="Who",
            optional=True,
            element=CheckboxesElement(
                action_id="v",
                options=[other_org],
                **({"initial_options": [other_org]} if prefer_other else {}),
            ),
        ),
        InputBlock(
            block_id="want",
            label="I'd like to think with someone about",
            optional=True,
            element=StaticMultiSelectElement(
                action_id="v",
                options=themes,
                max_selected_items=MAX_THEMES_PICKED,
                **picked(choices.want if choices else []),
            ),
        ),
        InputBlock(
            block_id="offer",
            label="I could offer a view on",
            optional=True,
            element=StaticMultiSelectElement(
                action_id="v",
                options=themes,
                max_selected_items=MAX_THEMES_PICKED,
                **picked(choices.offer if choices else []),
            ),
        ),
        InputBlock(
            block_id="exclude",
            label="People I'd rather not be matched with",
            optional=True,
            hint="Confidential: never shown to anyone, including them, and never given as a reason.",
            element=UserMultiSelectElement(
                action_id="v",
                **({"initial_users": choices.exclusions} if choices and choices.exclusions else {}),
            ),
        ),
        InputBlock(
            block_id="pause",
            label="Pause introductions until",
            optional=True,
            element=DatePickerElement(
                action_id="v",
                **(
                    {"initial_date": choices.paused_until.isoformat()}
                    if choices and choices.paused_until and choices.paused_until > today
                    else {}
                ),
            ),
        ),
    ]
    if choices is not None and choices.opted_in:
        leave = _option("leave", "Stop peer introductions (you can rejoin any time)")
        blocks.append(
            InputBlock(
                block_id="leave",
                label="Step back",
                optional=True,
                element=CheckboxesElement(action_id="v", options=[leave]),
            )
        )
    view = View(
        type="modal",
        callback_id=CALLBACK_PREFERENCES,
        title="Meet a peer",
        submit="Save",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=blocks,
    )
    view.validate_json()
    return view


def saved_text(choices, next_round: dt.date | None = None) -> str:
    if not choices.opted_in:
        return "You've stepped back from peer introductions. You're welcome back any time with `/tandem peers`."
    how = {"fortnightly": "every fortnight", "monthly": "about once a month"}[choices.cadence]
    text = (
        f"Thank you, you're in. I'll suggest a peer {how}, on a Monday morning"
        + (
            f": the next round is on {next_round:%A} {next_round.day} {next_round:%B}. "
            if next_round
            else ". "
        )
        + "Change this or step back any time from my Home tab or with `/tandem peers`."
    )
    if choices.paused_until:
        text += f" Introductions are paused until {choices.paused_until:%d %B %Y}."
    return text


# --- introductions -------------------------------------------------------------------


def _why(reasons: list[tuple[str, str]], size: int) -> str:
    shared = [name for name, kind in reasons if kind == "shared"]
    offered = [name for name, kind in reasons if kind == "complementary"]

    def joined(items):
        # "Trust and relationships" reads as "trust and relationships" mid-sentence.
        items = [f"*{escape_mrkdwn(i.lower() if i[1:].islower() else i)}*" for i in items]
        return natural_list(items)

    who = "you both" if size == 2 else "more than one of you"
    parts = []
    if shared:
        parts.append(f"{who} want to think about {joined(shared)}")
    if offered:
        parts.append(
            f"one of you could offer a view on {joined(offered)}, which another would like to think about"
        )
    if not parts:
        return (
            "Why I thought of you: you each said you'd like to meet someone from across the "
            "system, and good conversations often start from different places."
        )
    return "Why I thought of you: " + "; and ".join(parts) + "."


def introduction_message(
    group_id: int,
    people: list[tuple[str, str, str]],
    reasons: list[tuple[str, str]],
    starter: tuple[str, str] | None,
) -> tuple[list, str]:
    """people: (user id, name, organisation); reasons: (theme name, kind); starter:
    (document title, its reflective question)."""
    mentions = natural_list([f"<@{user}>" for user, _, _ in people])
    opener = (
        f"Hello {mentions}. You each said you'd welcome a conversation with a peer, "
        "so I'd like to introduce you."
    )
    who = "\n".join(
        f"• *{escape_mrkdwn(name or 'A colleague')}*" + (f", {escape_mrkdwn(org)}" if org else "")
        for _user, name, org in people
    )
    why = _why(reasons, len(people))
    value = str(group_id)
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=opener)),
        SectionBlock(text=MarkdownTextObject(text=who)),
        SectionBlock(text=MarkdownTextObject(text=why)),
    ]
    lines = [opener, who, why]
    if starter:
        title, question = starter
        text = (
            f"A conversation starter, from *{escape_mrkdwn(title)}*:\n> _{escape_mrkdwn(question)}_"
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        lines.append(text)
    close = (
        "Meet when it suits you (half an hour over a coffee or a call is plenty), or let me "
        "know it isn't the right time. No pressure either way."
    )
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=close)),
        ActionsBlock(
            block_id=INTRO_ACTIONS,
            elements=[
                ButtonElement(
                    text="We've arranged to meet",
                    action_id=ACTION_ARRANGED,
                    value=value,
                    style="primary",
                ),
                ButtonElement(text="Not this time", action_id=ACTION_DECLINE, value=value),
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Only the {NUMBER_WORDS.get(len(people), len(people))} of you can see "
                    "this conversation. I'll check in with each of you privately in about a week."
                )
            ]
        ),
    ]
    return [b.to_dict() for b in _checked(blocks)], "\n".join(lines)


ARRANGED_THANKS = (
    "Lovely. I hope it's a good conversation. I'll check in privately in about a week."
)
DECLINE_THANKS = (
    "No problem at all. I'll let them know gently, and I'll be in touch in a future round."
)
ALREADY_NOTED = "Thanks, I've already noted that."


def decline_note(group_size: int) -> str:
    """What the others hear when someone can't make it: gently, and nothing more."""
    if group_size > 2:
        return (
            "A quick note about this round's introduction: one of your group can't make it this "
            "time. The two of you are still very welcome to meet."
        )
    return (
        "A quick note about this round's introduction: they can't make it this round. No need "
        "to do anything, and no hard feelings. I'll suggest another introduction in a future round."
    )


def sat_out_text() -> str:
    return (
        "This round I couldn't find a good match for you, so you'll be first in line next time. "
        "Nothing for you to do."
    )


def followup_message(group_id: int, peers: list[tuple[str, str]]) -> tuple[list, str]:
    """peers: (name, organisation) of the others in the introduction."""
    names = " and ".join(
        f"*{escape_mrkdwn(name or 'a colleague')}*" + (f" ({escape_mrkdwn(org)})" if org else "")
        for name, org in peers
    )
    text = (
        f"About a week ago I introduced you to {names}. If you had the chance to talk, what did "
        "you take away? A line or two in your journal can help it stick, and only you will see it."
    )
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Note what I took away",
                    action_id=ACTION_TAKEAWAY,
                    value=str(group_id),
                    style="primary",
                )
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="If you didn't get to meet, that's completely fine. There's nothing to do."
                )
            ]
        ),
    ]
    return [b.to_dict() for b in _checked(blocks)], text


def takeaway_modal(group_id: int) -> View:
    view = View(
        type="modal",
        callback_id=CALLBACK_TAKEAWAY,
        title="What I took away",
        submit="Save",
        close="Not now",
        private_metadata=json.dumps({"group": group_id}),
        blocks=[
            InputBlock(
                block_id=TAKEAWAY_BLOCK,
                label="What did you take away from the conversation?",
                hint="Saved privately in your journal. Nobody else can see it.",
                element=PlainTextInputElement(
                    action_id=TAKEAWAY_ACTION, multiline=True, max_length=TAKEAWAY_LIMIT
                ),
            )
        ],
    )
    view.validate_json()
    return view


TAKEAWAY_SAVED = "Saved privately in your journal. Thank you for taking a moment with it."


def pause_offer_message() -> tuple[list, str]:
    text = (
        "I've sent you a couple of peer introductions lately, and I wonder whether now isn't "
        "quite the time. That's completely fine. Would you like to pause them for a while? "
        "Nobody else is told either way."
    )
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            elements=[
                ButtonElement(text="Pause for now", action_id=ACTION_PAUSE, value="pause"),
                ButtonElement(text="Keep me in", action_id=ACTION_KEEP, value="keep"),
            ]
        ),
    ]
    return [b.to_dict() for b in _checked(blocks)], text


def paused_text(until: dt.date) -> str:
    return (
        f"Done. Peer introductions are paused until {until:%d %B %Y}. "
        "You can resume any time from my Home tab."
    )


KEPT_IN = "Lovely, you're still in. I'll be in touch at the next round."
LEFT = "You've stepped back from peer introductions. You're welcome back any time."
RESUMED = "Welcome back. You'll be in the next round."
