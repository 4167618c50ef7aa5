"""Errors a request to the engine can meet. Each carries the HTTP status and machine code the
server answers with, so the hub can turn it into its own JSON error shape unchanged."""

from __future__ import annotations


class EngineError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        body = {"error": self.message, "code": self.code}
        if self.field:
            body["fields"] = {self.field: [self.message]}
        return body


class InvalidRequest(EngineError):
    """A parameter is missing, of the wrong type or out of range."""

    code = "invalid"


class NoChatTemplate(InvalidRequest):
    """Chat messages for a model whose tokenizer has no chat template."""

    code = "no_chat_template"


class UnsupportedModel(EngineError):
    """The model cannot be loaded or cannot do what was asked (architecture, head, no chat template)."""

    status = 422
    code = "unsupported_model"


class ModelUnavailable(EngineError):
    """The model reference names nothing the resolver can find."""

    status = 404
    code = "model_not_found"


class RequestTooLarge(EngineError):
    status = 413
    code = "too_large"


class EngineBusy(EngineError):
    """Every generation slot stayed taken for the whole wait."""

    status = 503
    code = "engine_busy"
