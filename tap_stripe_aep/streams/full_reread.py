"""Small reference lists Stripe sends no events for (shipping rates, file links): re-read whole, emit changes.

A ``created`` window from the bookmark sees new objects but not a shipping rate archived or a file link whose
expiry moved, and nothing else tells the tap. These lists are small (dozens to thousands of objects), so every
later run reads the whole list again and emits only the objects whose content differs from what the last run
emitted. The partition state keeps a short digest per object id (``digests``) for that comparison.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from tap_stripe_aep.streams.base import StripeObject, StripeStream


def content_digest(obj: StripeObject) -> str:
    """12 hex characters that change whenever any field of the object changes."""
    encoded = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.blake2b(encoded, digest_size=6).hexdigest()


class FullRereadStream(StripeStream):
    """A stream re-read from the start of its history on every run; unchanged objects are not emitted again."""

    def reread_from(self, state: dict, bookmark: int) -> int:
        return self._history_floor(self._account, int(state["backfill_started_at"]) + 1)

    def _emit_window_objects(self, objects: list[StripeObject]) -> Iterator[dict]:
        """Objects whose content changed since the last run; their digests join the state once the batch is written.

        Held apart until then (:meth:`_batch_written`, before the batch's STATE line): the tap makes a batch's next
        record before writing the current one (``StripeStream._emit_batch``), and a stop signal writes the state
        at any record, so a digest stored as its record is made could mark an object never written as emitted.
        """
        digests: dict[str, str] = self._partition_state.setdefault("digests", {})
        staged = self._staged_digests = {}
        for obj in objects:
            digest = content_digest(obj)
            if digests.get(obj["id"]) == digest:
                continue
            staged[obj["id"]] = digest
            yield self.make_record(obj, updated=None, is_deleted=False)

    _staged_digests: dict[str, str] | None = None

    def _batch_written(self, state: dict) -> None:
        staged, self._staged_digests = self._staged_digests, None
        if staged:
            state.setdefault("digests", {}).update(staged)
