"""Block Kit for team channel digests: the set-up modal, the post, its thread, the preview.

Pure builders over a composed Digest: they can only show what compose allowed through.
"""

from __future__ import annotations

import datetime as dt
import json

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.digests.compose import Digest
from bot.digests.config import (
    DEFAULT_K,
    DIGEST_CADENCES,
    SECTION_LABELS,
    SECTIONS,
    DigestSettings,
)
from bot.services.safety import escape_mrkdwn
from bot.ui.fields import DAY_NAMES, day_options, pick, time_options, zone_options

CALLBACK_SETUP = "digest_setup"
FIELDS = ("cadence", "day", "time", "tz", "k", "sections")
ACTION = "v"
METADATA_EVENT = "tandem_digest"

SETUP_NOT_ALLOWED = (
    "Thanks for thinking of this channel. Setting up a digest is kept to workspace admins "
    "and the people your organisation has asked to look after digests, because it shares a "
    "picture of the whole group. If you'd like one here, one of them can run "
    "`/tandem digest setup` in this channel."
)
PREVIEW_NOT_ALLOWED = (
    "The preview is for the person who set up this channel's digest. You'll see the digest "
    "itself here when it goes out, along with everyone else."
)
NOT_A_CHANNEL = (
    "Digests live in team channels. Try `/tandem digest setup` in the channel you have in mind."
)
INVITE_ME_FIRST = (
    "I can't see this channel yet. Invite me with `/invite @Tandem`, then try "
    "`/tandem digest setup` again."
)
NO_DIGEST_YET = "There's no digest here yet. An admin can start one with `/tandem digest setup`."
DIGEST_USAGE = (
    "`/tandem digest setup`  set up (or change) this channel's reflection digest\n"
    "`/tandem digest preview`  see what it would share right now (only you see it)"
)
PREVIEW_WORKING = "Putting a preview together…"


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=label)


def setup_modal(team_id: str, channel_id: str, current: DigestSettings | None = None) -> View:
    """Schedule, minimum group size and sections, for one channel."""
    cadence = current.cadence if current else "weekly"
    day = current.day if current else "fri"
    local_time = current.local_time if current else "15:00"
    zone = current.time_zone if current else "Europe/London"
    k = current.k if current else DEFAULT_K
    chosen = current.sections if current else SECTIONS

    cadences = [_option(c, c.capitalize()) for c in DIGEST_CADENCES]
    days = day_options()
    times = time_options(local_time, 7, 20)
    zones = zone_options(zone)
    sections = [_option(s, SECTION_LABELS[s]) for s in SECTIONS]

    blocks = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "A short post in this channel with the themes people here are reflecting "
                    "on, drawn only from reflections they chose to share with the team. "
                    "Nobody is ever named, and nobody is listed for taking part or not."
                )
            )
        ),
        InputBlock(
            block_id="cadence",
            label="How often",
            element=StaticSelectElement(
                action_id=ACTION, options=cadences, initial_option=pick(cadences, cadence)
            ),
        ),
        InputBlock(
            block_id="day",
            label="Day",
            element=StaticSelectElement(
                action_id=ACTION, options=days, initial_option=pick(days, day)
            ),
        ),
        InputBlock(
            block_id="time",
            label="Time",
            element=StaticSelectElement(
                action_id=ACTION, options=times, initial_option=pick(times, local_time)
            ),
        ),
        InputBlock(
            block_id="tz",
            label="Time zone",
            element=StaticSelectElement(
                action_id=ACTION, options=zones, initial_option=pick(zones, zone)
            ),
        ),
        InputBlock(
            block_id="k",
            label="Minimum group size",
            hint=(
                "A theme appears only when at least this many different people shared "
                "reflections on it. 5 is a good default; it can't go below 3."
            ),
            element=NumberInputElement(
                action_id=ACTION, is_decimal_allowed=False, initial_value=str(k)
            ),
        ),
        InputBlock(
            block_id="sections",
            label="What to include",
            element=CheckboxesElement(
                action_id=ACTION,
                options=sections,
                initial_options=[o for o in sections if o.value in chosen],
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=CALLBACK_SETUP,
        title="Reflection digest",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"team": team_id, "channel": channel_id}),
        blocks=blocks,
    )
    view.validate_json()
    return view


