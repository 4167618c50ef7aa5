"""Training runner: the project's Transformer training and fine-tuning core (``training_runner.core``),
its command line (``python -m training_runner train CONFIG.yaml``) and recipe configs (``configs/``).

``training_runner.core`` never imports Django; the Django job app lives beside it and calls
``training_runner.core.run.run_training``.
"""
