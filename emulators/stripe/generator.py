"""Deterministic generated Stripe data for one account: a pure function of (seed, customers, account, anchor time).

Nothing is materialised up front except a few index arrays (balance transactions and recent events merge several
sources by time). Every object is built on demand from its index by the builders in ``objects_*.py``, which is
what lets one emulator serve 1,000,000 customers' worth of data. Linked objects are chosen among those that
already existed when the referring object was created, so every reference points at a real, older object.

Layout (n customers): 3n charges with 3n payment intents (1:1), a refund on every 10th charge, a dispute on every
50th, n invoices (1-3 lines each), n/2 invoice items, n/2 subscriptions (1-2 items), n/2 checkout sessions,
a credit note on every 10th invoice, 0.3n setup intents, 0.1n transfers, products/prices/coupons scaled down,
payouts about every two days, and balance transactions for charges, refunds and payouts.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Iterator

from emulators.stripe import (
    objects_billing,
    objects_catalog,
    objects_checkout,
    objects_connect,
    objects_customer_billing,
    objects_payments,
)
from emulators.stripe.ids import IdCodec, Rng, mix64, stable_hash
from emulators.stripe.sequence import Obj, Sequence, count_at
from emulators.stripe.shape import Shape

DAY = 86_400
EVENT_RETENTION = 30 * DAY
PLATFORM_ACCOUNT = "acct_emulator_platform"

# stream name -> (object name, id prefix); the order is also the order of ties in the events list
RESOURCES: dict[str, tuple[str, str]] = {
    "customers": ("customer", "cus_"),
    "products": ("product", "prod_"),
    "prices": ("price", "price_"),
    "plans": ("plan", "price_"),
    "coupons": ("coupon", ""),
    "promotion_codes": ("promotion_code", "promo_"),
    "payment_intents": ("payment_intent", "pi_"),
    "charges": ("charge", "ch_"),
    "refunds": ("refund", "re_"),
    "disputes": ("dispute", "dp_"),
    "payouts": ("payout", "po_"),
    "balance_transactions": ("balance_transaction", "txn_"),
    "transfers": ("transfer", "tr_"),
    "invoices": ("invoice", "in_"),
    "invoice_items": ("invoiceitem", "ii_"),
    "subscriptions": ("subscription", "sub_"),
    "checkout_sessions": ("checkout.session", "cs_test_"),
    "credit_notes": ("credit_note", "cn_"),
    "setup_intents": ("setup_intent", "seti_"),
    "events": ("event", "evt_"),
    # --- issue 9: H7
    "application_fees": ("application_fee", "fee_"),
    "top_ups": ("topup", "tu_"),
    # --- issue 9: H8
    "tax_rates": ("tax_rate", "txr_"),
    "subscription_schedules": ("subscription_schedule", "sub_sched_"),
    "quotes": ("quote", "qt_"),
    "invoice_payments": ("invoice_payment", "inpay_"),
    "billing_meters": ("billing.meter", "mtr_"),
    # --- issue 9: H9
    "payment_links": ("payment_link", "plink_"),
    "shipping_rates": ("shipping_rate", "shr_"),
    "setup_attempts": ("setup_attempt", "setatt_"),
    "files": ("file", "file_"),
    "file_links": ("file_link", "link_"),
    "early_fraud_warnings": ("radar.early_fraud_warning", "issfr_"),
    "reviews": ("review", "prv_"),
    "issuing_cardholders": ("issuing.cardholder", "ich_"),
    "issuing_cards": ("issuing.card", "ic_"),
    "issuing_authorizations": ("issuing.authorization", "iauth_"),
    "issuing_transactions": ("issuing.transaction", "ipi_"),
    "issuing_disputes": ("issuing.dispute", "idp_"),
}
REFUND_EVERY, REFUND_AT, REFUND_DELAY = 10, 7, 2 * DAY
DISPUTE_EVERY, DISPUTE_AT, DISPUTE_DELAY = 50, 23, 5 * DAY
FAILED_EVERY, FAILED_AT = 20, 11
CREDIT_NOTE_EVERY, CREDIT_NOTE_AT, CREDIT_NOTE_DELAY = 10, 5, 3 * DAY
TXN_CHARGE, TXN_REFUND, TXN_PAYOUT = 0, 1, 2
# --- issue 9: H9
EFW_EVERY, EFW_AT, EFW_DELAY = 40, 17, 2 * DAY
REVIEW_EVERY, REVIEW_AT, REVIEW_DELAY = 30, 13, 600
FILE_LINK_EVERY, FILE_LINK_AT, FILE_LINK_DELAY = 3, 1, 3600
TRANSACTION_EVERY, TRANSACTION_DELAY = 2, DAY
ISSUING_DISPUTE_EVERY, ISSUING_DISPUTE_AT, ISSUING_DISPUTE_DELAY = 25, 7, 3 * DAY
AUTHORIZATION_BURST = 10  # authorizations come in bursts: 10 within a few minutes (a team's travel day)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


class AccountData:
    """Every resource of one account, as lazily built :class:`Sequence` objects."""

    def __init__(
        self, *, seed: int, customers: int, account: str, anchor: int, history_days: int, shape: Shape | None = None
    ) -> None:
        self.seed = seed
        self.shape = shape or Shape()
        self.account = account
        self.is_platform = account == PLATFORM_ACCOUNT
        self.salt = stable_hash(seed, account)
        self._rng_seeds: dict[str, int] = {}  # name -> stable_hash(salt, name), for ``rng``
        self.end = anchor - 60  # base objects all predate the emulator's start, so later creates sort after them
        self.start = self.end - max(1, history_days) * DAY
        self.catalog_end = self.start + (self.end - self.start) // 3
        self.destinations: list[str] = []  # connected accounts that transfers go to
        self.seq: dict[str, Sequence] = {}
        n = max(0, customers)
        products = _clamp(3 + n // 25, 3, 50_000)
        coupons = _clamp(2 + n // 100, 2, 5_000)
        self._add_spread("customers", n, objects_billing.customer)
        self._add_spread("products", products, objects_catalog.product, catalog=True)
        self._product_step = (self.catalog_end - self.start) / max(1, products)
        self._add("prices", 2 * products, self._price_created, objects_catalog.price)
        plan_count = 2 * products - (2 * products + 2) // 3
        self._add("plans", plan_count, lambda k: self._price_created(plan_price(k)), objects_catalog.plan)
        self._add_spread("coupons", coupons, objects_catalog.coupon, catalog=True, suffix_len=0)
        self._add("promotion_codes", 2 * coupons, self._promo_created, objects_catalog.promotion_code)
        self._add_spread("charges", 3 * n, objects_payments.charge)
        charges = self.seq["charges"]
        self._add("payment_intents", 3 * n, charges.created, objects_payments.payment_intent)
        self._add_child("refunds", charges, REFUND_EVERY, REFUND_AT, REFUND_DELAY, objects_payments.refund)
        self._add_child("disputes", charges, DISPUTE_EVERY, DISPUTE_AT, DISPUTE_DELAY, objects_payments.dispute)
        self._add_spread("payouts", _clamp(n // 4, 2, max(2, history_days)), objects_payments.payout)
        self._add_spread("transfers", n // 10, objects_payments.transfer)
        self._add_spread("invoices", n, objects_billing.invoice)
        self._add_spread("invoice_items", n // 2, objects_billing.invoice_item)
        self._add_spread("subscriptions", n // 2, objects_billing.subscription)
        self._add_spread("checkout_sessions", n // 2, objects_checkout.checkout_session)
        invoices = self.seq["invoices"]
        self._add_child(
            "credit_notes", invoices, CREDIT_NOTE_EVERY, CREDIT_NOTE_AT, CREDIT_NOTE_DELAY, objects_checkout.credit_note
        )
        self._add_spread("setup_intents", 3 * n // 10, objects_checkout.setup_intent)
        self._add_checkout_radar_issuing_files(n)  # issue 9: H9
        self.line_codec = IdCodec("il_", self.salt ^ 0x11)
        self.item_codec = IdCodec("si_", self.salt ^ 0x12)
        self._merge_balance_transactions()
        # --- issue 9: H7. Application fees are the platform's (collected on its connected accounts' charges).
        if self.is_platform:
            fee = objects_connect.application_fee
            self._add_child("application_fees", charges, objects_connect.FEE_EVERY, objects_connect.FEE_AT, 0, fee)
        else:
            self._add("application_fees", 0, lambda _k: self.start, objects_connect.application_fee)
        # Top-ups come in bursts: a few a month, more in the last quarter (a business growing into payouts).
        self._add_burst("top_ups", max(3, n // 15), objects_connect.topup)
        # --- issue 9: H8
        self._add_spread("tax_rates", _clamp(4 + n // 40, 4, 500), objects_customer_billing.tax_rate, catalog=True)
        self._add_growing("subscription_schedules", max(6, n // 8), objects_customer_billing.subscription_schedule)
        self._add_growing("quotes", max(7, n // 6), objects_customer_billing.quote)
        self._add_child("invoice_payments", invoices, 1, 0, 3600, objects_customer_billing.invoice_payment)
        self._add_spread("billing_meters", _clamp(3 + n // 200, 3, 200), objects_customer_billing.billing_meter,
                         catalog=True)  # fmt: skip
        # A customer's payment methods, tax ids and balance transactions once a mutation changed them (customer
        # index -> list, newest first); the others are generated from the customer's index.
        self.customer_lists: dict[str, dict[int, list[Obj]]] = {
            name: {} for name in objects_customer_billing.CUSTOMER_LISTS
        }
        self.customer_lists_added: dict[tuple[str, int], int] = {}  # (list, customer index) -> objects added
        self.detached: dict[str, Obj] = {}  # payment methods detached from their customer: still retrievable

    # ---- layout -------------------------------------------------------------------------------------------

    def codec(self, name: str, suffix_len: int = 14) -> IdCodec:
        prefix = RESOURCES[name][1]
        # plans share ids with the recurring prices they mirror, as Stripe's legacy plans API does
        salt_name = "prices" if name == "plans" else name
        return IdCodec(prefix, stable_hash(self.salt, salt_name), suffix_len)

    def _add(
        self,
        name: str,
        count: int,
        created_at: Callable[[int], int],
        build: Callable[[AccountData, int], Obj],
        suffix_len: int = 14,
    ) -> Sequence:
        codec = self.codec(name, suffix_len)
        if name == "plans":
            codec = PlanCodec(codec)
        seq = Sequence(name, RESOURCES[name][0], codec, count, created_at, lambda i: build(self, i))
        self.seq[name] = seq
        return seq

    def _add_spread(
        self,
        name: str,
        count: int,
        build: Callable[[AccountData, int], Obj],
        *,
        catalog: bool = False,
        suffix_len: int = 14,
    ) -> None:
        start, end = self.start, self.catalog_end if catalog else self.end
        step = (end - start) / max(1, count)
        salt = stable_hash(self.salt, name, "created")

        def created_at(i: int) -> int:
            # strictly inside slot i, so created never decreases with the index
            jitter = (mix64(salt + i) % 900) / 1000.0
            return start + int((i + jitter) * step)

        if not catalog and not self.shape.is_even:
            # A growing account with bursty days: the same slots, moved along the shape's timeline.
            timeline, slots = self.shape.timeline(start, end), max(1, count)

            def created_at(i: int) -> int:  # the even layout above stays the default
                return timeline((i + (mix64(salt + i) % 900) / 1000.0) / slots)

        self._add(name, count, created_at, build, suffix_len)

    def _add_child(
        self,
        name: str,
        parent: Sequence,
        every: int,
        at: int,
        delay: int,
        build: Callable[[AccountData, int], Obj],
    ) -> None:
        """A resource made for every ``every``-th parent, ``delay`` seconds after it (only those already due)."""
        possible = (parent.base_count - at + every - 1) // every if parent.base_count > at else 0

        def created_at(k: int) -> int:
            return parent.created(k * every + at) + delay

        due = _bisect_count(possible, created_at, self.end)
        self._add(name, due, created_at, build)

    def _add_burst(self, name: str, count: int, build: Callable[[AccountData, int], Obj]) -> None:
        """``count`` objects, half of them in the last tenth of the history: uneven, like real growth."""
        start, end = self.start, self.end
        early = count // 2
        split = end - (end - start) // 10
        salt = stable_hash(self.salt, name, "created")

        def created_at(i: int) -> int:
            jitter = (mix64(salt + i) % 900) / 1000.0
            if i < early:
                return start + int((i + jitter) * (split - start) / max(1, early))
            return split + int((i - early + jitter) * (end - split) / max(1, count - early))

        self._add(name, count, created_at, build)

    def _add_growing(self, name: str, count: int, build: Callable[[AccountData, int], Obj]) -> None:
        """Objects whose rate grows over the history (a business adopting the feature): most are recent, and
        a burst of a tenth of them falls in one week, two thirds of the way through."""
        start, end = self.start, self.end
        salt = stable_hash(self.salt, name, "created")
        burst_from, burst = int(count * 0.6), max(1, count // 10)
        burst_start = start + int((end - start) * 2 / 3)

        def created_at(i: int) -> int:
            jitter = (mix64(salt + i) % 900) / 1000.0
            if i < burst_from:  # growing: the square root puts more objects in later slots
                return start + int((burst_start - start) * ((i + jitter) / burst_from) ** 0.5)
            if i < burst_from + burst:
                return burst_start + int((i - burst_from + jitter) * 7 * DAY / burst)
            rest, after = count - burst_from - burst, burst_start + 7 * DAY
            return after + int((end - after) * ((i - burst_from - burst + jitter) / rest) ** 0.5)

        self._add(name, count, created_at, build)

    # --- issue 9: H9 -------------------------------------------------------------------------------------------

    def _add_checkout_radar_issuing_files(self, n: int) -> None:
        """Payment links, shipping rates, setup attempts, files and links, Radar, Issuing: uneven on purpose
        (growing lists, bursts of authorizations, JPY/KWD amounts through ``fake.currency``)."""
        from emulators.stripe import objects_issuing, objects_radar_files, objects_storefront

        self._add_growing_in_bursts("payment_links", _clamp(2 + n // 20, 2, 20_000), objects_storefront.payment_link)
        self._add_spread("shipping_rates", _clamp(2 + n // 40, 2, 500), objects_storefront.shipping_rate, catalog=True)
        self._add_child("setup_attempts", self.seq["setup_intents"], 1, 0, 5, objects_storefront.setup_attempt)
        self._add_growing_in_bursts("files", n // 5, objects_radar_files.file)
        self._add_child(
            "file_links",
            self.seq["files"],
            FILE_LINK_EVERY,
            FILE_LINK_AT,
            FILE_LINK_DELAY,
            objects_radar_files.file_link,
        )
        charges = self.seq["charges"]
        self._add_child(
            "early_fraud_warnings", charges, EFW_EVERY, EFW_AT, EFW_DELAY, objects_radar_files.early_fraud_warning
        )
        self._add_child("reviews", charges, REVIEW_EVERY, REVIEW_AT, REVIEW_DELAY, objects_radar_files.review)
        self._add_growing_in_bursts("issuing_cardholders", max(2, n // 8), objects_issuing.cardholder)
        self._add_growing_in_bursts(
            "issuing_cards", max(3, n // 5), objects_issuing.card, floor=self.seq["issuing_cardholders"].created(0) + 60
        )
        first_card = self.seq["issuing_cards"].created(0) + 60
        self._add_growing_in_bursts(
            "issuing_authorizations", 2 * n, objects_issuing.authorization, floor=first_card, burst=AUTHORIZATION_BURST
        )
        auths = self.seq["issuing_authorizations"]
        self._add_child(
            "issuing_transactions", auths, TRANSACTION_EVERY, 0, TRANSACTION_DELAY, objects_issuing.transaction
        )
        self._add_child(
            "issuing_disputes",
            self.seq["issuing_transactions"],
            ISSUING_DISPUTE_EVERY,
            ISSUING_DISPUTE_AT,
            ISSUING_DISPUTE_DELAY,
            objects_issuing.dispute,
        )

    def _add_growing_in_bursts(
        self, name: str, count: int, build: Callable[[AccountData, int], Obj], *, floor: int = 0, burst: int = 1
    ) -> None:
        """``count`` objects whose density grows linearly over the history (a growing business), optionally
        in bursts of ``burst`` objects a few seconds apart; none before ``floor``."""
        start, end = max(self.start, floor), self.end
        span = max(1, end - start)
        blocks = max(1, (count + burst - 1) // burst)
        salt = stable_hash(self.salt, name, "created")

        def created_at(i: int) -> int:
            block, within = divmod(i, burst)
            jitter = (mix64(salt + block) % 900) / 1000.0
            return min(end, start + int(span * ((block + jitter) / blocks) ** 0.5) + 7 * within)

        self._add(name, count, created_at, build)

    def _price_created(self, p: int) -> int:
        offset = min(60, int(self._product_step / 2))
        return self.seq["products"].created(p // 2) + (p % 2) * offset

    def _promo_created(self, k: int) -> int:
        return self.seq["coupons"].created(k // 2) + (k % 2)

    def _merge_balance_transactions(self) -> None:
        charges, refunds, payouts = self.seq["charges"], self.seq["refunds"], self.seq["payouts"]

        def source(seq: Sequence, kind: int, keep: Callable[[int], bool]) -> Iterator[tuple[int, int, int]]:
            created = seq.created
            return ((created(i), kind, i) for i in range(seq.base_count) if keep(i))

        merged = heapq.merge(
            source(charges, TXN_CHARGE, lambda j: j % FAILED_EVERY != FAILED_AT),
            source(refunds, TXN_REFUND, lambda _k: True),
            source(payouts, TXN_PAYOUT, lambda _k: True),
        )
        self.txn_created = array("q")
        self.txn_kind = bytearray()
        self.txn_source = array("q")
        self.txn_of: dict[int, array] = {
            TXN_CHARGE: array("q", [-1]) * charges.base_count,
            TXN_REFUND: array("q", [-1]) * refunds.base_count,
            TXN_PAYOUT: array("q", [-1]) * payouts.base_count,
        }
        for t, (created, kind, i) in enumerate(merged):
            self.txn_created.append(created)
            self.txn_kind.append(kind)
            self.txn_source.append(i)
            self.txn_of[kind][i] = t
        self._add("balance_transactions", len(self.txn_kind), self.txn_created.__getitem__, objects_payments.txn)

    # ---- helpers the builders use -------------------------------------------------------------------------

    def rng(self, name: str, i: int) -> Rng:
        seed = self._rng_seeds.get(name)
        if seed is None:  # a hash per object built was a twentieth of building it: one per name instead
            seed = self._rng_seeds[name] = stable_hash(self.salt, name)
        return Rng(seed ^ (i * 0x2545F4914F6CDD1D))

    def pick(self, name: str, created: int, rng: Rng) -> str | None:
        """The id of a random object of ``name`` that existed at ``created`` (None if there was none)."""
        seq = self.seq[name]
        n = min(seq.base_count, count_at(seq, created))
        return seq.id_of(rng.below(n)) if n else None

    def pick_index(self, name: str, created: int, rng: Rng) -> int | None:
        seq = self.seq[name]
        n = min(seq.base_count, count_at(seq, created))
        return rng.below(n) if n else None

    def txn_id(self, kind: int, i: int) -> str | None:
        table = self.txn_of[kind]
        if i >= len(table) or table[i] < 0:
            return None
        return self.seq["balance_transactions"].id_of(table[i])


class PlanCodec(IdCodec):
    """Plan k is the k-th recurring price (prices p with p % 3 != 0) and carries that price's id."""

    def __init__(self, price_codec: IdCodec) -> None:
        super().__init__(price_codec.prefix, price_codec.salt, price_codec.suffix_len)

    def make(self, index: int) -> str:
        return super().make(plan_price(index))

    def index(self, object_id: str) -> int | None:
        p = super().index(object_id)
        if p is None or p % 3 == 0:
            return None
        return (p // 3) * 2 + (p % 3) - 1


def plan_price(k: int) -> int:
    """The price index a plan index mirrors."""
    return (k // 2) * 3 + 1 + (k % 2)


def is_recurring_price(p: int) -> bool:
    return p % 3 != 0


def price_plan(p: int) -> int:
    return (p // 3) * 2 + (p % 3) - 1


def _bisect_count(n: int, created_at: Callable[[int], int], end: int) -> int:
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if created_at(mid) <= end:
            lo = mid + 1
        else:
            hi = mid
    return lo
