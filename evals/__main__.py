"""``python -m evals`` — command-line entry point (see ``evals.harness.cli``)."""

from evals.harness.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
