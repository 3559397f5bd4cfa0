"""The one settings object: every setting is documented, and URLs are normalised."""

import re

from bot.settings import REPO_ROOT, Settings


def test_every_setting_is_documented_in_env_example():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(), re.M)
    )
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert aliases - documented == set()


def test_a_plain_postgresql_url_works_as_written_and_slack_url_gets_its_slash():
    settings = Settings(
        _env_file=None, DATABASE_URL="postgresql://tandem@db/tandem", SLACK_API_URL="http://x/api"
    )
    assert settings.resolved_database_url == "postgresql+psycopg://tandem@db/tandem"
    assert settings.slack_api_url == "http://x/api/"


def test_cli_flags_show_no_value_placeholder_in_help():
    """`--reset` takes no value, so help must not print it as `--reset <bool>`."""
    from typer.testing import CliRunner

    from bot.cli import app

    for command in (["sandbox"], ["peers", "match"], ["digest", "run"], ["serve"], ["ask"]):
        shown = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
        assert shown.exit_code == 0, (command, shown.output)
        flags = re.findall(r"--(reset|json|http|dry-run)\s+(<bool>)?", shown.output)
        assert flags and all(placeholder == "" for _flag, placeholder in flags), shown.output