def setup_values(values: dict) -> dict:
    """The submitted modal as plain values (None for anything left empty)."""

    def read(block: str):
        element = values.get(block, {}).get(ACTION, {})
        if "selected_options" in element:
            return [o["value"] for o in element.get("selected_options") or []]
        if "selected_option" in element:
            return (element.get("selected_option") or {}).get("value")
        return element.get("value")

    return {name: read(name) for name in FIELDS}


def saved_text(config: DigestSettings) -> str:
    every = "every week" if config.cadence == "weekly" else "every other week"
    return (
        f"All set. This channel's reflection digest will go out {every} on "
        f"{DAY_NAMES[config.day]} at {config.local_time} ({config.time_zone}), showing a theme "
        f"only when at least {config.k} people shared reflections on it. "
        "`/tandem digest preview` shows you what it would share right now."
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def headline_blocks(digest: Digest) -> tuple[list, str]:
    """The brief top-level post."""
    text = digest.headline
    return [_section(escape_mrkdwn(text))], escape_mrkdwn(text)


def detail_blocks(digest: Digest) -> tuple[list, str]:
    """The digest itself, for the thread: only what compose let through."""
    word = digest.period_word
    blocks: list = []
    lines: list[str] = []
    if digest.themes:
        items = "\n".join(
            f"• *{escape_mrkdwn(t.name)}* · {escape_mrkdwn(t.band)} people" for t in digest.themes
        )
        blocks.append(_section(f"*Themes on people's minds this {word}*\n{items}"))
        blocks.append(
            _context(
                "From reflections people chose to share with the team. A theme appears only "
                f"when at least {digest.k} people touched on it, and nobody is named."
            )
        )
        lines.append("Themes: " + ", ".join(f"{t.name} ({t.band} people)" for t in digest.themes))
    if digest.text:
        blocks.append(_section(escape_mrkdwn(digest.text)))
        lines.append(digest.text)
    if digest.guidance:
        summary = f"\n{escape_mrkdwn(digest.guidance.summary)}" if digest.guidance.summary else ""
        blocks.append(
            _section(f"*Guidance of the week*\n*{escape_mrkdwn(digest.guidance.title)}*{summary}")
        )
        blocks.append(_context("Ask me about it any time with `/tandem ask`, or in a DM."))
        lines.append(f"Guidance of the week: {digest.guidance.title}")
    if digest.question:
        blocks.append(
            _section(f"*A question to think about together*\n_{escape_mrkdwn(digest.question)}_")
        )
        lines.append(f"A question to think about together: {digest.question}")
    if digest.connections_band:
        blocks.append(
            _section(
                f"*Peer connections*\n{escape_mrkdwn(digest.connections_band)} peer "
                f"introductions involving people here were made this {word}."
            )
        )
        lines.append(f"Peer connections: {digest.connections_band}")
    if digest.invitation:
        if blocks:
            blocks.append(DividerBlock())
        invite = (
            "If you'd like a short reflective question now and then, on your own schedule, "
            "`/tandem checkin` sets it up. What you write stays private unless you choose "
            "to share it."
        )
        blocks.append(_section(invite))
        lines.append(invite)
    if not blocks:
        blocks.append(_section("Nothing to share this time."))
    # The fallback `text` reaches notifications: escaped like every block.
    return blocks[:50], escape_mrkdwn("\n".join(lines) or digest.headline)


def preview_blocks(digest: Digest, next_local: dt.datetime) -> tuple[list, str]:
    """What would post now, for the person who set the digest up. Only they see it."""
    when = f"{next_local:%A %d %B at %H:%M}"
    intro = (
        f"*Preview, only for you.* This is what the digest due {when} will share. It is "
        "fixed now, so the channel will see exactly this; reflections shared from here on "
        "count towards the one after."
    )
    detail, text = detail_blocks(digest)
    blocks = [
        _section(intro),
        _section(f"_{escape_mrkdwn(digest.headline)}_"),
        DividerBlock(),
        *detail,
    ]
    return blocks[:50], escape_mrkdwn(f"Preview: {digest.headline}")
