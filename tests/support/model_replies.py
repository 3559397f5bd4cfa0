"""Model replies for the OpenAI stub, built from the passages Tandem will actually send, so
that a test can script a supported answer (and add unsupported or hostile lines to it)."""

from __future__ import annotations

from bot.guidance.llm import label_passages
from bot.guidance.service import GuidanceService


def labelled_passages(settings, question: str):
    return label_passages(GuidanceService(settings).search(question))


def scripted_reply(labelled, opening: str = "Disagreement needs a safe route.", extra_points=()):
    """A reply in the model format: two supported points, any extra lines, a pitfall and a
    question. Returns the reply and the passages its points rest on."""
    actions = [item for item in labelled if item.passage.kind in ("action", "guidance")]
    pitfall = next(item for item in labelled if item.passage.kind == "pitfall")
    lines = [f"OPENING: {opening}"]
    for number, item in enumerate(actions[:2], start=1):
        lines.append(f"{number}. {item.passage.text} [{item.label}]")
    for number, point in enumerate(extra_points, start=3):
        lines.append(f"{number}. {point}")
    lines.append(f"WATCH: {pitfall.passage.text} [{pitfall.label}]")
    lines.append("REFLECT: What would it take for you to be the first to disagree?")
    return "\n".join(lines), actions[:2]
