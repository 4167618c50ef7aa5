"""Runs: training, fine-tuning and evaluation jobs launched from the hub (the Django side of the
training core and of the evaluation harness). See ``models.Run`` and ``services/``."""
