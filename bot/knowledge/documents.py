"""Curated knowledge documents: parsing and validation (`tandem kb check`).

The format is described for writers in `knowledge/WRITING.md`. Code tells guidance from
story by the section headings, which come from a small fixed set (`SECTIONS`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.text import clean_text, invisible_characters, read_yaml

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_FIELDS = (
    "id",
    "title",
    "themes",
    "summary",
    "insight",
    "audience",
    "last_reviewed",
    "questions",
    "sources",
)
# Section heading (lower case) -> kind. Answers are made from guidance, action and pitfall
# sections; the story only helps a reader picture it and is never quoted as advice.
SECTIONS = {
    "what good looks like": "guidance",
    "how it works": "guidance",
    "how to start this week": "action",
    "a conversation plan": "action",
    "a checklist": "action",
    "common pitfalls": "pitfall",
    "when this does not work": "limits",
    "an illustrative example": "story",
    "a question to reflect on": "question",
}
# Each group needs at least one of its headings.
REQUIRED_SECTIONS = (
    ("what good looks like", "how it works"),
    ("how to start this week", "a conversation plan", "a checklist"),
    ("common pitfalls",),
    ("an illustrative example",),
    ("a question to reflect on",),
)
ADVICE_KINDS = ("guidance", "action", "pitfall", "limits")
MIN_WORDS, MAX_WORDS = 350, 1000
MIN_QUESTIONS, MAX_QUESTIONS = 5, 20
INSIGHT_CHARS = (60, 300)
# A bullet is shown on its own, so it may not open by pointing back at something else.
BACK_POINTING = {
    "this",
    "that",
    "it",
    "they",
    "these",
    "those",
    "instead",
    "also",
    "but",
    "so",
    "then",
    "however",
    "another",
    "here",
    "such",
    "both",
    "he",
    "she",
    "his",
    "her",
    "their",
    "its",
}
EXAMPLE_OPENINGS = ("picture ", "an illustrative example")
SLACK_CONTROL = re.compile(r"<\s*(?:[!@#]|https?:|mailto:)", re.I)
HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.I)
LINK = re.compile(r"https?://|\bwww\.[a-z0-9-]+\.[a-z]", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_FIRST_WORD = re.compile(r"[*_\"'“‘(]*([A-Za-z']+)")


@dataclass(frozen=True)
class Section:
    heading: str  # as written
    kind: str  # see SECTIONS
    text: str
    line: int  # of the heading, in the file
    text_line: int = 0  # of the text's first line, in the file

    def bullets(self) -> list[str]:
        """The section's bullets (continuation lines joined); paragraphs count as one each."""
        items: list[str] = []
        current: list[str] | None = None
        for raw in self.text.split("\n"):
            match = _BULLET.match(raw)
            if match:
                if current:
                    items.append(" ".join(current))
                current = [match.group(1).strip()]
            elif not raw.strip():
                if current:
                    items.append(" ".join(current))
                current = None
            elif current is not None:
                current.append(raw.strip())
            else:
                current = [raw.strip()]
        if current:
            items.append(" ".join(current))
        return [item for item in items if item]


@dataclass(frozen=True)
class KnowledgeDoc:
    id: str
    title: str
    themes: tuple[str, ...]
    summary: str
    insight: str
    audience: str
    last_reviewed: dt.date
    questions: tuple[str, ...]
    sources: tuple[str, ...]
    body: str
    path: Path
    content_hash: str
    lead: str = ""
    sections: tuple[Section, ...] = ()

    def section(self, kind: str) -> list[Section]:
        return [s for s in self.sections if s.kind == kind]

    @property
    def reflective_question(self) -> str:
        """The closing question of the document."""
        for section in self.section("question"):
            text = section.text.strip().split("\n\n")[0]
            return " ".join(text.split()).strip("*_ ").strip()
        return ""


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
    warnings: list[Problem] = field(default_factory=list)

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
    body_line = front.count("\n") + 4  # the line after the closing ---
    return front, text[end + 5 :], body_line


def _field_line(front: str, name: str) -> int:
    for number, line in enumerate(front.split("\n"), start=2):
        if line.startswith(f"{name}:"):
            return number
    return 1


def split_sections(body: str, body_line: int) -> tuple[str, list[tuple[str, str, int, int]]]:
    """The lead (text before the first `##`) and each section as
    (heading, text, heading's file line, text's first file line)."""
    lead: list[str] = []
    sections: list[tuple[str, list[str], int]] = []
    for offset, line in enumerate(body.split("\n")):
        heading = re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if heading and not line.startswith("###"):
            sections.append((heading.group(1).strip(), [], body_line + offset))
        elif sections:
            sections[-1][1].append(line)
        elif not line.startswith("# "):
            lead.append(line)
    found = []
    for heading, lines, number in sections:
        blank = next((i for i, line in enumerate(lines) if line.strip()), 0)
        found.append((heading, "\n".join(lines).strip(), number, number + 1 + blank))
    return "\n".join(lead).strip(), found


