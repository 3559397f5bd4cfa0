"""Cohort onboarding: a programme's CSV of leaders, for check-ins and peer connections.

It spans two features, so it lives above both: reflection holds who takes part and when,
peers what each person would like to be introduced about. Every row is checked before any
is written; bad rows are reported by line and skipped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.engine import session_scope
from bot.db.models import Leader, utcnow
from bot.knowledge.taxonomy import load_taxonomy
from bot.peers import preferences
from bot.schedule import ScheduleError, validate
from bot.settings import Settings
from bot.statuses import LeaderStatus

IMPORT_BATCH = 1000  # rows written per transaction once the whole file has been checked
USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
IMPORT_COLUMNS = ("slack_user_id", "organisation", "time_zone", "cadence", "day", "time", "consent")


@dataclass
class ImportReport:
    enrolled: int = 0
    invited: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)


def import_leaders(settings: Settings, team_id: str, text: str) -> ImportReport:
    """Cohort onboarding: consent=yes enrols; anything else invites. Bad rows are reported by
    line and skipped; good rows still import, written in batches once all are checked."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in headers]
    if missing:
        report.problems.append(f"line 1: missing column(s): {', '.join(missing)}")
        return report
    themes = {t.slug for t in load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")}
    seen: set[str] = set()
    valid: list[dict] = []  # every row is checked before any is written
    rows, line = enumerate(reader, start=2), 1
    while True:
        try:
            line, raw = next(rows)
        except StopIteration:
            break
        except csv.Error as problem:  # the file is not CSV from here on
            report.problems.append(f"line {line + 1}: not readable as CSV ({problem})")
            break
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        try:
            if any("\x00" in value for value in [*row, *row.values()]):
                raise ScheduleError("contains a NUL character")
            values = _validate_row(row, themes)
        except ScheduleError as problem:
            report.problems.append(f"line {line}: {problem}")
            continue
        if values["user"] in seen:
            report.problems.append(f"line {line}: {values['user']} appears more than once")
            continue
        seen.add(values["user"])
        valid.append(values)
    for start in range(0, len(valid), IMPORT_BATCH):
        batch = valid[start : start + IMPORT_BATCH]
        with session_scope(settings) as session:
            existing = {
                leader.slack_user_id: leader
                for leader in session.scalars(
                    select(Leader).where(
                        Leader.team_id == team_id,
                        Leader.slack_user_id.in_([values["user"] for values in batch]),
                    )
                )
            }
            for values in batch:
                _import_row(session, team_id, values, report, existing.get(values["user"]))
    return report


def _validate_row(row: dict, themes: set[str]) -> dict:
    user = row.get("slack_user_id", "")
    if not USER_ID.match(user):
        raise ScheduleError(f"'{user}' is not a Slack user id like U012AB3CD")
    cadence = row.get("cadence", "").lower() or "weekly"
    day = row.get("day", "").lower()[:3] or "fri"
    time = row.get("time", "") or "09:30"
    tz = row.get("time_zone", "") or "Europe/London"
    validate(cadence, day, time, tz)
    consent = row.get("consent", "").lower()
    if consent not in ("yes", "no", ""):
        raise ScheduleError(f"consent must be yes or no (not '{consent}')")
    peer_themes = [t.strip() for t in row.get("peer_themes", "").split(";") if t.strip()]
    unknown = [t for t in peer_themes if t not in themes]
    if unknown:
        raise ScheduleError(f"unknown peer theme(s): {', '.join(unknown)}")
    peers = row.get("peers", "").lower()
    if peers not in ("yes", "no", ""):
        raise ScheduleError(f"peers must be yes or no (not '{peers}')")
    return {
        "user": user,
        "organisation": row.get("organisation", "")[:200],
        "time_zone": tz,
        "cadence": cadence,
        "day": day,
        "local_time": f"{int(time.split(':')[0]):02d}:{time.split(':')[1]}",
        "consent": consent == "yes",
        "peers": peers == "yes",
        "peer_themes": peer_themes,
        "peer_cadence": row.get("peer_cadence", "").lower() or None,
    }


def _import_row(
    session: Session, team_id: str, values: dict, report: ImportReport, leader: Leader | None
) -> None:
    if leader is None:
        leader = Leader(team_id=team_id, slack_user_id=values["user"], anchor_date=utcnow().date())
        session.add(leader)
    elif leader.status == LeaderStatus.ACTIVE:
        report.updated += 1
    leader.organisation = values["organisation"]
    leader.time_zone = values["time_zone"]
    leader.cadence, leader.day, leader.local_time = (
        values["cadence"],
        values["day"],
        values["local_time"],
    )
    if values["consent"]:
        if leader.status != LeaderStatus.ACTIVE:
            report.enrolled += 1
        leader.status, leader.consent_source = LeaderStatus.ACTIVE, "programme"
        leader.enrolled_at = leader.enrolled_at or utcnow()
    elif leader.status != LeaderStatus.ACTIVE:
        leader.status = LeaderStatus.INVITED
        leader.invited_at = None  # the next tick sends the invitation
        report.invited += 1
    if values["peers"] or values["peer_themes"]:
        session.flush()  # preferences need the leader's id
        preferences.import_preferences(session, leader, values)
