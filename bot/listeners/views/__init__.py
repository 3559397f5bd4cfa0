"""Modal (view) listeners."""

from bot.listeners.views import digests, feedback_reason, peers, personal, reflection


def register(app, services) -> None:
    feedback_reason.register(app, services)
    reflection.register(app, services)
    personal.register(app, services)
    digests.register(app, services)
    peers.register(app, services)
