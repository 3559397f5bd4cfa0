"""The demo workspace: five leaders from across a health and care system, two channels, and
check-ins for three of them, so there is something to see in the first two minutes.

One person is a workspace admin (as Slack's ``users.info`` reports it), so team digests can
be tried too."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.reflection.leaders import enrol
from bot.settings import Settings
from sandbox.workspace import Workspace

CIRCLE = "C0CIRCLE"
GENERAL = "C0GENERAL"


@dataclass(frozen=True)
class DemoLeader:
    user_id: str
    name: str
    title: str
    organisation: str
    time_zone: str
    checkins: bool  # enrolled in weekly check-ins (Monday 09:00 local)
    admin: bool = False  # a workspace admin: may set up team digests


DEMO_LEADERS: tuple[DemoLeader, ...] = (
    DemoLeader(
        "U01AMARA",
        "Amara Okafor",
        "Director of Partnerships",
        "Northshire Integrated Care Board",
        "Europe/London",
        checkins=True,
        admin=True,
    ),
    DemoLeader(
        "U02PRIYA",
        "Priya Shah",
        "Chief Executive",
        "St Anne's Hospice, Jersey",
        "Europe/Jersey",
        checkins=False,
    ),
    DemoLeader(
        "U03GRACE",
        "Grace Mensah",
        "Director of Adult Social Care",
        "Eastbrook Borough Council",
        "Europe/London",
        checkins=True,
    ),
    DemoLeader(
        "U04CIARAN",
        "Ciarán Byrne",
        "Clinical Director",
        "Riverside Primary Care Network",
        "Europe/Dublin",
        checkins=True,
    ),
    DemoLeader(
        "U05TOMASZ",
        "Tomasz Nowak",
        "Director of Mental Health Services",
        "Lagan Valley Health and Social Care Trust",
        "Europe/Belfast",
        checkins=False,
    ),
)

# A little history, so the channels feel lived in: (author, channel, text).
OPENING_MESSAGES = (
    (
        "U01AMARA",
        GENERAL,
        "Welcome, everyone. Notices live here; reflective conversations live in "
        "#leadership-circle.",
    ),
    (
        "U03GRACE",
        CIRCLE,
        "Morning all. Our partnership board keeps circling the same three issues on hospital "
        "discharge. Has anyone tried a different way of running those conversations?",
    ),
    (
        "U02PRIYA",
        CIRCLE,
        "We walked a patient's path with ICB colleagues last month: an afternoon, no slides. "
        "Happy to share what worked, and what didn't.",
    ),
)


def seed_workspace(ws: Workspace) -> None:
    """People, channels and a few opening messages in a fresh workspace."""
    for leader in DEMO_LEADERS:
        ws.add_user(
            leader.user_id,
            name=leader.name,
            tz=leader.time_zone,
            organisation=leader.organisation,
            title=f"{leader.title}, {leader.organisation}",
            email=f"{leader.name.split()[0].lower()}@example.org",
            is_admin=leader.admin,
        )
    everyone = [leader.user_id for leader in DEMO_LEADERS]
    ws.add_channel(
        CIRCLE,
        "leadership-circle",
        members=everyone,
        bot_member=True,
        topic="Peer learning across the Northshire system. Mention @Tandem for guidance.",
        purpose="A calm place to think out loud with peers.",
    )
    ws.add_channel(
        GENERAL,
        "general",
        members=everyone,
        bot_member=False,
        topic="Notices for everyone in the workspace.",
    )
    # Tandem remembers the events it has handled (in its database, which may outlive this
    # workspace); starting event ids from the clock keeps a fresh workspace's ids new to it.
    ws.state.counters.setdefault("Ev", int(time.time()))
    for author, channel, text in OPENING_MESSAGES:
        ws.user_posts(author, channel, text)


def enrol_demo_leaders(settings: Settings, team_id: str) -> list[str]:
    """Weekly check-ins, Monday 09:00 local, for the leaders who chose them; returns their ids."""
    enrolled = []
    for leader in DEMO_LEADERS:
        if not leader.checkins:
            continue
        enrol(
            settings,
            team_id,
            leader.user_id,
            time_zone=leader.time_zone,
            display_name=leader.name,
            organisation=leader.organisation,
            cadence="weekly",
            day="mon",
            local_time="09:00",
        )
        enrolled.append(leader.user_id)
    return enrolled
