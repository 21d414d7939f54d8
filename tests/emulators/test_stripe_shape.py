"""The emulator's data shapes: even by default, or growing with bursty days, same objects either way."""

from __future__ import annotations

from collections import Counter

from emulators.stripe.generator import PLATFORM_ACCOUNT, AccountData
from emulators.stripe.shape import DAY, Shape

ANCHOR = 1_760_000_000


def _account(shape: Shape, customers: int = 3000) -> AccountData:
    return AccountData(
        seed=7, customers=customers, account=PLATFORM_ACCOUNT, anchor=ANCHOR, history_days=730, shape=shape
    )


def _created(data: AccountData, stream: str) -> list[int]:
    seq = data.seq[stream]
    return [seq.created(i) for i in range(seq.base_count)]


def test_the_even_shape_is_the_default_and_unchanged() -> None:
    default = _account(Shape())
    assert default.shape.is_even
    charges = _created(default, "charges")
    # The even layout: one slot per object, each created strictly inside its slot.
    step = (default.end - default.start) / len(charges)
    assert all(default.start + int(i * step) <= c <= default.start + int((i + 1) * step) for i, c in enumerate(charges))


def test_a_growing_shape_moves_times_not_objects() -> None:
    even, growing = _account(Shape()), _account(Shape(growth_doubling_days=90, burst_days=2))
    # (children made some time after their parent, like refunds, are fewer: more parents are recent)
    for stream in ("customers", "charges", "payment_intents", "invoices", "payouts"):
        assert growing.seq[stream].base_count == even.seq[stream].base_count, stream
        assert [growing.seq[stream].id_of(i) for i in range(50)] == [even.seq[stream].id_of(i) for i in range(50)]
    charges = _created(growing, "charges")
    assert charges == sorted(charges)  # created never decreases with the index
    assert growing.start <= charges[0] and charges[-1] < growing.end
    quarters = Counter((c - growing.start) * 8 // (growing.end - growing.start) for c in charges)
    # Density doubling every 90 days: the last quarter holds many times the first.
    assert quarters[7] > 40 * quarters[0]
    days = Counter((c - growing.start) // DAY for c in charges)
    busiest = [count for _day, count in days.most_common(2)]
    newest_week = sum(days[d] for d in range(722, 729)) / 7
    # Two bursty days, each several times the newest (densest) ordinary day.
    assert min(busiest) > 3 * newest_week
    assert sum(busiest) >= 0.05 * len(charges)
    # Children still follow their parents, after them.
    refunds = growing.seq["refunds"]
    assert all(refunds.created(k) >= growing.seq["charges"].created(k * 10 + 7) for k in range(refunds.base_count))


def test_the_shape_is_deterministic() -> None:
    shape = Shape(growth_doubling_days=30, burst_days=4)
    assert _created(_account(shape, 500), "charges") == _created(_account(shape, 500), "charges")
