"""What one emulator process holds: every account's data and events, the clock, the knobs and the counters."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from emulators.stripe.events import EventLog
from emulators.stripe.generator import DAY, PLATFORM_ACCOUNT, AccountData
from emulators.stripe.shape import Shape

API_KEY = "sk_test_emulator_0000000000000000"
RESTRICTED_KEY = "rk_test_emulator_limited000000000"
KEYS = {API_KEY, RESTRICTED_KEY}


@dataclass
class Knobs:
    """Fault injection settings, changeable at run time through ``POST /_emulator/faults``."""

    latency_ms: float = 0.0
    rate_limit: float = 0.0
    fault_rate: float = 0.0


@dataclass
class Stats:
    requests: int = 0
    rate_limited: int = 0
    faults: int = 0
    errors: int = 0
    by_path: dict[str, int] = field(default_factory=dict)


class Clock:
    """The emulator's now: wall time since start, plus whatever ``/_emulator/clock`` added.

    Generated data is anchored at the start of the current UTC day, so it is the same all day for one seed.
    """

    def __init__(self, now: int | None = None) -> None:
        self._started_wall = time.time()
        self.start = int(now if now is not None else self._started_wall)
        self.anchor = self.start - self.start % DAY
        self.advanced = 0

    def now(self) -> int:
        return self.start + int(time.time() - self._started_wall) + self.advanced

    def advance(self, seconds: int) -> int:
        self.advanced += max(0, int(seconds))
        return self.now()


class Emulator:
    """Accounts (the platform plus Connect accounts), each with its own data and events."""

    def __init__(
        self,
        *,
        seed: int,
        customers: int,
        accounts: list[str],
        history_days: int,
        api_version: str,
        knobs: Knobs,
        now: int | None = None,
        shape: Shape | None = None,
    ) -> None:
        self.seed = seed
        self.shape = shape or Shape()
        self.clock = Clock(now)
        self.knobs = knobs
        self.stats = Stats()
        self.api_version = api_version
        self.lock = threading.RLock()  # mutations are rare: one lock keeps them simple and reads consistent
        self.mutation_round = 0
        # account -> products it has not activated (``emulators.stripe.products``); all accounts have all by default
        self.disabled_products: dict[str, set[str]] = {}
        self.data: dict[str, AccountData] = {}
        self.events: dict[str, EventLog] = {}
        # Connected accounts added at run time (``POST /_emulator/accounts``): created at that moment.
        self.account_created: dict[str, int] = {}
        self.removed_persons: dict[str, set[str]] = {}
        self.account_overrides: dict[str, dict[str, object]] = {}
        # Every ``Stripe-Context`` header value seen (Stripe Organizations), for tests to check it was sent.
        self.stripe_contexts: set[str] = set()
        self._customers = customers
        self._history_days = history_days
        connected = [a for a in accounts if a and a != PLATFORM_ACCOUNT]
        for account in [PLATFORM_ACCOUNT, *connected]:
            data = AccountData(
                seed=seed,
                customers=customers,
                account=account,
                anchor=self.clock.anchor,
                history_days=history_days,
                shape=self.shape,
            )
            data.destinations = connected
            self.data[account] = data
            self.events[account] = EventLog(data, api_version)

    def prebuild(self) -> int:
        """Build every account's generated objects and events before serving (``--prebuild``): a benchmark then
        measures the client against the configured latency, not against the emulator building objects on the
        same cores. Returns how many objects were built. Accounts added later (``add_account``) stay lazy."""
        built = 0
        for account, data in self.data.items():
            for seq in data.seq.values():
                built += seq.prebuild()
            built += self.events[account].seq.prebuild()
        return built

    def add_account(self, account: str) -> dict[str, object]:
        """A connected account created now (no event: Stripe sends none when an account is created)."""
        data = AccountData(
            seed=self.seed,
            customers=self._customers,
            account=account,
            anchor=self.clock.anchor,
            history_days=self._history_days,
            shape=self.shape,
        )
        data.destinations = [a for a in self.data if a != PLATFORM_ACCOUNT]
        self.data[account] = data
        self.events[account] = EventLog(data, self.api_version)
        self.account_created[account] = self.clock.now()
        return self.account_object(account)

    def account_object(self, account: str) -> dict[str, Any]:
        from emulators.stripe.objects_connect import embedded_list, external_accounts

        platform = account == PLATFORM_ACCOUNT
        data = self.data[account]
        banks = external_accounts(account, self.seed)
        return {
            **self._account_fields(account, platform, data),
            "created": self.account_created.get(account, data.start),
            "external_accounts": embedded_list(banks, f"/v1/accounts/{account}/external_accounts"),
            **self.account_overrides.get(account, {}),
        }

    def _account_fields(self, account: str, platform: bool, data: AccountData) -> dict[str, Any]:
        return {
            "id": account,
            "object": "account",
            "business_profile": {"name": "Emulator Platform" if platform else f"Connected {account}", "url": None},
            "business_type": "company",
            "capabilities": {"card_payments": "active", "transfers": "active"},
            "charges_enabled": True,
            "country": "US",
            "created": data.start,
            "default_currency": "usd",
            "details_submitted": True,
            "email": f"owner@{account}.example.com",
            "metadata": {},
            "payouts_enabled": True,
            "settings": {"dashboard": {"display_name": "Emulator", "timezone": "Etc/UTC"}},
            "type": "standard",
        }
