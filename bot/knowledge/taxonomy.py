"""The shared theme list: knowledge base, prompts, matching and digests speak in it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.text import read_yaml


@dataclass(frozen=True)
class Theme:
    slug: str
    name: str
    about: str


@lru_cache(maxsize=4)
def load_taxonomy(path: Path) -> tuple[Theme, ...]:
    data = read_yaml(Path(path).read_text(encoding="utf-8"))
    return tuple(Theme(t["slug"], t["name"], t["about"]) for t in data["themes"])


def theme_names(path: Path) -> dict[str, str]:
    return {theme.slug: theme.name for theme in load_taxonomy(path)}
