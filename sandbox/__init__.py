"""A local, Slack-compatible workspace for end-to-end tests of Tandem.

See :mod:`sandbox.workspace` for the Python API and :mod:`sandbox.server` for HTTP routes.
"""
