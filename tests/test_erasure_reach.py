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


def _bytes_on_disk(data_dir) -> bytes:
    found = b""
    for path in sorted(data_dir.glob("tandem.db*")):
        found += path.read_bytes()
    return found


def test_erased_reflections_leave_no_copy_in_the_database_files(tmp_path):
    import pytest

    from bot.reflection.journal import add_entry
    from tests.conftest import TEST_DATABASE

    if TEST_DATABASE != "sqlite":
        pytest.skip(
            "SQLite files only; PostgreSQL keeps dead tuples until VACUUM (docs/security.md)"
        )
    settings = make_settings(tmp_path)
    leader = enrol(settings, "T1", "U1", time_zone="Europe/London")
    canary = "wombat-canary-8812"
    for n in range(20):
        add_entry(settings, leader.id, f"A reflection about trust with {canary} number {n}")
    assert canary.encode() in _bytes_on_disk(tmp_path)
    erase_user(settings, "T1", "U1", actor="test")
    assert canary.encode() not in _bytes_on_disk(tmp_path)


def test_the_data_folder_and_database_are_private_to_tandem(tmp_path):
    import stat

    from tests.conftest import TEST_DATABASE

    data = tmp_path / "data"
    settings = make_settings(data)
    enrol(settings, "T1", "U1", time_zone="Europe/London")
    if TEST_DATABASE == "sqlite":
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "tandem.db").stat().st_mode) == 0o600


def test_audit_rows_are_keyed_hashes_and_lose_their_link_on_erase(tmp_path):
    import hashlib

    from bot.db.models import AuditEvent

    settings = make_settings(tmp_path)
    enrol(settings, "T1", "U1", time_zone="Europe/London")
    export_user(settings, "T1", "U1")
    unsalted = hashlib.sha256(b"subject:T1:U1").hexdigest()
    with session_scope(settings) as session:
        [before] = session.scalars(select(AuditEvent.subject)).all()
    assert before != unsalted and "U1" not in before
    erase_user(settings, "T1", "U1", actor="test")
    with session_scope(settings) as session:
        subjects = session.scalars(select(AuditEvent.subject)).all()
    assert len(subjects) == 2 and before not in subjects
    assert all(s.startswith("erased:") for s in subjects)


def _export(**overrides) -> dict:
    data = {
        "tandem_export_version": 1,
        "team_id": "T1",
        "slack_user_id": "U1",
        "leader": {
            "time_zone": "Europe/London",
            "cadence": "weekly",
            "day": "mon",
            "local_time": "09:00",
        },
        "journal": [
            {
                "text": "A reflection",
                "themes": ["trust-and-relationships"],
                "created_at": "2026-11-01T10:00:00Z",
            }
        ],
    }
    data.update(overrides)
    return data


def _entry(**fields) -> dict:
    return {"text": "x", "created_at": "2026-11-01T10:00:00Z", **fields}


import pytest  # noqa: E402


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"journal": [_entry(text="secret-canary \x00 text")]}, "NUL"),
        ({"journal": [_entry(themes=["made-up-theme"])]}, "not in the taxonomy"),
        ({"journal": [_entry(created_at="9999-01-01T00:00:00Z")]}, "between 2000 and now"),
        ({"journal": [_entry(question_id="q" * 81)]}, "question_id"),
        (
            {
                "leader": {
                    "time_zone": "Europe/London",
                    "cadence": "weekly",
                    "day": "mon",
                    "local_time": "09:00",
                    "display_name": "n" * 201,
                }
            },
            "display_name",
        ),
        ({"team_id": "not a team"}, "team_id"),
    ],
)
def test_an_import_is_validated_against_every_column_and_writes_nothing(tmp_path, change, reason):
    from bot.privacy import ImportRejected
    from bot.reflection.leaders import get_leader

    settings = make_settings(tmp_path)
    with pytest.raises(ImportRejected) as rejected:
        import_user(settings, json.dumps(_export(**change)))
    assert reason in str(rejected.value) and "secret-canary" not in str(rejected.value)
    assert get_leader(settings, "T1", "U1") is None


def test_deeply_nested_json_is_refused_in_one_line(tmp_path):
    from bot.privacy import ImportRejected

    with pytest.raises(ImportRejected, match="nested too deeply"):
        import_user(make_settings(tmp_path), "[" * 100_000 + "]" * 100_000)


def test_an_unknown_person_is_refused_not_created(tmp_path):
    from bot.privacy import ImportRejected
    from bot.reflection.leaders import get_leader

    settings = make_settings(tmp_path)
    with pytest.raises(ImportRejected, match="not a member"):
        import_user(settings, json.dumps(_export()), user_exists=lambda team, user: False)
    assert get_leader(settings, "T1", "U1") is None
    assert (
        import_user(settings, json.dumps(_export()), user_exists=lambda t, u: True)["entries"] == 1
    )


CANARY = "secret-canary-7781"


@pytest.mark.slow  # a CLI process each
@pytest.mark.parametrize(
    ("leader", "entry", "reason"),
    [
        ({"organisation": CANARY * 12}, {}, "leader.organisation: longer than 200 characters"),
        ({"consent_source": CANARY}, {}, "leader.consent_source: longer than 16 characters"),
        ({"consent_source": "self\x00" + CANARY}, {}, "leader.consent_source: contains a NUL"),
        ({}, {"question_id": CANARY * 5}, "journal.0.question_id: longer than 80 characters"),
    ],
)
def test_data_import_refuses_a_value_its_column_cannot_hold_in_one_line_without_content(
    tmp_path, leader, entry, reason
):
    """On PostgreSQL such a value used to reach the database, whose error quoted it."""
    from bot.db.models import Leader
    from bot.reflection.leaders import get_leader
    from sandbox.workspace import WorkspaceServer
    from tests.slack_fixtures import TOKEN, make_workspace
    from tests.support.cli import run_cli

    settings = make_settings(tmp_path)
    export = _export(team_id="T0TANDEM")
    export["leader"].update(leader)
    export["journal"] = [_entry(text=f"A reflection {CANARY}", **entry)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    with WorkspaceServer(make_workspace()) as slack:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
        result = run_cli(["data", "import", str(path)], settings, extra_env=env)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert reason in line and CANARY not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert get_leader(settings, "T0TANDEM", "U1") is None
    # The limits are the models' own: change a column and the check follows it.
    assert Leader.__table__.columns["consent_source"].type.length == 16
