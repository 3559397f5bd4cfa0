"""Erasure reaches every feature: journal, peers and the digests' differencing record."""

import json

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import DigestConfig, DigestRun
from bot.digests.compose import contributor_hash
from bot.digests.service import contributor_salt
from bot.privacy import erase_user, export_user, import_user
from bot.reflection.leaders import enrol
from tests.conftest import make_settings


def test_erasing_a_person_removes_their_hash_from_past_digests(tmp_path):
    settings = make_settings(tmp_path)
    mine = contributor_hash(contributor_salt(settings), "T1", "U1")
    theirs = contributor_hash(contributor_salt(settings), "T1", "U2")
    with session_scope(settings) as session:
        config = DigestConfig(team_id="T1", channel_id="C1")
        session.add(config)
        session.flush()
        session.add(
            DigestRun(
                config_id=config.id,
                period_key="W2026-48",
                status="posted",
                shown=json.dumps({"trust-and-relationships": [mine, theirs]}),
            )
        )
    enrol(settings, "T1", "U1", time_zone="Europe/London")
    erase_user(settings, "T1", "U1", actor="test")
    with session_scope(settings) as session:
        shown = json.loads(session.scalar(select(DigestRun.shown)))
    assert shown == {"trust-and-relationships": [theirs]}


def test_a_peers_only_person_can_be_exported_and_restored(tmp_path):
    from bot.peers.preferences import save_choices

    settings = make_settings(tmp_path)
    save_choices(
        settings,
        "T1",
        "U7",
        cadence="monthly",
        prefer_other_org=True,
        want=["peer-support"],
        offer=[],
        exclusions=[],
    )
    exported = export_user(settings, "T1", "U7", actor="test")
    assert exported["leader"]["status"] == "peers-only"
    erase_user(settings, "T1", "U7", actor="test")
    assert import_user(settings, json.dumps(exported))["slack_user_id"] == "U7"
