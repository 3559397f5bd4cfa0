"""Team channel digests: what a group is reflecting on, with nobody singled out.

config   — who may set a digest up, and its validated settings (DigestConfig rows)
compose  — the digest as data: pure aggregation with a minimum group size and
           protection against differencing two digests
service  — loads the group and shared entries, composes, and keeps the ledger (DigestRun)
cli      — `tandem digest configure` and `tandem digest run`
"""
