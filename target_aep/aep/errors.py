"""Typed AEP errors. Messages carry AEP's own error code and text, never a token or a secret."""

from __future__ import annotations


class AEPError(RuntimeError):
    """Base class for every error raised while talking to Adobe Experience Platform."""


class AEPAuthError(AEPError):
    """IMS refused the credentials, or the gateway refused the token or API key."""


class AEPRequestError(AEPError):
    """A Platform call answered with an error status (after any retries).

    ``status``, ``error_code`` and ``aep_message`` come from the response so callers can branch on them.
    """

    def __init__(self, what: str, status: int, error_code: str = "", aep_message: str = "") -> None:
        self.what = what
        self.status = status
        self.error_code = error_code
        self.aep_message = aep_message
        detail = f" {error_code}" if error_code else ""
        text = f": {aep_message}" if aep_message else ""
        super().__init__(f"{what} failed with HTTP {status}{detail}{text}")


class AEPUnavailableError(AEPError):
    """The Platform stayed unreachable or overloaded (429/5xx/dropped connections) through every retry."""


class DatasetNotFoundError(AEPError):
    """A dataset id from the ``datasets`` setting is unknown to the Platform."""


class BatchFailedError(AEPError):
    """A batch ended ``failed`` or ``aborted``: none of its records landed.

    ``rows_verdict`` is filled in by whoever read AEP's row errors (``row_errors.py``): what became of the batch's
    rows, or why its row errors could not be read. It ends the message, the line the user sees when the run stops.
    """

    def __init__(self, batch_id: str, dataset_id: str, status: str, errors: list[dict]) -> None:
        self.batch_id = batch_id
        self.dataset_id = dataset_id
        self.status = status
        self.errors = errors
        self.rows_verdict = ""
        super().__init__(batch_id)

    @property
    def summary(self) -> str:
        """The batch, its final status and AEP's batch-level error codes and descriptions (at most five)."""
        shown = "; ".join(
            f"{e.get('code', '?')}: {e.get('description') or e.get('message') or ''}".strip() for e in self.errors[:5]
        )
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        return f"batch {self.batch_id} for dataset {self.dataset_id} ended '{self.status}'" + (
            f": {shown}{more}" if shown else ""
        )

    def __str__(self) -> str:
        return f"{self.summary.rstrip('.')}. {self.rows_verdict}" if self.rows_verdict else self.summary
