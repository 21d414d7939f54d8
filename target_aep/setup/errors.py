"""Expected set-up failures: each ends the run with one clear line (no traceback) and exit code 1."""

from __future__ import annotations


class SetupError(RuntimeError):
    """A failure the user can act on; the message says what to do."""


class SetupConfigError(SetupError):
    """The config (or a flag) is unusable; raised before any request, naming the setting."""


class PermissionDeniedError(SetupError):
    """The credential's product profile lacks a permission; the message names the API and the permission."""


class SandboxNotFoundError(SetupError):
    """The configured sandbox does not exist, or the credential cannot use it."""


class TenantUnreadableError(SetupError):
    """The Schema Registry did not say which tenant namespace the sandbox has."""


class NotReadyError(SetupError):
    """The plan holds something target-aep cannot work without and set-up must not do (a destructive change)."""
