"""The run report as one self-contained HTML page: inline CSS and inline SVG, no script, nothing fetched.

It lays out the JSON document of ``run_report_json`` and computes nothing of its own. Every text that comes from
the run (stream names, dataset ids, reasons, record ids, error messages) is data and is escaped. Figures sit in
cells a program can find: ``id="total-<count>"`` for the totals, ``<tr class="stream-row" data-stream=...>`` /
``class="dataset-row" data-dataset=...`` rows whose cells carry ``data-count="<count>"``.
"""

from __future__ import annotations

import html
import typing as t

COUNT_LABELS = {
    "received": "received",
    "landed": "landed",
    "repaired": "repaired",
    "rejected": "rejected",
    "rejected_by_aep": "refused by AEP",
    "in_failed_batches": "in failed batches",
    "skipped": "skipped (no dataset)",
    "not_confirmed": "not confirmed",
}
STATUS_WORDS = {"succeeded": "Succeeded", "failed": "Failed", "interrupted": "Interrupted"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:24px;
color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
.outcome{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.outcome.succeeded{background:#e6f4ea;color:#14532d}.outcome.failed{background:#fde8e8;color:#7f1d1d}
.outcome.interrupted{background:#fff4e0;color:#7c4a03}.outcome .message{font-weight:400;display:block;margin-top:4px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{border:1px solid #dde1e8;border-radius:6px;padding:8px 12px;min-width:110px}
.card .n{font-size:20px;font-weight:600;display:block}.card .label{color:#5b6475;font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{padding:4px 8px;border-bottom:1px solid #eceff3;
text-align:left;vertical-align:top}th{background:#f6f7f9;font-weight:600;font-size:12px;color:#3b4252}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:600;border-top:2px solid #cfd5de}
.ids{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#3b4252;word-break:break-all}
.muted{color:#5b6475}.meta td:first-child{color:#5b6475;width:220px}
svg{max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#5b6475}
"""


def render_html(document: dict[str, t.Any]) -> str:
    """The whole page for one run report document."""
    run = document["run"]
    outcome = run["outcome"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>target-aep run report: {_e(STATUS_WORDS.get(outcome['status'], outcome['status']))}, "
        f"{_e(run['finished_at'])}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>target-aep run report</h1>",
        f'<div class="muted">{_e(run["mode"])} mode, sandbox {_e(run["sandbox"])}, '
        f"{_e(run['started_at'])} to {_e(run['finished_at'])} ({_seconds(run['seconds'])})</div>",
        _outcome(outcome),
        _totals(document["totals"]),
        _count_table("Per stream", "stream", document["streams"], extra=("dataset", "dataset")),
        _count_table("Per dataset", "dataset", document["datasets"], extra=("streams", "streams")),
        _tally_table("Rejected records by reason", "rejects", document["rejects"], run["dead_letter_path"]),
        _tally_table("Repaired records by reason", "repairs", document["repairs"], run.get("repairs_path")),
        _stages(document["stages"], run),
        _throughput(document["throughput"]),
        _batches(document["batches"]),
        _streaming(document["streaming"]),
        _latency(document["latency"]),
        _meta(run),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _n(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.3f} s"


def _outcome(outcome: dict[str, t.Any]) -> str:
    status = outcome["status"]
    message = (
        f'<span class="message" id="outcome-message">{_e(outcome["message"])}</span>' if outcome["message"] else ""
    )
    return (
        f'<div class="outcome {_e(status)}" id="outcome"><span id="outcome-status">'
        f"{_e(STATUS_WORDS.get(status, status))}</span>, exit status "
        f'<span id="outcome-exit-code">{_e(outcome["exit_code"])}</span>{message}</div>'
    )


def _totals(totals: dict[str, int]) -> str:
    cards = "".join(
        f'<div class="card"><span class="n" id="total-{name}">{_n(totals[name])}</span>'
        f'<span class="label">{_e(label)}</span></div>'
        for name, label in COUNT_LABELS.items()
    )
    return f'<h2>Records</h2><div class="cards">{cards}</div>'


def _count_table(title: str, key: str, rows: list[dict[str, t.Any]], *, extra: tuple[str, str]) -> str:
    extra_key, extra_label = extra
    head = (
        f"<tr><th>{_e(key)}</th><th>{_e(extra_label)}</th>"
        + "".join(f'<th class="n">{_e(label)}</th>' for label in COUNT_LABELS.values())
        + "</tr>"
    )
    body = []
    for row in rows:
        other = row[extra_key]
        other_text = ", ".join(other) if isinstance(other, list) else other
        body.append(
            f'<tr class="{key}-row" data-{key}="{_e(row[key])}"><td>{_e(row[key])}</td><td>{_e(other_text)}</td>'
            + "".join(f'<td class="n" data-count="{name}">{_n(row[name])}</td>' for name in COUNT_LABELS)
            + "</tr>"
        )
    if not body:
        body.append(f'<tr><td colspan="{len(COUNT_LABELS) + 2}" class="muted">no records</td></tr>')
    return f'<h2>{_e(title)}</h2><table id="{key}s">{head}{"".join(body)}</table>'


def _tally_table(title: str, table_id: str, rows: list[dict[str, t.Any]], path: str | None) -> str:
    where = f' <span class="muted">(every record, with its values: {_e(path)})</span>' if path and rows else ""
    if not rows:
        return f'<h2>{_e(title)}</h2><p class="muted" id="{table_id}-none">none</p>'
    body = "".join(
        f'<tr class="reason-row" data-stream="{_e(row["stream"])}"><td>{_e(row["stream"])}</td>'
        f'<td class="reason">{_e(row["reason"])}</td><td class="n" data-count="count">{_n(row["count"])}</td>'
        f'<td class="ids">{_e(", ".join(row["examples"]))}</td></tr>'
        for row in rows
    )
    return (
        f'<h2>{_e(title)}</h2>{where}<table id="{table_id}"><tr><th>stream</th><th>reason</th>'
        f'<th class="n">records</th><th>example ids</th></tr>{body}</table>'
    )


def _stages(stages: list[dict[str, t.Any]], run: dict[str, t.Any]) -> str:
    rows = [
        ("reading the input", run["input_seconds"]),
        ("confirming deliveries after the input", run["confirm_seconds"]),
    ]
    rows += [(stage["stage"], stage["seconds"]) for stage in stages]
    body = "".join(f'<tr><td>{_e(name)}</td><td class="n">{_e(_seconds(seconds))}</td></tr>' for name, seconds in rows)
    note = (
        '<p class="muted">mapping, validation and serialization are summed over records on the reading thread; '
        "http is summed over deliveries, which run in parallel with reading.</p>"
    )
    head = '<tr><th>stage</th><th class="n">seconds</th></tr>'
    return f'<h2>Time per stage</h2><table id="stages">{head}{body}</table>{note}'


def _throughput(throughput: dict[str, t.Any]) -> str:
    figures = (
        f'<p>average <span id="avg-received">{_n(throughput["average_received_per_second"])}</span> received/s, '
        f'<span id="avg-landed">{_n(throughput["average_landed_per_second"])}</span> landed/s; peak '
        f"{_n(throughput['peak_received_per_second'])} received/s, {_n(throughput['peak_landed_per_second'])} "
        "landed/s</p>"
    )
    return "<h2>Throughput over the run</h2>" + figures + throughput_svg(throughput["rates"])


def throughput_svg(rates: list[list[float]], width: int = 860, height: int = 240) -> str:
    """A line chart of records received and landed per second over the run's seconds."""
    if not rates:
        return '<p class="muted" id="throughput-chart">The run was too short to chart.</p>'
    left, right, top, bottom = 60, 16, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    end = max(rates[-1][0], 1e-9)
    peak = max(max(r[1], r[2]) for r in rates) or 1.0

    def x(seconds: float) -> float:
        return left + plot_w * seconds / end

    def y(rate: float) -> float:
        return top + plot_h * (1 - rate / peak)

    def line(column: int) -> str:
        # A step per interval: the rate held from the previous point to this one.
        points, previous = [], 0.0
        for row in rates:
            points += [f"{x(previous):.1f},{y(row[column]):.1f}", f"{x(row[0]):.1f},{y(row[column]):.1f}"]
            previous = row[0]
        return " ".join(points)

    decimals = 0 if peak >= 10 else 1
    grid = "".join(
        f'<line x1="{left}" x2="{width - right}" y1="{y(peak * f):.1f}" y2="{y(peak * f):.1f}" stroke="#eceff3"/>'
        f'<text x="{left - 6}" y="{y(peak * f) + 4:.1f}" text-anchor="end">{peak * f:,.{decimals}f}</text>'
        for f in (0, 0.5, 1)
    )
    ticks = "".join(
        f'<text x="{x(end * f):.1f}" y="{height - 18}" text-anchor="middle">{end * f:,.0f} s</text>'
        for f in (0, 0.5, 1)
    )
    return (
        f'<svg id="throughput-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="records received and landed per second">'
        "<title>Records received and landed per second over the run</title>"
        f"{grid}{ticks}"
        f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{line(1)}"/>'
        f'<polyline fill="none" stroke="#16a34a" stroke-width="1.5" points="{line(2)}"/>'
        f'<rect x="{left + 8}" y="{top + 2}" width="10" height="3" fill="#2563eb"/>'
        f'<text x="{left + 22}" y="{top + 7}">received/s</text>'
        f'<rect x="{left + 98}" y="{top + 2}" width="10" height="3" fill="#16a34a"/>'
        f'<text x="{left + 112}" y="{top + 7}">landed/s</text>'
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 2}" text-anchor="middle">'
        "seconds since the target started</text>"
        "</svg>"
    )


def _batches(batches: dict[str, t.Any]) -> str:
    if not batches["total"]:
        return ""
    statuses = ", ".join(
        f'<span data-status="{_e(status)}">{_e(status)} {_n(count)}</span>'
        for status, count in sorted(batches["by_status"].items())
    )
    listed = batches["listed"]
    shown = "" if len(listed) == batches["total"] else f" (the last {len(listed)} listed)"
    body = "".join(
        f'<tr class="batch-row" data-status="{_e(b["status"])}"><td class="ids">{_e(b["batch_id"])}</td>'
        f'<td>{_e(_carried(b["streams"]))}</td><td class="ids">{_e(b["dataset_id"])}</td>'
        f'<td class="n">{_n(b["records"])}</td>'
        f"<td>{_e(b['status'])}</td></tr>"
        for b in listed
    )
    return (
        f'<h2>AEP batches</h2><p id="batch-statuses"><span id="batch-total">{_n(batches["total"])}</span> batches: '
        f'{statuses}{_e(shown)}</p><table id="batches"><tr><th>batch id</th><th>streams (records)</th><th>dataset</th>'
        f'<th class="n">records</th><th>final status</th></tr>{body}</table>'
    )


def _carried(streams: dict[str, int]) -> str:
    """The streams an AEP batch carried, with the records of each (``charges 1,200, refunds 40``)."""
    return ", ".join(f"{name} {_n(count)}" for name, count in streams.items())


def _streaming(inlets: list[dict[str, t.Any]]) -> str:
    if not inlets:
        return ""
    body = "".join(
        f'<tr class="inlet-row" data-stream="{_e(i["stream"])}"><td>{_e(i["stream"])}</td>'
        f'<td class="ids">{_e(i["inlet_id"])}</td><td class="ids">{_e(i["dataset_id"])}</td>'
        + "".join(
            f'<td class="n" data-count="{k}">{_n(i[k])}</td>' for k in ("deliveries", "sent", "accepted", "refused")
        )
        + "</tr>"
        for i in inlets
    )
    return (
        '<h2>Streaming</h2><table id="streaming"><tr><th>stream</th><th>inlet</th><th>dataset</th>'
        '<th class="n">deliveries</th><th class="n">messages sent</th><th class="n">accepted</th>'
        f'<th class="n">refused</th></tr>{body}</table>'
    )


def _latency(latency: dict[str, t.Any] | None) -> str:
    if latency is None:
        return ""
    cells = "".join(
        f'<tr><td>{_e(name)}</td><td class="n" id="latency-{_e(name)}">'
        f"{_e(_seconds(latency[f'{name}_seconds']))}</td></tr>"
        for name in ("p50", "p95", "p99", "max")
    )
    return (
        "<h2>Latency, from the change in Stripe to its acceptance in AEP</h2>"
        f'<p>{_n(latency["count"])} changes</p><table id="latency">{cells}</table>'
    )


def _meta(run: dict[str, t.Any]) -> str:
    rows = [
        ("started", run["started_at"]),
        ("finished", run["finished_at"]),
        ("mode", run["mode"]),
        ("rejected records (dead-letter file)", run["dead_letter_path"]),
        ("repaired values (repairs file)", run.get("repairs_path") or "not configured"),
    ]
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<h2>About this run</h2><table class="meta">{body}</table>'
