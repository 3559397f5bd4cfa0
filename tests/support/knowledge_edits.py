"""Edits tests make to a copy of the knowledge base's examples."""

from pathlib import Path


def add_an_offtopic_example(knowledge_dir: Path) -> None:
    """One more off-topic example, at the top of `scope/offtopic.yaml` (a text no other
    example or document uses, so its vector is new to the embedding cache)."""
    offtopic = knowledge_dir / "scope" / "offtopic.yaml"
    offtopic.write_text(
        offtopic.read_text("utf-8").replace(
            "questions:\n",
            'questions:\n  - q: "how do I book the zebracanary room"\n    redirect: estates\n',
            1,
        ),
        "utf-8",
    )
