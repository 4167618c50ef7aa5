"""Signals of the registry, for apps above it (leaderboards, runs) to react to repository events
without the registry importing them.

``default_branch_moved``: sent once the transaction that moved a repository's default branch has
committed (an API commit, a merge, a push), with ``repo_id`` and ``commit_oid``.

``blob_scanned``: sent once the malware scan of a blob has recorded its result, with ``blob_id``
and ``state``.
"""

from django.dispatch import Signal

default_branch_moved = Signal()
blob_scanned = Signal()
