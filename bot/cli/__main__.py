"""`python -m bot.cli`: the same command line as `tandem`."""

from bot.cli import app

app()
