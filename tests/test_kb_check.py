import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.documents import MAX_QUESTIONS, MIN_QUESTIONS, check_knowledge_base
from bot.knowledge.passages import near_duplicate_warnings
from bot.knowledge.taxonomy import load_taxonomy
from bot.settings import REPO_ROOT

TAXONOMY = REPO_ROOT / "knowledge" / "taxonomy.yaml"
THEMES = {t.slug for t in load_taxonomy(TAXONOMY)}
GOOD_DOC = sorted((REPO_ROOT / "knowledge" / "docs").glob("*.md"))[0]


def test_the_real_knowledge_base_passes_and_covers_every_theme():
    report = check_knowledge_base(REPO_ROOT / "knowledge", THEMES)
    assert report.ok, [str(p) for p in report.problems]
    assert len(report.documents) >= 150
    primary = {}
    for doc in report.documents:
        primary[doc.themes[0]] = primary.get(doc.themes[0], 0) + 1
    assert set(primary) == THEMES
    assert min(primary.values()) >= 4


def test_the_knowledge_base_covers_the_founding_essay_ideas():
    text = " ".join(
        p.read_text("utf-8").lower() for p in (REPO_ROOT / "knowledge/docs").glob("*.md")
    )
    assert "myron rogers" in text
    assert "the process you use to get to the future is the future you get" in text
    assert "command and control" in text
    assert "league table" in text


def _kb_with(tmp_path: Path, name: str, content: str) -> Path:
    docs = tmp_path / "knowledge" / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / name).write_text(content, encoding="utf-8")
    return tmp_path / "knowledge"


def _good() -> str:
    return GOOD_DOC.read_text("utf-8")


@pytest.mark.parametrize(
    ("change", "expected_line", "expected"),
    [
        (lambda t: t.replace("themes: [", "themes: [not-a-theme, ", 1), None, "unknown theme"),
        (
            lambda t: t.replace("last_reviewed:", "last_reviewed: 2099-01-01\nold_reviewed:", 1),
            None,
            "in the future",
        ),
        (
            lambda t: t.replace("last_reviewed:", "last_reviewed: yesterday\nold_reviewed:", 1),
            None,
            "is not a date",
        ),
        (lambda t: t.replace("\nsummary:", "\nsummery:", 1), 1, "missing field 'summary'"),
        (
            lambda t: t.replace("## Common pitfalls", "## Things to avoid", 1),
            None,
            "missing section",
        ),
        (lambda t: t.split("\n## What good")[0], None, "words; expected 350-1000"),
        (lambda t: t[4:], 1, "missing front-matter"),
        (lambda t: t.replace("\nquestions:", "\nqueries:", 1), 1, "missing field 'questions'"),
        (
            lambda t: t.replace("## Common pitfalls", "## Some thoughts", 1),
            None,
            "unknown section '## Some thoughts'",
        ),
        (
            lambda t: t.replace(
                "## What good looks like\n\n", "## What good looks like\n\n<!channel> ", 1
            ),
            None,
            "Slack control sequence",
        ),
        (
            lambda t: t.replace(
                "## What good looks like\n\n", "## What good looks like\n\nSee <@U012AB3CD> ", 1
            ),
            None,
            "Slack control sequence",
        ),
        (
            lambda t: t.replace(
                "## What good looks like\n\n",
                "## What good looks like\n\nRead https://evil.example/login first.\n\n",
                1,
            ),
            None,
            "contains a link",
        ),
        (
            lambda t: t.replace(
                "## What good looks like\n\n- ", "## What good looks like\n\n- This ", 1
            ),
            None,
            "points back",
        ),
        (
            lambda t: t.replace(
                "## An illustrative example\n\nPicture", "## An illustrative example\n\nWe saw", 1
            ),
            None,
            "must open with 'Picture",
        ),
    ],
)
def test_a_broken_document_is_reported_with_file_and_line(
    tmp_path, change, expected_line, expected
):
    knowledge = _kb_with(tmp_path, GOOD_DOC.name, change(_good()))
    report = check_knowledge_base(knowledge, THEMES)
    assert not report.ok
    messages = [str(p) for p in report.problems]
    assert any(expected in m for m in messages), messages
    assert all(m.startswith(str(knowledge / "docs" / GOOD_DOC.name) + ":") for m in messages)
    if expected_line is not None:
        assert any(p.line == expected_line and expected in p.message for p in report.problems)


