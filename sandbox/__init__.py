"""A local, Slack-compatible workspace for end-to-end tests of Tandem, and `tandem sandbox`.

See :mod:`sandbox.workspace` for the Python API, :mod:`sandbox.server` for HTTP routes and
:mod:`sandbox.run` for the browser sandbox (docs/sandbox.md).
"""
