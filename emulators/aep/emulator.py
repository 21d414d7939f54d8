"""Every service behind the emulator's one port, wired once."""

from __future__ import annotations

from pathlib import Path

from emulators.aep.batches import BatchService
from emulators.aep.config import DEFAULT_SANDBOXES
from emulators.aep.faults import FaultPlan, Stats
from emulators.aep.ims import TokenIssuer
from emulators.aep.permissions import Permissions
from emulators.aep.request_log import RequestLog
from emulators.aep.row_refusals import RowRefusals
from emulators.aep.sandbox import SandboxDirectory
from emulators.aep.store import LandingStore
from emulators.aep.streaming import StreamingService


class Emulator:
    def __init__(
        self,
        store_dir: Path,
        token_ttl: int,
        latency_ms: float,
        fault_rate: float,
        batch_processing_ms: float,
        sandboxes: list[str] | None = None,
        sandbox_preset: str | None = None,
    ) -> None:
        self.stats = Stats()
        self.faults = FaultPlan(latency_ms, fault_rate, batch_processing_ms)
        self.tokens = TokenIssuer(token_ttl)
        self.sandboxes = SandboxDirectory(list(sandboxes or DEFAULT_SANDBOXES), sandbox_preset)
        self.store = LandingStore(store_dir)
        self.row_refusals = RowRefusals()
        self.batches = BatchService(self.store, self.faults, self.stats, self.row_refusals)
        self.streaming = StreamingService(self.sandboxes, self.store, self.stats)
        self.permissions = Permissions()
        self.requests = RequestLog()
