"""Leaderboards: public boards over evaluation runs, with score and rank intervals, per-item
evidence, signed and re-runnable results (the Django side of the evaluation harness)."""
