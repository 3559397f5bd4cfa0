"""Block action listeners."""

from bot.listeners.actions import checkins, feedback, home, journal, peers, share, sources


def register(app, services) -> None:
    feedback.register(app, services)
    share.register(app, services)
    sources.register(app, services)
    checkins.register(app, services)
    home.register(app, services)
    journal.register(app, services)
    peers.register(app, services)
