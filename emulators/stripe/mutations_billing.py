"""``POST /_emulator/mutate {"billing": n}``: the billing and customer changes of issue 9 (H8), n of each.

Each round makes, with the events Stripe sends (and none where Stripe sends none):

- a payment method detached (``payment_method.detached``, the object with ``customer: null``) and one attached;
- a tax id added to a customer and one deleted (``customer.tax_id.created`` / ``.deleted``);
- a customer balance transaction: no event of its own, the customer's ``balance`` moves (``customer.updated``);
- a tax rate created and one changed (``tax_rate.created`` / ``.updated``);
- a subscription schedule released (``subscription_schedule.released``);
- a draft quote edited (**no event**: Stripe has no ``quote.updated``), another finalized (``quote.finalized``),
  and a new draft (``quote.created``);
- an open invoice payment paid (``invoice_payment.paid``), and an open invoice voided: ``invoice.voided``, while
  its payment is canceled with **no event** of its own;
- a credit note's line changed (``credit_note.updated``: lines have no events);
- a billing meter deactivated (``billing.meter.deactivated``).

The answer lists the ids per kind and stream: ``{"created": {...}, "updated": {...}, "deleted": {...},
"silent": {"quotes": [...]}}`` (``silent``: changed without an event; also listed under ``updated``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from emulators.stripe import objects_customer_billing as ocb
from emulators.stripe.events import EventLog
from emulators.stripe.generator import AccountData
from emulators.stripe.ids import Rng, stable_hash
from emulators.stripe.sequence import Obj, Sequence
from emulators.stripe.state import Emulator

_ATTEMPTS = 200
Result = dict[str, dict[str, list[str]]]


def mutate_billing(emulator: Emulator, account: str, rounds: int) -> Result:
    with emulator.lock:
        emulator.mutation_round += 1
        data, log = emulator.data[account], emulator.events[account]
        rng = Rng(stable_hash(emulator.seed, account, "mutate_billing", emulator.mutation_round))
        now = emulator.clock.now()
        result: Result = {"created": {}, "updated": {}, "deleted": {}, "silent": {}}
        change = _Changes(data, log, rng, now, result)
        for _ in range(max(0, rounds)):
            change.detach_payment_method()
            change.attach_payment_method()
            change.add_tax_id()
            change.delete_tax_id()
            change.add_balance_transaction()
            change.create_tax_rate()
            change.update_tax_rate()
            change.release_schedule()
            change.edit_draft_quote()
            change.finalize_quote()
            change.create_quote()
            change.pay_invoice_payment()
            change.void_invoice_with_its_payment()
            change.change_credit_note_line()
            change.deactivate_meter()
        return result


class _Changes:
    def __init__(self, data: AccountData, log: EventLog, rng: Rng, now: int, result: Result) -> None:
        self.data, self.log, self.rng, self.now, self.result = data, log, rng, now, result
        self.touched: set[str] = set()  # one change per object per call, so each change is seen on its own

    def _note(self, kind: str, stream: str, object_id: str) -> None:
        self.result[kind].setdefault(stream, []).append(object_id)
        self.touched.add(object_id)

    # ---- a customer's lists ---------------------------------------------------------------------------------

    def _customer_with(self, stream: str, want: Callable[[list[Obj]], bool]) -> int | None:
        customers = self.data.seq["customers"]
        for _ in range(_ATTEMPTS):
            c = self.rng.below(customers.base_count) if customers.base_count else 0
            live = customers.is_live(c) and customers.get(c)["id"] not in self.touched
            if live and want(ocb.customer_children(self.data, stream, c)):
                return c
        return None

    def _set_list(self, stream: str, c: int, items: list[Obj]) -> None:
        self.data.customer_lists[stream][c] = items

    def _new_child(self, stream: str, c: int) -> Obj:
        customer = self.data.seq["customers"].get(c)
        current = ocb.customer_children(self.data, stream, c)
        # index slots past the generated ones: position = how many this customer ever had
        added = self.data.customer_lists_added
        position = len(ocb.generated_children(self.data, stream, c)) + added.get((stream, c), 0)
        added[(stream, c)] = added.get((stream, c), 0) + 1
        builder = {"payment_methods": ocb.payment_method, "tax_ids": ocb.tax_id,
                   "customer_balance_transactions": ocb.balance_txn}[stream]  # fmt: skip
        obj = builder(self.data, customer, c * ocb.CHILDREN_PER_CUSTOMER + position, self.now, self.rng)
        self._set_list(stream, c, [obj, *current])
        return obj

    def detach_payment_method(self) -> None:
        c = self._customer_with("payment_methods", bool)
        if c is None:
            return
        items = ocb.customer_children(self.data, "payment_methods", c)
        gone = items[self.rng.below(len(items))]
        self._set_list("payment_methods", c, [item for item in items if item["id"] != gone["id"]])
        detached = {**copy.deepcopy(gone), "customer": None}
        self.data.detached[gone["id"]] = detached
        self.log.record("payment_method.detached", detached, self.now, {"customer": gone["customer"]})
        self._note("deleted", "payment_methods", gone["id"])

    def attach_payment_method(self) -> None:
        c = self._customer_with("payment_methods", lambda items: len(items) < 4)
        if c is None:
            return
        obj = self._new_child("payment_methods", c)
        self.log.record("payment_method.attached", obj, self.now, {"customer": None})
        self._note("created", "payment_methods", obj["id"])

    def add_tax_id(self) -> None:
        c = self._customer_with("tax_ids", lambda items: not items)
        if c is None:
            return
        obj = self._new_child("tax_ids", c)
        self.log.record("customer.tax_id.created", obj, self.now)
        self._note("created", "tax_ids", obj["id"])

    def delete_tax_id(self) -> None:
        c = self._customer_with("tax_ids", bool)
        if c is None:
            return
        items = ocb.customer_children(self.data, "tax_ids", c)
        gone = items[0]
        self._set_list("tax_ids", c, items[1:])
        self.log.record("customer.tax_id.deleted", {**gone, "deleted": True}, self.now)
        self._note("deleted", "tax_ids", gone["id"])

    def add_balance_transaction(self) -> None:
        stream = "customer_balance_transactions"
        c = self._customer_with(stream, lambda _items: True)
        if c is None:
            return
        customers = self.data.seq["customers"]
        old = customers.get(c)
        before = ocb.customer_children(self.data, stream, c)
        balance = before[0]["ending_balance"] if before else old["balance"]
        obj = self._new_child(stream, c)
        obj["ending_balance"] = balance + obj["amount"]
        customer = {**copy.deepcopy(old), "balance": obj["ending_balance"]}
        customers.replace(c, customer)
        # The only trace Stripe leaves: the customer's balance changed.
        self.log.record("customer.updated", customer, self.now, {"balance": old["balance"]})
        self._note("created", stream, obj["id"])
        self._note("updated", "customers", customer["id"])

    # ---- billing documents and references ---------------------------------------------------------------------

    def _pick(self, stream: str, want: Callable[[Obj], bool]) -> int | None:
        seq = self.data.seq[stream]
        for _ in range(_ATTEMPTS if len(seq) else 0):
            index = self.rng.below(len(seq))
            if seq.is_live(index) and seq.id_of(index) not in self.touched and want(seq.get(index)):
                return index
        return None

    def _replace(self, seq: Sequence, index: int, changes: dict[str, Any]) -> tuple[Obj, dict[str, Any]]:
        old = seq.get(index)
        new = {**copy.deepcopy(old), **changes}
        seq.replace(index, new)
        return new, {key: old.get(key) for key in changes}

    def _append(self, stream: str, changes: dict[str, Any]) -> Obj:
        seq = self.data.seq[stream]
        template = seq.original(self.rng.below(seq.base_count)) if seq.base_count else seq.get(len(seq) - 1)
        obj = {**copy.deepcopy(template), **changes, "id": seq.id_of(len(seq)), "created": self.now}
        seq.append(obj, self.now)
        return obj

    def create_tax_rate(self) -> None:
        obj = self._append("tax_rates", {"active": True, "display_name": "VAT", "percentage": 17.0,
                                         "effective_percentage": 17.0, "country": "LU", "jurisdiction": "LU",
                                         "description": "VAT LU 17%", "inclusive": True})  # fmt: skip
        self.log.record("tax_rate.created", obj, self.now)
        self._note("created", "tax_rates", obj["id"])

    def update_tax_rate(self) -> None:
        index = self._pick("tax_rates", lambda o: o["created"] < self.now)
        if index is None:
            return
        seq = self.data.seq["tax_rates"]
        new, previous = self._replace(seq, index, {"active": not seq.get(index)["active"]})
        self.log.record("tax_rate.updated", new, self.now, previous)
        self._note("updated", "tax_rates", new["id"])

    def release_schedule(self) -> None:
        index = self._pick("subscription_schedules", lambda o: o["status"] in ("active", "not_started"))
        if index is None:
            return
        seq = self.data.seq["subscription_schedules"]
        sub = seq.get(index)["subscription"]
        new, previous = self._replace(
            seq,
            index,
            {"status": "released", "released_at": self.now, "released_subscription": sub, "subscription": None,
             "current_phase": None},
        )  # fmt: skip
        self.log.record("subscription_schedule.released", new, self.now, previous)
        self._note("updated", "subscription_schedules", new["id"])

    def edit_draft_quote(self) -> None:
        index = self._pick("quotes", lambda o: o["status"] == "draft")
        if index is None:
            return
        seq = self.data.seq["quotes"]
        amount = seq.get(index)["amount_total"] * 2
        new, _ = self._replace(
            seq, index, {"description": f"Quote for {1 + self.rng.below(400)} seats (edited)",
                         "amount_subtotal": amount, "amount_total": amount},
        )  # fmt: skip
        self._note("updated", "quotes", new["id"])  # no event: Stripe has no quote.updated
        self.result["silent"].setdefault("quotes", []).append(new["id"])

    def finalize_quote(self) -> None:
        index = self._pick("quotes", lambda o: o["status"] == "draft")
        if index is None:
            return
        seq = self.data.seq["quotes"]
        transitions = {**seq.get(index)["status_transitions"], "finalized_at": self.now}
        new, previous = self._replace(
            seq, index, {"status": "open", "number": f"QT-F{index:05d}", "status_transitions": transitions}
        )
        self.log.record("quote.finalized", new, self.now, previous)
        self._note("updated", "quotes", new["id"])

    def create_quote(self) -> None:
        obj = self._append("quotes", {"status": "draft", "number": None, "description": "New draft quote",
                                      "status_transitions": {"accepted_at": None, "canceled_at": None,
                                                             "finalized_at": None}})  # fmt: skip
        self.log.record("quote.created", obj, self.now)
        self._note("created", "quotes", obj["id"])

    def pay_invoice_payment(self) -> None:
        index = self._pick("invoice_payments", lambda o: o["status"] == "open")
        if index is None:
            return
        seq = self.data.seq["invoice_payments"]
        old = seq.get(index)
        transitions = {**old["status_transitions"], "paid_at": self.now}
        new, previous = self._replace(
            seq, index, {"status": "paid", "amount_paid": old["amount_requested"], "status_transitions": transitions}
        )
        self.log.record("invoice_payment.paid", new, self.now, previous)
        self._note("updated", "invoice_payments", new["id"])

    def void_invoice_with_its_payment(self) -> None:
        index = self._pick("invoice_payments", lambda o: o["status"] == "open")
        if index is None:
            return
        payments, invoices = self.data.seq["invoice_payments"], self.data.seq["invoices"]
        invoice_index = invoices.index_of(payments.get(index)["invoice"])
        if invoice_index is None or not invoices.is_live(invoice_index):
            return
        old_invoice = invoices.get(invoice_index)
        transitions = {**old_invoice["status_transitions"], "voided_at": self.now}
        voided = {"status": "void", "status_transitions": transitions}
        invoice, previous = self._replace(invoices, invoice_index, voided)
        self.log.record("invoice.voided", invoice, self.now, previous)
        payment_transitions = {**payments.get(index)["status_transitions"], "canceled_at": self.now}
        payment, _ = self._replace(payments, index, {"status": "canceled", "status_transitions": payment_transitions})
        self._note("updated", "invoices", invoice["id"])
        self._note("updated", "invoice_payments", payment["id"])
        self.result["silent"].setdefault("invoice_payments", []).append(payment["id"])

    def change_credit_note_line(self) -> None:
        index = self._pick("credit_notes", lambda o: bool(o["lines"]["data"]))
        if index is None:
            return
        seq = self.data.seq["credit_notes"]
        old = seq.get(index)
        lines = copy.deepcopy(old["lines"])
        lines["data"][0]["description"] = f"Credit adjusted {self.rng.below(1000)}"
        new, previous = self._replace(seq, index, {"lines": lines, "memo": "Adjusted"})
        self.log.record("credit_note.updated", new, self.now, previous)
        self._note("updated", "credit_notes", new["id"])
        self._note("updated", "credit_note_line_items", lines["data"][0]["id"])

    def deactivate_meter(self) -> None:
        index = self._pick("billing_meters", lambda o: o["status"] == "active")
        if index is None:
            return
        seq = self.data.seq["billing_meters"]
        new, previous = self._replace(
            seq, index, {"status": "inactive", "status_transitions": {"deactivated_at": self.now}, "updated": self.now}
        )
        self.log.record("billing.meter.deactivated", new, self.now, previous)
        self._note("updated", "billing_meters", new["id"])
