"""Block action listeners."""

from bot.listeners.actions import checkins, feedback, home, journal, peers, share


def register(app, services) -> None:
    feedback.register(app, services)
    share.register(app, services)
    checkins.register(app, services)
    home.register(app, services)
    journal.register(app, services)
    peers.register(app, services)
