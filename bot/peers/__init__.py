"""Peer connections: consent-based introductions between leaders, often across organisations.

Invitations, never obligations: matched on what leaders chose to share, followed by a
private "what did you take away?", never by a met/not-met scoreboard.
"""
