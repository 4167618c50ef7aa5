"""Signals of discussions and pull requests, for apps above them to react without being imported.

``pull_request_committed``: sent once a commit onto an open pull request has committed, with
``discussion_id`` and ``commit_oid``.
"""

from django.dispatch import Signal

pull_request_committed = Signal()
