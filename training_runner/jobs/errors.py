"""Errors of runs that users act on."""

from common.errors import Conflict, HubError, RateLimited


class RunFinished(Conflict):
    code = "run_finished"
    default_message = "The run has already finished."


class QueueFull(RateLimited):
    code = "run_queue_full"


class InputGone(HubError):
    """A repository a run reads was deleted after the run was submitted."""

    status = 410
    code = "input_gone"
