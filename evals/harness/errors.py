"""Errors raised by the harness.

Everything a user can cause (a malformed task file, a dataset that does not match its pin, a model
directory that cannot be loaded) raises a subclass of :class:`EvalError`, so callers can report
the message as is and tell user errors from infrastructure failures.
"""


class EvalError(Exception):
    """Base class of the errors a user can fix (not retried by job runners)."""


class TaskSpecError(EvalError):
    """A task or suite file is malformed: bad YAML, unknown or missing keys, bad templates."""


class DatasetError(EvalError):
    """A dataset file is missing, unreadable, or not in the declared format."""


class DatasetPinError(DatasetError):
    """A dataset file's sha256 does not match the pin in the task spec."""


class ModelLoadError(EvalError):
    """A model directory cannot be loaded (missing files, unsafe weights, unknown layout)."""
