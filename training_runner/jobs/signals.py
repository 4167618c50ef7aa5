"""Signals of runs, for the apps above them (leaderboards) to react without being imported here.

``run_state_changed`` is sent once the transaction that moved a run's state has committed, with
``run_id`` and ``state`` (the new ``RunState`` value).
"""

from django.dispatch import Signal

run_state_changed = Signal()