def _text_problems(value: str, where: str, allow_links: bool = False) -> list[str]:
    found = []
    if SLACK_CONTROL.search(value):
        found.append(f"{where} contains a Slack control sequence or angle-bracket link")
    elif HTML_TAG.search(value):
        found.append(f"{where} contains HTML")
    if not allow_links and LINK.search(value):
        found.append(f"{where} contains a link (links belong in `sources` only)")
    return found


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
        meta = read_yaml(front) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem((mark.line + 2) if mark else 1, f"front-matter is not valid YAML: {error}")
        return None, problems
    if not isinstance(meta, dict):
        problem(2, "front-matter must be a mapping of fields")
        return None, problems

    missing = [name for name in REQUIRED_FIELDS if name not in meta]
    for name in missing:
        problem(1, f"missing field '{name}'")
    if missing:
        return None, problems

    doc_id = meta["id"]
    if not isinstance(doc_id, str) or not ID_PATTERN.match(doc_id):
        problem(_field_line(front, "id"), f"id {doc_id!r} must be a lower-case kebab-case slug")
    elif doc_id != path.stem:
        problem(_field_line(front, "id"), f"id '{doc_id}' does not match the file name")

    for name in ("title", "summary", "insight", "audience"):
        value = meta[name]
        if not isinstance(value, str) or not value.strip():
            problem(_field_line(front, name), f"'{name}' must be non-empty text")
            continue
        for message in _text_problems(value, f"'{name}'"):
            problem(_field_line(front, name), message)
    if isinstance(meta["summary"], str) and len(meta["summary"]) > 300:
        problem(_field_line(front, "summary"), "summary should be one sentence (under 300 chars)")
    insight = meta["insight"] if isinstance(meta["insight"], str) else ""
    low, high = INSIGHT_CHARS
    if insight and not low <= len(insight.strip()) <= high:
        problem(
            _field_line(front, "insight"),
            f"insight has {len(insight.strip())} characters; expected {low}-{high}",
        )

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

    questions = meta["questions"]
    questions_line = _field_line(front, "questions")
    if not isinstance(questions, list) or not all(
        isinstance(q, str) and 3 <= len(q.strip()) <= 400 for q in questions
    ):
        problem(questions_line, "questions must be a list of short texts (3-400 characters)")
        questions = []
    elif not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        problem(
            questions_line,
            f"{len(questions)} questions; expected {MIN_QUESTIONS}-{MAX_QUESTIONS}",
        )
    for question in questions:
        for message in _text_problems(question, "a question"):
            problem(questions_line, message)

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
    for source in sources:
        for message in _text_problems(source, "a source", allow_links=True):
            problem(_field_line(front, "sources"), message)

    words = len(body.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        problem(body_line, f"body has {words} words; expected {MIN_WORDS}-{MAX_WORDS}")
    for offset, line in enumerate(body.split("\n")):
        for message in _text_problems(line, "the text"):
            problem(body_line + offset, message)

    lead, raw_sections = split_sections(body, body_line)
    sections: list[Section] = []
    seen: set[str] = set()
    for heading, section_text, line, text_line in raw_sections:
        name = heading.lower().rstrip(":").strip()
        if name not in SECTIONS:
            known = ", ".join(f"'{h.capitalize()}'" for h in SECTIONS)
            problem(line, f"unknown section '## {heading}' (use one of {known})")
            continue
        if name in seen:
            problem(line, f"section '## {heading}' appears twice")
            continue
        seen.add(name)
        sections.append(Section(heading, SECTIONS[name], section_text, line, text_line))
    for group in REQUIRED_SECTIONS:
        if not seen.intersection(group):
            wanted = " or ".join(f"'## {g.capitalize()}'" for g in group)
            problem(body_line, f"missing section {wanted}")
    for section in sections:
        problems.extend(_section_problems(path, section))

    if problems:
        return None, problems
    doc = KnowledgeDoc(
        id=doc_id,
        title=clean_text(meta["title"]),
        themes=tuple(themes),
        summary=clean_text(meta["summary"]),
        insight=clean_text(insight),
        audience=clean_text(meta["audience"]),
        last_reviewed=reviewed,
        questions=tuple(clean_text(q) for q in questions),
        sources=tuple(sources),
        body=clean_text(body),
        path=path,
        content_hash=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        lead=clean_text(lead),
        sections=tuple(Section(s.heading, s.kind, clean_text(s.text), s.line) for s in sections),
    )
    return doc, problems


def _section_problems(path: Path, section: Section) -> list[Problem]:
    problems: list[Problem] = []
    if section.kind == "story":
        opening = section.text.lstrip("*_ ").lower()
        if not opening.startswith(EXAMPLE_OPENINGS):
            problems.append(
                Problem(
                    path,
                    section.line,
                    "the example must open with 'Picture …' or 'An illustrative example:'",
                )
            )
        if re.search(r"\bwe(?:'ve| have) seen\b", section.text, re.I):
            problems.append(Problem(path, section.line, "'we have seen': examples are composites"))
    if section.kind in ADVICE_KINDS:
        for offset, raw in enumerate(section.text.split("\n")):
            match = _BULLET.match(raw)
            if not match:
                continue
            first = _FIRST_WORD.match(match.group(1))
            if first and first.group(1).lower() in BACK_POINTING:
                problems.append(
                    Problem(
                        path,
                        section.text_line + offset,
                        f"bullet opens with '{first.group(1)}', which points back: "
                        "each bullet must stand on its own",
                    )
                )
    return problems


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


def load_document(knowledge_dir: Path, doc_id: str, known_themes: set[str]) -> KnowledgeDoc | None:
    """One document by id (for a View button or the CLI); None when unknown or invalid."""
    if not isinstance(doc_id, str) or not ID_PATTERN.match(doc_id) or len(doc_id) > 120:
        return None  # never a path: an id can only name a file inside docs/
    path = Path(knowledge_dir) / "docs" / f"{doc_id}.md"
    if not path.is_file():
        return None
    doc, _problems = parse_document(path, known_themes)
    return doc
