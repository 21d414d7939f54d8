"""How often a completed batch's status is polled: soon after AEP finishes it, without flooding a slow one."""

from __future__ import annotations

import itertools

from target_aep.aep.batch_ingestion import POLL_MAX_SECONDS, next_poll_wait


def _polls(until: float) -> list[float]:
    """Seconds after COMPLETE of each status poll, up to the first at or after ``until``."""
    times = [next_poll_wait(0.0)]
    while times[-1] < until:
        times.append(times[-1] + next_poll_wait(times[-1]))
    return times


def test_a_finished_batch_is_seen_within_a_quarter_of_its_processing_time() -> None:
    # The end of a run: AEP takes 0.1-3 s for the last batches; the wait for each is part of the run's.
    for tenths in range(1, 31):
        processing = tenths / 10
        assert _polls(processing)[-1] <= 1.25 * processing + 0.05, processing


def test_a_slow_batch_is_polled_every_few_seconds_only() -> None:
    polls = _polls(600.0)  # 10 minutes, as real AEP may take
    assert len(polls) <= 150  # a poll every 5 s is 120; the first 20 s take 21 more
    assert max(b - a for a, b in itertools.pairwise(polls)) == POLL_MAX_SECONDS
