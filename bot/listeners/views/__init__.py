"""Modal (view) listeners."""

from bot.listeners.views import feedback_reason


def register(app, services) -> None:
    feedback_reason.register(app, services)
