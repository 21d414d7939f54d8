"""Run the tap's CLI traced: every N seconds RSS, what the reads ahead hold, top allocations; requests per second.

``python -m bench.tap_trace OUT SECONDS -- <tap arguments>`` (``bench_tap --trace OUT`` runs it).
Each tick appends to ``OUT``: the process's RSS, per partition read ahead the batches buffered and the objects in
them, and (with ``TRACEMALLOC=1``, several times slower) the 12 largest allocation sites since start; with
``MALLOC_STATS=1``, glibc's ``malloc_stats()`` and Python's ``sys._debugmallocstats()`` on the tap's stderr. With
``TRACE_REQUESTS=1``, at exit: per second of the run, the requests sent (tokens taken), the requests in flight on
average and the streams they were for: where the rate limit sat idle. Issue 10's memory defect (RSS growing with
the history at 100 requests/s) was found with it.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time
import tracemalloc
from typing import Any


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _malloc() -> str:
    """glibc's heap (in use, free inside it, mmapped blocks) and Python's allocated blocks: where RSS sits."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return f"    python blocks {sys.getallocatedblocks():,}"
    mb = 2**20
    return (
        f"    malloc in use {info.uordblks / mb:.0f} MB, free in heap {info.fordblks / mb:.0f} MB, "
        f"mmapped {info.hblkhd / mb:.0f} MB; python blocks {sys.getallocatedblocks():,}"
    )


_taps: list[Any] = []


def _tap() -> Any:
    """The tap of this process (registered when built: ``gc.get_objects`` misses it once the tap freezes its
    set-up, ``gc_policy.py``)."""
    return _taps[0] if _taps else None


