"""Evaluation harness for language models hosted on the hub.

The harness lives in ``evals.harness`` (pure Python / PyTorch, no Django) and the shipped task
suites in ``evals/suites``. Scoring follows EleutherAI lm-evaluation-harness so that numbers are
comparable with published ones; see ``evals.harness.run.run_suite`` for the entry point.
"""

__version__ = "0.1.0"
