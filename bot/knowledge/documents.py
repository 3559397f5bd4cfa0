"""Curated knowledge documents: parsing and validation (`tandem kb check`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.text import clean_text, invisible_characters

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_FIELDS = ("id", "title", "themes", "summary", "audience", "last_reviewed", "sources")
REQUIRED_SECTIONS = (
    "what good looks like",
    "how to start this week",
    "common pitfalls",
    "an example from practice",
    "a question to reflect on",
)
MIN_WORDS, MAX_WORDS = 300, 900


@dataclass(frozen=True)
class KnowledgeDoc:
    id: str
    title: str
    themes: tuple[str, ...]
    summary: str
    audience: str
    last_reviewed: dt.date
    sources: tuple[str, ...]
    body: str
    path: Path
    content_hash: str

    @property
    def reflective_question(self) -> str:
        """The closing question of the document, used by the offline composer."""
        match = re.search(r"^##\s+A question to reflect on\s*$(.*)", self.body, re.I | re.M | re.S)
        if not match:
            return ""
        text = match.group(1).strip().split("\n\n")[0]
        return text.strip().strip("*_ ").strip()


@dataclass
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class CheckReport:
    documents: list[KnowledgeDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def document_paths(knowledge_dir: Path) -> list[Path]:
    return sorted((Path(knowledge_dir) / "docs").glob("*.md"))


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (front_matter, body, body_first_line) or None when absent."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 4)
    if end < 0:
        return None
    front = text[4:end]
    body_line = front.count("\n") + 3
    return front, text[end + 5 :], body_line


def _field_line(front: str, name: str) -> int:
    for number, line in enumerate(front.split("\n"), start=2):
        if line.startswith(f"{name}:"):
            return number
    return 1


def parse_document(path: Path, known_themes: set[str], today: dt.date | None = None):
    """Parse one file; returns (KnowledgeDoc | None, [Problem])."""
    today = today or dt.date.today()
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        problem(1, f"not valid UTF-8 ({error.reason} at byte {error.start})")
        return None, problems

    text = raw.replace("\r\n", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        for column, name in invisible_characters(line):
            problem(number, f"invisible or control character {name} at column {column + 1}")

    split = _split_front_matter(text)
    if split is None:
        problem(1, "missing front-matter (the file must start with '---' and close it with '---')")
        return None, problems
    front, body, body_line = split
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem((mark.line + 2) if mark else 1, f"front-matter is not valid YAML: {error}")
        return None, problems
    if not isinstance(meta, dict):
        problem(2, "front-matter must be a mapping of fields")
        return None, problems

    for name in REQUIRED_FIELDS:
        if name not in meta:
            problem(1, f"missing field '{name}'")
    if problems and any("missing field" in p.message for p in problems):
        return None, problems

    doc_id = meta["id"]
    if not isinstance(doc_id, str) or not ID_PATTERN.match(doc_id):
        problem(_field_line(front, "id"), f"id {doc_id!r} must be a lower-case kebab-case slug")
    elif doc_id != path.stem:
        problem(_field_line(front, "id"), f"id '{doc_id}' does not match the file name")

    for name in ("title", "summary", "audience"):
        if not isinstance(meta[name], str) or not meta[name].strip():
            problem(_field_line(front, name), f"'{name}' must be non-empty text")
    if isinstance(meta["summary"], str) and len(meta["summary"]) > 300:
        problem(_field_line(front, "summary"), "summary should be one sentence (under 300 chars)")

    themes = meta["themes"]
    themes_line = _field_line(front, "themes")
    if not isinstance(themes, list) or not 1 <= len(themes) <= 3:
        problem(themes_line, "themes must be a list of 1 to 3 taxonomy slugs")
        themes = [t for t in themes if isinstance(t, str)] if isinstance(themes, list) else []
    for theme in themes:
        if theme not in known_themes:
            problem(themes_line, f"unknown theme '{theme}' (not in taxonomy.yaml)")
    if len(set(themes)) != len(themes):
        problem(themes_line, "a theme is listed twice")

    reviewed = meta["last_reviewed"]
    reviewed_line = _field_line(front, "last_reviewed")
    if isinstance(reviewed, str):
        try:
            reviewed = dt.date.fromisoformat(reviewed)
        except ValueError:
            problem(reviewed_line, f"last_reviewed {reviewed!r} is not a date (YYYY-MM-DD)")
    if isinstance(reviewed, dt.datetime):
        reviewed = reviewed.date()
    if isinstance(reviewed, dt.date):
        if reviewed > today:
            problem(reviewed_line, f"last_reviewed {reviewed} is in the future")
    elif not problems or problems[-1].line != reviewed_line:
        problem(reviewed_line, "last_reviewed must be a date (YYYY-MM-DD)")

    sources = meta["sources"]
    if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
        problem(_field_line(front, "sources"), "sources must be a list of attribution strings")
        sources = []

    words = len(body.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        problem(body_line, f"body has {words} words; expected {MIN_WORDS}-{MAX_WORDS}")
    headings = [h.strip().lower() for h in re.findall(r"^##\s+(.+)$", body, re.M)]
    for section in REQUIRED_SECTIONS:
        if not any(h.startswith(section) for h in headings):
            problem(body_line, f"missing section '## {section.capitalize()}'")

    if problems:
        return None, problems
    doc = KnowledgeDoc(
        id=doc_id,
        title=clean_text(meta["title"]),
        themes=tuple(themes),
        summary=clean_text(meta["summary"]),
        audience=clean_text(meta["audience"]),
        last_reviewed=reviewed,
        sources=tuple(sources),
        body=clean_text(body),
        path=path,
        content_hash=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
    )
    return doc, problems


def check_knowledge_base(knowledge_dir: Path, known_themes: set[str]) -> CheckReport:
    report = CheckReport()
    seen: dict[str, Path] = {}
    paths = document_paths(knowledge_dir)
    if not paths:
        report.problems.append(Problem(Path(knowledge_dir) / "docs", 0, "no documents found"))
    for path in paths:
        doc, problems = parse_document(path, known_themes)
        report.problems.extend(problems)
        if doc is None:
            continue
        if doc.id in seen:
            report.problems.append(
                Problem(path, 2, f"duplicate id '{doc.id}' (also {seen[doc.id]})")
            )
            continue
        seen[doc.id] = path
        report.documents.append(doc)
    return report
