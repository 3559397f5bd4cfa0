"""The `tandem` command line: one module per command group, what they share in `common`.

Each group's module keeps its heavy imports inside its commands, so `tandem --help` stays quick.
"""

from __future__ import annotations

import typer

from bot.cli import ask, data, db, digests, jobs, kb, leaders, peers, serve

app = typer.Typer(help="Tandem: collaborative leadership reflection.", no_args_is_help=True)
app.command("ask")(ask.ask)
app.command("serve")(serve.serve)
app.command("sandbox")(serve.sandbox)
app.command("run")(serve.run)
app.add_typer(kb.app, name="kb")
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.add_typer(leaders.app, name="leaders")
app.add_typer(data.app, name="data")
app.add_typer(peers.app, name="peers")
app.add_typer(digests.app, name="digest")
