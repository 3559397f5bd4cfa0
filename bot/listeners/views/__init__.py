"""Modal (view) listeners."""

from bot.listeners.views import feedback_reason, personal, reflection


def register(app, services) -> None:
    feedback_reason.register(app, services)
    reflection.register(app, services)
    personal.register(app, services)