def test_a_back_pointing_bullet_is_reported_on_its_own_line(tmp_path):
    lines = _good().split("\n")
    heading = lines.index("## What good looks like")
    bullet = next(i for i in range(heading + 1, len(lines)) if lines[i].startswith("- "))
    lines[bullet] = "- Instead, " + lines[bullet][2:]
    knowledge = _kb_with(tmp_path, GOOD_DOC.name, "\n".join(lines))
    report = check_knowledge_base(knowledge, THEMES)
    assert [(p.line, "points back" in p.message) for p in report.problems] == [(bullet + 1, True)]


def test_near_duplicate_documents_are_warned_about_not_refused(tmp_path):
    twin = _good().replace(f"id: {GOOD_DOC.stem}", "id: a-twin-of-the-first", 1)
    knowledge = _kb_with(tmp_path, GOOD_DOC.name, _good())
    _kb_with(tmp_path, "a-twin-of-the-first.md", twin)
    report = check_knowledge_base(knowledge, THEMES)
    report.warnings.extend(near_duplicate_warnings(report.documents))
    assert report.ok
    [warning] = report.warnings
    assert "near-duplicate of" in warning.message and str(warning).split(":")[0].endswith(".md")


def test_the_real_knowledge_base_has_no_near_duplicates():
    report = check_knowledge_base(REPO_ROOT / "knowledge", THEMES)
    report.warnings.extend(near_duplicate_warnings(report.documents))
    assert report.warnings == []


def test_every_example_is_labelled_and_a_third_show_mixed_results():
    report = check_knowledge_base(REPO_ROOT / "knowledge", THEMES)
    assert len(report.documents) >= 150
    for doc in report.documents:
        assert MIN_QUESTIONS <= len(doc.questions) <= MAX_QUESTIONS, doc.id
        assert doc.insight and doc.reflective_question.endswith("?"), doc.id


def test_an_invisible_character_is_reported_on_its_own_line(tmp_path):
    lines = _good().split("\n")
    target = len(lines) - 3
    lines[target] = lines[target] + "\u200b"
    knowledge = _kb_with(tmp_path, GOOD_DOC.name, "\n".join(lines))
    report = check_knowledge_base(knowledge, THEMES)
    assert [(p.line, "U+200B" in p.message) for p in report.problems] == [(target + 1, True)]


def test_duplicate_ids_and_mismatched_file_names_are_errors(tmp_path):
    knowledge = _kb_with(tmp_path, GOOD_DOC.name, _good())
    _kb_with(tmp_path, "another-name.md", _good())
    report = check_knowledge_base(knowledge, THEMES)
    assert any("does not match the file name" in p.message for p in report.problems)


def test_malformed_yaml_and_bad_bytes_are_reported_not_raised(tmp_path):
    knowledge = _kb_with(tmp_path, "broken.md", "---\nid: [unclosed\n---\nbody\n")
    (knowledge / "docs" / "binary.md").write_bytes(b"---\nid: x\xff\xfe\n---\n")
    report = check_knowledge_base(knowledge, THEMES)
    messages = " | ".join(str(p) for p in report.problems)
    assert "not valid YAML" in messages
    assert "not valid UTF-8" in messages


def test_kb_check_command_exits_non_zero_on_problems(tmp_path):
    knowledge = _kb_with(
        tmp_path, GOOD_DOC.name, _good().replace("themes: [", "themes: [nope, ", 1)
    )
    (knowledge / "taxonomy.yaml").write_text(TAXONOMY.read_text("utf-8"), "utf-8")
    env = {"TANDEM_KNOWLEDGE_DIR": str(knowledge), "TANDEM_DATA_DIR": str(tmp_path / "d")}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "check"],
        capture_output=True,
        text=True,
        env={**_base_env(), **env},
    )
    assert result.returncode == 1
    assert f"{GOOD_DOC.name}:" in result.stdout and "unknown theme 'nope'" in result.stdout


@pytest.mark.slow  # a CLI process
def test_kb_check_command_passes_on_the_real_base(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "check"],
        capture_output=True,
        text=True,
        env={**_base_env(), "TANDEM_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "documents across 12 themes" in result.stdout


def _base_env() -> dict:
    import os

    return {
        k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "OPENAI_", "SLACK_"))
    }
