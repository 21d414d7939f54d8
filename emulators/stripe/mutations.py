"""``POST /_emulator/mutate``: updates, deletions, creations and child removals with the events Stripe would send.

Changes are spread round-robin over resource types and pick objects with a seeded random source, so the same
sequence of calls on the same emulator always touches the same ids. Every event is stamped with the emulator's
now and carries the object unexpanded (``previous_attributes`` for updates, ``deleted: true`` for deletions).

A removed subscription item has no event of its own, as on Stripe: the subscription's
``customer.subscription.updated`` shows the list without it and lists the old items under
``previous_attributes.items``. The item is then gone from the subscription, so neither listed nor retrievable.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from emulators.stripe import fake
from emulators.stripe.events import CREATE_TYPES, DELETE_TYPES, UPDATE_TYPES, EventLog
from emulators.stripe.generator import AccountData
from emulators.stripe.ids import Rng, stable_hash
from emulators.stripe.sequence import Obj, Sequence
from emulators.stripe.state import Emulator

UPDATABLE = ("customers", "charges", "invoices", "subscriptions", "products", "prices", "coupons", "promotion_codes",
             "disputes", "payouts", "refunds", "transfers", "credit_notes", "plans",
             # --- issue 9: H9 (shipping rates and file links change without an event, as on Stripe)
             "payment_links", "shipping_rates", "file_links", "early_fraud_warnings", "reviews",
             "issuing_cardholders", "issuing_cards", "issuing_authorizations", "issuing_transactions",
             "issuing_disputes")  # fmt: skip
DELETABLE = ("customers", "products", "coupons", "invoice_items", "plans")
CREATABLE = ("customers", "payment_intents", "products", "invoice_items", "coupons", "setup_intents", "prices",
             # --- issue 9: H9 (a shipping rate or file link is created without an event)
             "payment_links", "shipping_rates", "files", "file_links", "early_fraud_warnings", "reviews",
             "issuing_cardholders", "issuing_cards", "issuing_authorizations", "issuing_transactions",
             "issuing_disputes")  # fmt: skip
_ATTEMPTS = 50
OPEN_SESSION_URL = "https://checkout.stripe.com/c/pay/emulator"
# Stripe refuses to change the items of a subscription that has ended.
_ENDED = frozenset({"canceled", "incomplete_expired"})

Touched = dict[str, list[str]]


def mutate(
    emulator: Emulator,
    account: str,
    *,
    updates: int,
    deletes: int,
    creates: int,
    remove_items: int = 0,
    attach_items: int = 0,
    reverse_transfers: int = 0,
    creates_without_event: dict[str, int] | None = None,
    resources: list[str] | None = None,
    confirm_setup_intents: int = 0,
) -> dict[str, Touched]:
    """Apply the changes at the emulator's now; returns the ids touched per stream name.

    ``removed`` (subscription items taken out of their subscription) is in the answer only when
    ``remove_items`` asked for removals, so the answer to other calls keeps its shape; the same for the
    changes Stripe sends no event for:

    - ``creates_without_event`` (stream -> count): objects created with no event, as a checkout session is
      (it stays ``open`` without one until it completes or expires); answered under ``created_without_event``;
    - ``attach_items``: a new invoice (``invoice.created``) takes a pending invoice item, which changes with no
      event of its own (Stripe removed ``invoiceitem.updated``); answered under ``attached``;
    - ``reverse_transfers``: a transfer is reversed in part (``transfer.reversed``), answered under ``reversed``.

    ``confirm_setup_intents``: setup intents waiting for a payment method are confirmed: each gets a new setup
    attempt (no event of its own, as on Stripe) and ``setup_intent.succeeded``; answered under ``confirmed``.

    ``resources`` limits the rotation of updates, deletes and creates to those streams (in the rotation's order),
    for tests about a few streams.
    """
    updatable, deletable, creatable = (_only(kinds, resources) for kinds in (UPDATABLE, DELETABLE, CREATABLE))
    with emulator.lock:
        emulator.mutation_round += 1
        data, log = emulator.data[account], emulator.events[account]
        rng = Rng(stable_hash(emulator.seed, account, "mutate", emulator.mutation_round))
        now = emulator.clock.now()
        result: dict[str, Touched] = {"updated": {}, "deleted": {}, "created": {}}
        rev = str(emulator.mutation_round)
        for n in range(max(0, updates)):
            stream = _first_nonempty(data, updatable, n + emulator.mutation_round - 1)
            index = _live_index(data.seq[stream], rng) if stream else None
            if stream and index is not None:
                _update(data.seq[stream], index, log, now, rng, rev)
                result["updated"].setdefault(stream, []).append(data.seq[stream].id_of(index))
        for n in range(max(0, deletes)):
            stream = _first_nonempty(data, deletable, n + emulator.mutation_round - 1)
            index = _live_index(data.seq[stream], rng) if stream else None
            if stream and index is not None:
                for gone, object_id in _delete(data, stream, index, log, now):
                    result["deleted"].setdefault(gone, []).append(object_id)
        for n in range(max(0, creates)):
            stream = _first_nonempty(data, creatable, n + emulator.mutation_round - 1)
            if stream:
                result["created"].setdefault(stream, []).append(_create(data.seq[stream], log, now, rng))
        if remove_items > 0:  # last, so the other changes pick the same objects with or without removals
            removed = _remove_subscription_items(data.seq["subscriptions"], remove_items, log, now, rng)
            result["removed"] = {"subscription_items": removed}
        # --- issue 9: H7 (changes without an event of their own), after everything else for the same reason
        for stream, count in (creates_without_event or {}).items():
            silent = result.setdefault("created_without_event", {}).setdefault(stream, [])
            silent += [_create(data.seq[stream], log, now, rng, event=False) for _ in range(max(0, count))]
        if attach_items > 0:
            result["attached"] = _attach_invoice_items(data, attach_items, log, now, rng)
        if reverse_transfers > 0:
            result["reversed"] = {
                "transfers": _reverse_transfers(data.seq["transfers"], reverse_transfers, log, now, rng)
            }
        # --- issue 9: H9
        if confirm_setup_intents > 0:
            result["confirmed"] = _confirm_setup_intents(data, confirm_setup_intents, log, now)
        return result


def _confirm_setup_intents(data: AccountData, count: int, log: EventLog, now: int) -> Touched:
    """Confirm up to ``count`` setup intents in ``requires_payment_method``, newest first: a new attempt each."""
    from emulators.stripe.objects_storefront import attempt_for

    intents, attempts = data.seq["setup_intents"], data.seq["setup_attempts"]
    waiting = (i for i in intents.live_desc() if intents.get(i)["status"] == "requires_payment_method")
    confirmed: Touched = {"setup_intents": [], "setup_attempts": []}
    for index in itertools.islice(waiting, max(0, count)):
        old = intents.get(index)
        new = {**copy.deepcopy(old), "status": "succeeded", "payment_method": "pm_" + old["id"][5:]}
        attempt = attempt_for(new, attempts.id_of(len(attempts)), now)
        attempts.append(attempt, now)
        new["latest_attempt"] = attempt["id"]
        intents.replace(index, new)
        log.record("setup_intent.succeeded", new, now, {"status": old["status"], "latest_attempt": None})
        confirmed["setup_intents"].append(str(new["id"]))
        confirmed["setup_attempts"].append(str(attempt["id"]))
    return confirmed


def _only(streams: tuple[str, ...], resources: list[str] | None) -> tuple[str, ...]:
    return streams if resources is None else tuple(s for s in streams if s in resources)


def _attach_invoice_items(data: AccountData, count: int, log: EventLog, now: int, rng: Rng) -> Touched:
    """``count`` invoice items each attached to a new invoice: only the invoice has an event (``invoice.created``)."""
    items, invoices = data.seq["invoice_items"], data.seq["invoices"]
    attached: Touched = {"invoice_items": [], "invoices": []}
    for _ in range(count):
        index = _live_index(items, rng)
        if index is None or not invoices.base_count:
            break
        item = copy.deepcopy(items.get(index))
        invoice = copy.deepcopy(invoices.original(rng.below(invoices.base_count)))
        invoice_index = len(invoices)
        invoice_id = invoices.id_of(invoice_index)
        line = {
            **copy.deepcopy(invoice["lines"]["data"][0]),
            "id": "il_" + item["id"][len("ii_") :],
            "amount": item["amount"],
            "currency": item["currency"],
            "description": item.get("description"),
            "invoice": invoice_id,
            "subtotal": item["amount"],
            "quantity": 1,
        }
        lines = {**invoice["lines"], "data": [line], "total_count": 1, "url": f"/v1/invoices/{invoice_id}/lines"}
        total = item["amount"]
        invoice.update(
            id=invoice_id, created=now, customer=item["customer"], currency=item["currency"], status="draft",
            lines=lines, amount_due=total, amount_paid=0, amount_remaining=total, subtotal=total, total=total,
            metadata={"emulator_created": "true"},
        )  # fmt: skip
        invoices.append(invoice, now)
        log.record(CREATE_TYPES["invoices"], invoice, now)
        item["invoice"] = invoice_id
        items.replace(index, item)  # no event: Stripe sends none for the item
        attached["invoice_items"].append(str(item["id"]))
        attached["invoices"].append(invoice_id)
    return attached


def _reverse_transfers(transfers: Sequence, count: int, log: EventLog, now: int, rng: Rng) -> list[str]:
    """Reverse a third of ``count`` transfers; the reversal shows in the transfer's ``transfer.reversed`` event."""
    from emulators.stripe.objects_connect import transfer_reversal

    reversed_ids: list[str] = []
    for _ in range(count):
        index = _live_index(transfers, rng)
        if index is None:
            break
        old = transfers.get(index)
        new = copy.deepcopy(old)
        existing = new["reversals"]["data"]
        amount = max(1, (new["amount"] - new["amount_reversed"]) // 3)
        reversal = transfer_reversal(new["id"], len(existing), new["currency"], amount, now)
        new["reversals"] = {**new["reversals"], "data": [reversal, *existing], "total_count": len(existing) + 1}
        new["amount_reversed"] += amount
        transfers.replace(index, new)
        log.record("transfer.reversed", new, now, {"amount_reversed": old["amount_reversed"],
                                                   "reversals": copy.deepcopy(old["reversals"])})  # fmt: skip
        reversed_ids.append(str(new["id"]))
    return reversed_ids


def _first_nonempty(data: AccountData, streams: tuple[str, ...], start: int) -> str | None:
    for step in range(len(streams)):
        stream = streams[(start + step) % len(streams)]
        seq = data.seq[stream]
        if len(seq) > len(seq.deleted):
            return stream
    return None


def _live_index(seq: Sequence, rng: Rng) -> int | None:
    for _ in range(_ATTEMPTS):
        index = rng.below(len(seq))
        if seq.is_live(index):
            return index
    return next(seq.live_desc(), None)


def _update(seq: Sequence, index: int, log: EventLog, now: int, rng: Rng, rev: str) -> None:
    old = seq.get(index)
    new = copy.deepcopy(old)
    changed = []
    if "metadata" in old:  # Radar objects and files have no metadata
        new["metadata"] = {**(old.get("metadata") or {}), "emulator_rev": rev}
        changed.append("metadata")
    if seq.name == "customers":
        new["name"], new["email"] = fake.person(rng)
        changed += ["name", "email"]
    elif "description" in old and seq.name not in ("payouts",):
        new["description"] = f"Updated description {rev}-{rng.below(10_000)}"
        changed.append("description")
    elif "name" in old:
        new["name"] = f"{old['name']} (rev {rev})"
        changed.append("name")
    elif seq.name in ("prices", "plans"):
        new["nickname"] = f"Nickname rev {rev}"
        changed.append("nickname")
    if "updated" in old:
        new["updated"] = now
        changed.append("updated")
    changed += _lifecycle_change(seq.name, new, now)
    seq.replace(index, new)
    previous = {key: old.get(key) for key in changed}
    if seq.name in UPDATE_TYPES:  # shipping rates and file links change with no event at all
        log.record(UPDATE_TYPES[seq.name], new, now, previous)


def _lifecycle_change(stream: str, obj: Obj, now: int) -> list[str]:
    """The change that object's lifecycle makes (a review closed, a rate archived); the fields it touched."""
    if stream == "reviews":
        obj.update(open=False, closed_reason="approved", reason="approved")
        return ["open", "closed_reason", "reason"]
    if stream in ("shipping_rates", "payment_links"):
        obj["active"] = not obj["active"]
        return ["active"]
    if stream == "file_links":
        obj.update(expires_at=now + 3600, expired=False)
        return ["expires_at", "expired"]
    if stream == "issuing_cards":
        obj["status"] = "inactive" if obj["status"] == "active" else "active"
        return ["status"]
    if stream == "early_fraud_warnings":
        obj["actionable"] = False  # the charge was refunded or disputed since
        return ["actionable"]
    if stream == "issuing_disputes":
        obj["status"] = "submitted"
        return ["status"]
    return []


def _delete(data: AccountData, stream: str, index: int, log: EventLog, now: int) -> list[tuple[str, str]]:
    seq = data.seq[stream]
    last = {**seq.get(index), "deleted": True}
    seq.delete(index)
    log.record(DELETE_TYPES[stream], last, now)
    gone = [(stream, seq.id_of(index))]
    if stream == "plans":  # a plan and the price with its id are one object to Stripe
        prices = data.seq["prices"]
        price_index = prices.index_of(seq.id_of(index))
        if price_index is not None and prices.is_live(price_index):
            price = {**prices.get(price_index), "deleted": True}
            prices.delete(price_index)
            log.record(DELETE_TYPES["prices"], price, now)
            gone.append(("prices", price["id"]))
    return gone


def _remove_subscription_items(subs: Sequence, count: int, log: EventLog, now: int, rng: Rng) -> list[str]:
    """Take one item out of each of ``count`` ongoing subscriptions with more than one item; the removed ids."""
    chosen: list[int] = []
    for _ in range(count):
        index = _removable_subscription(subs, set(chosen), rng)
        if index is None:
            break
        chosen.append(index)
    removed: list[str] = []
    for index in chosen:
        old = subs.get(index)
        items = old["items"]["data"]
        gone = items[rng.below(len(items))]
        kept = [item for item in items if item["id"] != gone["id"]]
        new = copy.deepcopy(old)
        new["items"] = {**new["items"], "data": copy.deepcopy(kept), "total_count": len(kept)}
        subs.replace(index, new)
        log.record(UPDATE_TYPES["subscriptions"], new, now, {"items": copy.deepcopy(old["items"])})
        removed.append(str(gone["id"]))
    return removed


def _removable_subscription(subs: Sequence, taken: set[int], rng: Rng) -> int | None:
    def removable(index: int) -> bool:
        if index in taken or not subs.is_live(index):
            return False
        sub = subs.get(index)
        return sub["status"] not in _ENDED and len(sub["items"]["data"]) > 1

    for _ in range(_ATTEMPTS if len(subs) else 0):
        index = rng.below(len(subs))
        if removable(index):
            return index
    return next((index for index in subs.live_desc() if removable(index)), None)


def _create(seq: Sequence, log: EventLog, now: int, rng: Rng, *, event: bool = True) -> str:
    """A new object modelled on a random generated one, created now (with its creation event unless not)."""
    template = seq.original(rng.below(seq.base_count)) if seq.base_count else seq.get(len(seq) - 1)
    obj: dict[str, Any] = copy.deepcopy(template)
    new_index = len(seq)
    obj["id"] = seq.id_of(new_index)
    if "created" in obj or "date" in obj:  # a payment link has neither
        obj["created" if "created" in obj else "date"] = now
    if "metadata" in obj:
        obj["metadata"] = {"emulator_created": "true"}
    _fresh_fields(seq.name, obj, rng, now)
    seq.append(obj, now)
    if event and seq.name in CREATE_TYPES:  # shipping rates and file links are created with no event at all
        log.record(CREATE_TYPES[seq.name], obj, now)
    return str(obj["id"])


def _fresh_fields(stream: str, obj: Obj, rng: Rng, now: int) -> None:
    if stream == "customers":
        obj["name"], obj["email"] = fake.person(rng)
    elif stream in ("payment_intents", "setup_intents"):
        obj.update(status="requires_payment_method", payment_method=None)
        obj["client_secret"] = f"{obj['id']}_secret_{rng.text(24)}"
        if stream == "payment_intents":
            obj.update(latest_charge=None, amount_received=0, last_payment_error=None)
        else:
            obj["latest_attempt"] = None  # not confirmed yet: no setup attempt
    elif stream == "products":
        obj.update(name=f"New product {rng.text(6)}", default_price=None, updated=now)
    elif stream == "coupons":
        obj.update(times_redeemed=0, name=f"New coupon {rng.text(4)}")
    elif stream == "invoice_items":
        obj.update(invoice=None, period={"start": now, "end": now})
    elif stream == "checkout_sessions":  # a session just opened: nothing paid, no customer details yet
        obj.update(status="open", payment_status="unpaid", customer_details=None, payment_intent=None,
                   subscription=None, expires_at=now + 86_400, url=OPEN_SESSION_URL)  # fmt: skip
