"""Errors of the inference app, and the one translation of the engine's errors into the hub's."""

from __future__ import annotations

from common.errors import Conflict, HubError, NotFound, PermissionDenied, ValidationError
from training_runner.engine.errors import EngineError


class InferenceDisabled(PermissionDenied):
    code = "inference_disabled"
    default_message = "Inference is off for this model; its admins can turn it on in the Playground tab."


class UnsupportedPipeline(ValidationError):
    code = "unsupported_pipeline"


class BattleNotFound(NotFound):
    code = "battle_not_found"
    default_message = "Battle not found."


class BattleNotReady(Conflict):
    code = "battle_not_ready"


class ArenaUnavailable(Conflict):
    code = "arena_unavailable"


def hub_error(error: EngineError) -> HubError:
    """The engine's error as a hub error with the same status, code, message and field."""
    cls = type(f"Engine{type(error).__name__}", (HubError,), {"status": error.status, "code": error.code})
    return cls(error.message, fields={error.field: [error.message]} if error.field else None)
