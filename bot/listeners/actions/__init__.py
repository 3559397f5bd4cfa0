"""Block action listeners."""

from bot.listeners.actions import feedback, share


def register(app, services) -> None:
    feedback.register(app, services)
    share.register(app, services)
