"""The evaluation harness: task specs, scoring, model adapters, suites and run outputs.

Module map:

- ``spec``      task spec dataclasses loaded from YAML, with a content hash
- ``data``      local dataset snapshots: sha256 pins and document loaders
- ``templates`` sandboxed Jinja rendering of prompts, targets and choices
- ``fewshot``   per-item seeded few-shot sampling and context assembly
- ``requests``  turning documents into model requests
- ``filters``   post-processing of generated text before exact match
- ``metrics``   per-item metrics, aggregation, standard errors, intervals, paired bootstrap
- ``bigbench``  BIG-bench multiple-choice tasks as task specs
- ``suite``     suites of tasks with a declared aggregation
- ``adapters``  model back-ends (``transformers`` and the training core)
- ``outputs``   per-sample logs, results JSON, environment capture, run fingerprint
- ``run``       ``run_suite``: the one call that evaluates a model directory on a suite
- ``compare``   paired bootstrap between two runs' per-sample logs
- ``lm_eval_export``  a task as an lm-evaluation-harness config, for cross-checks
- ``cli``       ``python -m evals``

Nothing here imports Django; torch is imported only by the adapters and ``run``.
"""
