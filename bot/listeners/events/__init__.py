"""Events API listeners, one concern per module."""

from bot.listeners.events import home, mentions, messages


def register(app, services) -> None:
    messages.register(app, services)
    mentions.register(app, services)
    home.register(app, services)
