"""Error classes of tap-stripe-aep: each names what went wrong and what the user can change.

Messages never contain the API key; at most its last four characters, the way Stripe's own 401 does.
"""

from __future__ import annotations

from singer_sdk.exceptions import ConfigValidationError


class TapStripeError(Exception):
    """Base class of every error this tap raises on purpose."""


class ConfigError(TapStripeError, ConfigValidationError):
    """A setting is missing or malformed; raised before any request is made.

    A ``ConfigValidationError`` too, so the SDK's command line reports it as a config error and exits 1.
    """

    def __init__(self, setting: str, problem: str, *, more: list[str] | None = None) -> None:
        self.setting = setting
        message = f"setting '{setting}': {problem}"
        ConfigValidationError.__init__(self, message, errors=more or [message])


class StripeAPIError(TapStripeError):
    """Stripe answered with an error the tap cannot recover from by retrying."""

    def __init__(self, message: str, *, status: int | None = None, param: str | None = None) -> None:
        self.status = status
        # The request parameter Stripe blamed, if any: None on an error about the account itself (a product it
        # has not activated), set on an error about the request the tap made.
        self.param = param
        super().__init__(message)


class StripeAuthError(StripeAPIError):
    """401: the API key was rejected."""


class StripePermissionError(StripeAPIError):
    """403: a restricted key lacks the permission a stream needs."""


class StripeRequestError(StripeAPIError):
    """400/404: Stripe refused the request; the message carries Stripe's explanation and parameter."""


class ConnectAccountsError(StripeAPIError):
    """``account_ids: ["*"]`` but the platform's connected accounts cannot be listed."""


class StripeRetriesExhaustedError(StripeAPIError):
    """A retryable failure (429, 409, 5xx, dropped connection) persisted through every retry."""


def key_hint(api_key: str) -> str:
    """The only part of a key that may appear in a message: its last four characters."""
    return f"key ends ...{api_key[-4:]}" if len(api_key) >= 8 else "key too short to show"
