"""The demo workspace: leaders from across a health and care system, two channels, and
check-ins for most of them, so there is something to see in the first two minutes.

One person is a workspace admin (as Slack's ``users.info`` reports it), so team digests can
be tried; enough leaders have shared a reflection with the team this week for a digest to
show a theme. Those reflections are demo data, written only into the sandbox's workspace.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import utcnow
from bot.reflection.journal import add_entry, recent_entries
from bot.reflection.leaders import enrol, get_leader
from bot.schedule import Schedule, due_occurrence
from bot.settings import Settings
from sandbox.workspace import Workspace

CHECKIN_DAY, CHECKIN_TIME = "mon", "09:00"
# A fresh demo starts when no check-in is due now or within this long, so a newcomer
# meets Tandem before anything has arrived, and the tips are true.
CALM_FOR = dt.timedelta(hours=1)
CALM_MORNING = dt.time(9, 0)  # in London; tried day by day when now is not calm
LONDON = ZoneInfo("Europe/London")
CIRCLE = "C0CIRCLE"
GENERAL = "C0GENERAL"
DEMO_SOURCE = "demo"  # the journal source of the reflections the demo starts with
# Demo colleagues write about twice a week: when the clock moves, anyone who has written
# nothing for this long shares again, so a digest has themes whichever week the clock reaches.
SHARE_AGAIN_AFTER = dt.timedelta(days=3)


@dataclass(frozen=True)
class DemoLeader:
    user_id: str
    name: str
    title: str
    organisation: str
    time_zone: str
    checkins: bool  # enrolled in weekly check-ins (Monday 09:00 local)
    admin: bool = False  # a workspace admin: may set up team digests
    # Written this week and shared with the team (so a digest has themes to show).
    shared_reflection: str = ""


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
        shared_reflection=(
            "Our partnership board felt tense again. Before this week's meeting I rang the "
            "hospital's discharge lead just to listen, and it changed the tone. There is more "
            "trust between us than the minutes suggest."
        ),
    ),
    DemoLeader(
        "U04CIARAN",
        "Ciarán Byrne",
        "Clinical Director",
        "Riverside Primary Care Network",
        "Europe/Dublin",
        checkins=True,
        shared_reflection=(
            "I let a practice manager down last month by changing a rota without asking. This "
            "week I apologised properly, and we are slowly rebuilding the working relationship."
        ),
    ),
    DemoLeader(
        "U05TOMASZ",
        "Tomasz Nowak",
        "Director of Mental Health Services",
        "Lagan Valley Health and Social Care Trust",
        "Europe/Belfast",
        checkins=False,
    ),
    DemoLeader(
        "U06FATIMA",
        "Fatima Rahman",
        "Head of Community Nursing",
        "Northshire Community Health Trust",
        "Europe/London",
        checkins=True,
        shared_reflection=(
            "I spent an afternoon with the council's reablement team before we needed anything "
            "from them. Building that relationship early feels like the real work."
        ),
    ),
    DemoLeader(
        "U07DAFYDD",
        "Dafydd Evans",
        "Director of Primary Care",
        "Glan Ogwen University Health Board",
        "Europe/London",
        checkins=True,
        shared_reflection=(
            "Trust with the GP federation is fragile after the contract dispute. I'm keeping "
            "my promises small, and keeping every one of them."
        ),
    ),
    DemoLeader(
        "U08MORAG",
        "Morag Campbell",
        "Chief Officer",
        "Strathmore Health and Social Care Partnership",
        "Europe/London",
        checkins=True,
        shared_reflection=(
            "Our relationships with voluntary sector partners have grown because we turned up "
            "to their meetings, not only asked them to ours."
        ),
    ),
    DemoLeader(
        "U09KWAME",
        "Kwame Asante",
        "Chief Executive",
        "Northshire Voluntary Action",
        "Europe/London",
        checkins=True,
        shared_reflection=(
            "A hospital colleague told us openly about a mistake their team made. It did more "
            "for trust between our organisations than a year of partnership meetings."
        ),
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
            day=CHECKIN_DAY,
            local_time=CHECKIN_TIME,
        )
        enrolled.append(leader.user_id)
    return enrolled


def seed_shared_reflections(settings: Settings, team_id: str) -> int:
    """This week's reflections that enrolled demo leaders shared with the team, written
    through Tandem's own journal (which tags their themes); returns how many.

    Run again whenever the clock moves: anyone who has written nothing for SHARE_AGAIN_AFTER
    (of sandbox time) shares again, so a fast-forward never leaves the digest without themes. Someone who
    erased their data or left check-ins is left alone."""
    written = 0
    for leader in DEMO_LEADERS:
        if not (leader.checkins and leader.shared_reflection):
            continue
        enrolled = get_leader(settings, team_id, leader.user_id)
        if enrolled is None or enrolled.status != "active":
            continue
        leader_id = enrolled.id
        latest = recent_entries(settings, leader_id, limit=1)
        if latest and utcnow() - latest[0].created_at < SHARE_AGAIN_AFTER:
            continue  # they have written lately (perhaps a database kept from an earlier demo)
        add_entry(settings, leader_id, leader.shared_reflection, sharing="team", source=DEMO_SOURCE)
        written += 1
    return written


def _checkin_due(moment: dt.datetime) -> bool:
    """Whether any demo leader's check-in is due at ``moment`` (aware), by Tandem's rule."""
    at = moment.astimezone(dt.UTC).replace(tzinfo=None)
    for leader in DEMO_LEADERS:
        if leader.checkins:
            schedule = Schedule("weekly", CHECKIN_DAY, CHECKIN_TIME, leader.time_zone, at.date())
            if due_occurrence(schedule, at) is not None:
                return True
    return False


def calm_moment(now: dt.datetime) -> dt.datetime:
    """``now`` if no demo check-in is due now or within CALM_FOR; otherwise the first calm
    morning after it. (A check-in waiting before the newcomer has done anything hides the
    suggested questions and makes the tips stale.)"""
    candidate = now
    for _ in range(8):
        if not (_checkin_due(candidate) or _checkin_due(candidate + CALM_FOR)):
            return candidate
        tomorrow = candidate.astimezone(LONDON).date() + dt.timedelta(days=1)
        candidate = dt.datetime.combine(tomorrow, CALM_MORNING, tzinfo=LONDON).astimezone(dt.UTC)
    raise AssertionError("a weekly check-in leaves most mornings of the week calm")
