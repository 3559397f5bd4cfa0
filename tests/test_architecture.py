"""The shape of the code, checked: features never touch Slack, the kernel never reaches up
into a feature or an edge, and no module imports itself round a cycle.

Read from the source with `ast` (imports inside functions count too: they are still a
dependency, only a later one). See docs/architecture.md for the picture.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEATURES = ("bot.guidance", "bot.knowledge", "bot.reflection", "bot.peers", "bot.digests")
KERNEL = (
    "bot.settings",
    "bot.clock",
    "bot.schedule",
    "bot.db",
    "bot.text",
    "bot.statuses",
    "bot.identity",
    "bot.metrics",
    "bot.logging_setup",
    "bot.language_model",
    "bot.services",
)
EDGES = (
    "bot.listeners",
    "bot.ui",
    "bot.app",
    "bot.server",
    "bot.slack",
    "bot.cli",
    "jobs",
)
SLACK = ("slack_bolt", "slack_sdk")


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _modules() -> dict[str, Path]:
    found = {}
    for path in [*REPO.glob("bot/**/*.py"), *REPO.glob("jobs/*.py")]:
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports() -> dict[str, set[str]]:
    """Every module's imports: Tandem's own modules and third-party roots alike."""
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
                elif target.split(".")[0] in SLACK:
                    graph[name].add(target.split(".")[0])
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_features_never_import_slack():
    offending = {
        module: sorted(t for t in targets if t in SLACK)
        for module, targets in _imports().items()
        if _under(module, FEATURES) and any(t in SLACK for t in targets)
    }
    assert offending == {}


def test_features_never_import_an_edge():
    offending = {
        module: sorted(t for t in targets if _under(t, EDGES))
        for module, targets in _imports().items()
        if _under(module, FEATURES) and any(_under(t, EDGES) for t in targets)
    }
    assert offending == {}


def test_the_kernel_imports_no_feature_and_no_edge():
    offending = {
        module: sorted(t for t in targets if _under(t, FEATURES + EDGES))
        for module, targets in _imports().items()
        if _under(module, KERNEL) and any(_under(t, FEATURES + EDGES) for t in targets)
    }
    assert offending == {}


def test_no_import_cycles():
    graph = {m: {t for t in ts if t not in SLACK} for m, ts in _imports().items()}
    assert _cycles(graph) == []


def test_the_checks_see_a_cycle_and_a_slack_import_when_there_is_one():
    """The checks above are only worth having if they can fail."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert "slack_sdk" in _imports()["bot.slack.client"]