def _register_taps() -> None:
    from tap_stripe_aep.tap import TapStripeAEP

    init = TapStripeAEP.__init__

    def registered(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        _taps.append(self)

    TapStripeAEP.__init__ = registered  # type: ignore[method-assign]


def _read_ahead(tap: Any) -> list[str]:
    prefetcher = tap.__dict__.get("prefetcher")
    if prefetcher is None:
        return []
    lines = []
    for key, items in prefetcher.buffered().items():
        objects = sum(len(objects) for _, objects in items)
        lines.append(f"    read ahead {key[0]} {key[1]}: {len(items)} batches, {objects} objects")
    budget = getattr(tap, "__dict__", {}).get("read_budget")
    if budget is not None:
        lines.append(f"    read budget: {budget}")
        for key, share in list(budget._shares.items()):
            if share.objects:
                lines.append(
                    f"      {key[0]}: {share.bytes / 2**20:.1f} MB held, {share.handed_back} of {share.objects} objects"
                    f" handed back{' (emitted)' if share.emitted else ''}"
                )
    return lines


def _open_ranges() -> str:
    """Objects held in the history readers' unfinished and unreturned ranges (a walk of every live object)."""
    from tap_stripe_aep.backfill import _Range

    ranges = [obj for obj in gc.get_objects() if isinstance(obj, _Range)]
    return f"    open ranges: {len(ranges)}, objects in them: {sum(len(r.objects) for r in ranges)}"


def _reads() -> list[str]:
    """Per history read running: its ranges open and with a request out, and those its front rule lets request
    but that have none (what a read waits on while request slots sit idle)."""
    from tap_stripe_aep.backfill import LIVE_READS

    lines = []
    for describe in list(LIVE_READS.values()):
        try:
            lines.append(f"    read {describe()}")
        except (RuntimeError, ValueError, IndexError):  # the read changed under the snapshot: next tick
            continue
    return lines


def _trace(out: str, seconds: float) -> None:
    started = time.monotonic()
    tap = None
    with open(out, "a") as log:
        while True:
            time.sleep(seconds)
            if tap is None:
                tap = _tap()
            lines = [f"t={time.monotonic() - started:.1f}s rss={_rss_mb():.0f}MB"]
            if tap is not None:
                lines += _read_ahead(tap)
                lines.append(_open_ranges())
                lines += _reads()
                lines.append(_malloc())
            if os.environ.get("MALLOC_STATS") == "1":
                # To the tap's stderr (``bench_tap --tap-log``): glibc's arenas one by one, and pymalloc's arenas
                # and pools (how much of RSS is Python objects, how much free space kept in partly used arenas).
                print(f"--- malloc_stats at t={time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
                ctypes.CDLL("libc.so.6").malloc_stats()
                sys._debugmallocstats()
            if tracemalloc.is_tracing():
                snapshot = tracemalloc.take_snapshot()
                for stat in snapshot.statistics("lineno")[:12]:
                    lines.append(f"    {stat.size / 2**20:7.1f} MB {stat.count:8d}  {stat.traceback[0]}")
            log.write("\n".join(lines) + "\n")
            log.flush()


def _trace_requests(out: str) -> None:
    """Record when each request took its rate-limit token and for which stream; per second at exit: where the
    request budget went (sent, in flight, by stream) and how much of it sat idle."""
    import atexit

    from tap_stripe_aep.client import StripeClient
    from tap_stripe_aep.rate_limit import TokenBucket

    started = time.monotonic()
    local = threading.local()
    sent: list[tuple[float, str]] = []
    spans: list[tuple[float, float]] = []
    stream_spans: dict[str, list[float]] = {}  # per stream: each request's seconds from call to response
    # per stream: [pages, full pages (has_more), short pages, empty pages, objects]: what each request brought
    stream_pages: dict[str, list[int]] = {}
    get, acquire = StripeClient.get, TokenBucket.acquire

    def traced_get(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        local.stream = kwargs.get("stream") or path
        begin = time.monotonic()
        try:
            page = get(self, path, *args, **kwargs)
            data = page.get("data") if isinstance(page, dict) else None
            if isinstance(data, list):
                counts = stream_pages.setdefault(local.stream, [0, 0, 0, 0, 0])
                counts[0] += 1
                counts[1 if page.get("has_more") else 3 if not data else 2] += 1
                counts[4] += len(data)
            return page
        finally:
            end = time.monotonic()
            spans.append((begin - started, end - started))
            stream_spans.setdefault(local.stream, []).append(end - begin)

    def traced_acquire(self: Any) -> float:
        waited = acquire(self)
        sent.append((time.monotonic() - started, getattr(local, "stream", "?")))
        return waited

    import tap_stripe_aep.prefetch as prefetch

    batch_next = prefetch.Batches.__next__
    sdk_waits: list[tuple[float, float, str]] = []
    names: dict[int, str] = {}

    def traced_next(self: Any) -> Any:
        """The SDK thread's waits for a partition's next batch (the time reading made writing wait)."""
        begin = time.monotonic()
        try:
            return batch_next(self)
        finally:
            sdk_waits.append((begin - started, time.monotonic() - begin, names.get(id(self), "?")))

    take = prefetch.Prefetcher.take

    def traced_take(self: Any, key: Any) -> Any:
        batches = take(self, key)
        if batches is not None:
            names[id(batches)] = str(key[0])
        return batches

    from tap_stripe_aep.interleave import OpenPartition, PartitionWriter

    write_batch = OpenPartition.write_batch
    turns: list[tuple[float, float, str]] = []  # consecutive turns of one partition merged

    def traced_write_batch(self: Any) -> bool:
        """Which partition the SDK thread wrote when: the turns, merged while the same partition goes on."""
        begin = time.monotonic() - started
        try:
            return write_batch(self)
        finally:
            end = time.monotonic() - started
            name = self.stream.name
            if turns and turns[-1][2] == name and begin - turns[-1][1] < 0.005:
                turns[-1] = (turns[-1][0], end, name)
            else:
                turns.append((begin, end, name))

    run_writer = PartitionWriter.run
    writers: list[Any] = []

    def traced_run(self: Any) -> None:
        writers.append(self)
        run_writer(self)

    PartitionWriter.run = traced_run  # type: ignore[method-assign]
    OpenPartition.write_batch = traced_write_batch  # type: ignore[method-assign]
    prefetch.Batches.__next__ = traced_next  # type: ignore[method-assign]
    prefetch.Prefetcher.take = traced_take  # type: ignore[method-assign]
    StripeClient.get = traced_get  # type: ignore[method-assign]
    TokenBucket.acquire = traced_acquire  # type: ignore[method-assign]

    def report() -> None:
        if not sent:
            return
        last = int(max(t for t, _ in sent)) + 1
        per_second: list[dict[str, int]] = [{} for _ in range(last)]
        for at, stream in sent:
            bucket = per_second[int(at)]
            bucket[stream] = bucket.get(stream, 0) + 1
        with open(out, "a") as log:
            log.write("second  sent  in-flight(avg)  by stream\n")
            for second, streams in enumerate(per_second):
                busy = sum(max(0.0, min(e, second + 1) - max(b, second)) for b, e in spans)
                top = ", ".join(f"{k} {v}" for k, v in sorted(streams.items(), key=lambda kv: -kv[1])[:4])
                log.write(f"{second:5d} {sum(streams.values()):5d} {busy:9.1f}        {top}\n")
            log.write(f"first request at {sent[0][0]:.2f} s, last at {sent[-1][0]:.2f} s, {len(sent)} sent\n")
            # Which lists cost what: a list read twice (a parent for itself and for its children) shows here.
            total = sum(len(d) for d in stream_spans.values())
            log.write(f"requests by stream ({total} answered; seconds from call to response, summed):\n")
            for stream, durations in sorted(stream_spans.items(), key=lambda sd: -len(sd[1])):
                share = len(durations) / max(1, total)
                mean = sum(durations) / len(durations)
                log.write(f"    {stream}: {len(durations)} ({share:.1%}), {sum(durations):.1f} s, {mean:.2f} s each\n")
            log.write("list pages by stream: pages, full (has_more), short, empty, objects a page:\n")
            for stream, (pages, full, short, empty, objects) in sorted(stream_pages.items(), key=lambda sp: -sp[1][0]):
                log.write(f"    {stream}: {pages}, {full} full, {short} short, {empty} empty, {objects / pages:.1f}\n")
            waited = sum(w for _, w, _ in sdk_waits)
            log.write(f"SDK thread waited {waited:.1f} s for batches ({len(sdk_waits)} batches)\n")
            by_stream: dict[str, list[float]] = {}
            for _at, wait, stream in sdk_waits:
                by_stream.setdefault(stream, []).append(wait)
            for stream, waits in sorted(by_stream.items(), key=lambda sw: -sum(sw[1]))[:10]:
                log.write(f"    {stream}: {sum(waits):.2f} s (first batch {waits[0]:.2f} s, {len(waits)} batches)\n")
            for at, wait, stream in sorted(sdk_waits, key=lambda w: -w[1])[:10]:
                log.write(f"    waited {wait:.2f} s from {at:.1f} s for {stream}\n")
            for writer in writers:
                log.write(f"writer: {writer.turns} turns, waited {writer.waited:.1f} s with nothing read to write\n")
            log.write(f"turns written (start-end s; consecutive turns of one stream merged: {len(turns)}):\n")
            for begin, end, stream in turns:
                log.write(f"    {begin:6.1f} {end:6.1f}  {stream}\n")

    atexit.register(report)


def main() -> None:
    out, seconds = sys.argv[1], float(sys.argv[2])
    tap_args = sys.argv[sys.argv.index("--") + 1 :]
    if os.environ.get("TRACEMALLOC") == "1":
        tracemalloc.start(1)
    if os.environ.get("TRACE_REQUESTS") == "1":
        _trace_requests(out)
    _register_taps()
    threading.Thread(target=_trace, args=(out, seconds), daemon=True).start()
    from tap_stripe_aep.tap import TapStripeAEP

    sys.argv = ["tap-stripe-aep", *tap_args]
    TapStripeAEP.cli()


if __name__ == "__main__":
    main()
