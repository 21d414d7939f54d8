"""Stripe's error responses: ``{"error": {"type", "code", "message", "param"}}`` with the matching status."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client exactly as Stripe shapes it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message, "param": self.param}
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}

    @property
    def should_retry(self) -> bool:
        return self.status in (409, 429) or self.status >= 500


def unknown_parameter(name: str) -> ApiError:
    return ApiError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def invalid_param(name: str, message: str) -> ApiError:
    return ApiError(400, message, code="parameter_invalid_integer" if "integer" in message else None, param=name)


def missing(object_name: str, object_id: str, param: str | None = "id", status: int = 404) -> ApiError:
    return ApiError(status, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param)


def mask_key(key: str) -> str:
    """Only the last 4 characters of a key may ever be shown."""
    return "*" * max(0, len(key) - 4) + key[-4:] if len(key) > 4 else "*" * len(key)
