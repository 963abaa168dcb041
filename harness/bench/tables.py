"""The benchmark document as rich tables, for a terminal."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rich.table import Table
from rich.text import Text


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def machine_line(machine: Mapping[str, Any]) -> str:
    """``AMD EPYC, 2 CPUs, Linux-…, CPython 3.11.7, aiohttp 3.14.5``."""
    return (
        f"{machine['cpu_model'] or 'unknown CPU'}, {machine['cpu_count']} CPUs, "
        f"{machine['platform']}, {machine['python_implementation']} {machine['python']}, "
        f"aiohttp {machine['aiohttp']}"
    )


def fanout_table(fanout: Mapping[str, Any], loop: str = "asyncio") -> Table:
    """Harness and bare side by side: wall time, throughput, CPU per probe."""
    latency = fanout["latency"]
    table = Table(
        title=(
            f"Fan-out on {loop}: {fanout['probes']:,} probes over {fanout['targets']} targets at "
            f"concurrency {fanout['concurrency']} ({latency['first_chunk_delay_ms']:g} ms to "
            f"the first of {latency['chunks']} chunks, {latency['chunk_delay_ms']:g} ms apart); "
            f"median of {fanout['rounds']} round(s)"
        )
    )
    for column in ("client", "wall s", "probes/s", "CPU/probe ms", "emulator CPU/probe ms"):
        table.add_column(column, justify="right" if column != "client" else "left")
    table.add_column("passed", justify="right")
    for side in ("harness", "bare"):
        figures = fanout[side]
        table.add_row(
            side,
            _num(figures["wall_s"], 3),
            _num(figures["probes_per_s"]),
            _num(figures["cpu_per_probe_ms"], 3),
            _num(figures["emulator_cpu_per_probe_ms"], 3),
            f"{figures['passed']:,}/{fanout['probes']:,}",
        )
    table.caption = (
        f"harness / bare: wall {fanout['ratio']:.3f}x, CPU per probe {fanout['cpu_ratio']:.3f}x"
    )
    return table


def timing_table(timing: Mapping[str, Any]) -> Table:
    """ttfc spreads per load level and client, with |ttfc - injected| and the deltas."""
    table = Table(
        title=(
            f"Time to first chunk on {timing.get('loop', 'asyncio')}, ms "
            f"(injected: {timing['injected_first_chunk_ms']:g} ms)"
        ),
        caption=(
            "err: |ttfc - injected|; Δ: harness minus bare; suspect: loop lag over "
            f"{timing.get('lag_budget_ms', 5):g} ms; auto: --concurrency auto (limit range); "
            "p99 from 100 samples"
        ),
    )
    table.add_column("conc.", justify="right")
    table.add_column("client")
    columns = (
        "passed",
        "p50",
        "p95",
        "p99",
        "max",
        "err p95",
        "Δ p50",
        "Δ p95",
        "suspect",
        "wall s",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for level in timing["levels"]:
        for side in ("harness", "bare", "auto"):
            figures = level.get(side)
            if figures is None:
                continue
            ttfc = figures["ttfc_ms"] or {}
            error = figures["error_ms"] or {}
            first = side == "harness"
            limits = figures.get("in_flight_limit")
            label = {
                "harness": "harness",
                "bare": "bare",
                "auto": "harness auto"
                + (f" ({limits['min']}-{limits['max']})" if side == "auto" and limits else ""),
            }[side]
            table.add_row(
                str(level["concurrency"]) if first else "",
                label,
                f"{figures['passed']:,}/{level['probes']:,}",
                _num(ttfc.get("p50"), 2),
                _num(ttfc.get("p95"), 2),
                _num(ttfc.get("p99"), 2),
                _num(ttfc.get("max"), 2),
                _num(error.get("p95"), 2),
                _num(level["delta_p50_ms"], 2) if first else "",
                _num(level["delta_p95_ms"], 2) if first else "",
                _num(figures.get("timing_suspect")),
                _num(figures.get("wall_s"), 3),
            )
    return table


def store_table(store: Mapping[str, Any]) -> Table:
    """Insert rate, then page time (cold and warm) and memory."""
    insert, page = store["insert"], store["page"]
    table = Table(
        title=(
            f"Store and page: {insert['rows']:,} results in batches of {insert['batch']:,} "
            f"({_num(insert['db_mb'])} MB), {page['targets']} targets"
        )
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("insert rows/s", _num(insert["rows_per_s"])),
        ("insert total s", _num(insert["insert_s"], 2)),
        ("stored bytes per result (indexes included)", _num(insert.get("bytes_per_result"))),
        ("templates compiled once per process ms", _num(page.get("templates_ms"))),
        ("page cold: aggregation + render ms", _page(page["cold"])),
        (f"page warm (median of {page['warm']['repeats']}) ms", _page(page["warm"])),
        ("page process RSS before / peak MB", _pair(page)),
        ("tracemalloc peak of one page MB", _num(page["tracemalloc_peak_mb"])),
        ("HTML KB", _num(page["html_kb"])),
    ]
    if "prune" in store:
        prune = store["prune"]
        rows += [
            (
                f"prune: {_num(prune['pruned_alone'])} rows in {prune['batches']} batches "
                f"of {prune['batch_rows']}, batch ms median / max",
                _median_max(prune["batch_ms"]),
            ),
            (
                f"run write ({prune['run_size']} results) alone ms median / max",
                _median_max(prune["run_ms_alone"]),
            ),
            (
                f"run write while pruning {_num(prune['pruned_beside_runs'])} rows "
                f"({prune['run_ms_while_pruning']['n']} runs) ms median / max",
                _median_max(prune["run_ms_while_pruning"]),
            ),
        ]
    if "record" in store:
        record = store["record"]
        rows.append(
            (
                f"record one provider's run ({record['run_targets']} targets) beside "
                f"{_num(record['targets'])} targets, {record['runs']} runs, ms median / max",
                _median_max(record["record_ms"]),
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    return table


def _page(figures: Mapping[str, Any]) -> str:
    return (
        f"{_num(figures['aggregation_ms'])} + {_num(figures['render_ms'])} "
        f"= {_num(figures['page_ms'])}"
    )


def _median_max(figures: Mapping[str, Any]) -> str:
    return f"{_num(figures['median'], 2)} / {_num(figures['max'], 2)}"


def _pair(page: Mapping[str, Any]) -> str:
    return f"{_num(page['rss_baseline_mb'])} / {_num(page['rss_peak_mb'])}"


def overview_table(overview: Mapping[str, Any]) -> Table:
    """The page of many targets: read and render on the server, then the browser's figures."""
    server, browser = overview["server"], overview["browser"]
    table = Table(
        title=(
            f"Page with {server['targets']} targets ({server['providers']} providers, "
            f"{_num(server['html_kb'])} KB of HTML)"
        )
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for part in ("read_ms", "render_ms"):
        figures = server[part]
        table.add_row(
            f"server {part[:-3]} cold / warm ms",
            f"{_num(figures['cold'])} / {_num(figures['warm'])}",
        )
    if browser is None:
        table.add_row("browser", f"skipped: {overview['browser_skipped']}")
        return table
    for name, value in browser.items():
        if name != "loads":
            label = name.removesuffix("_ms").replace("_", " ")
            table.add_row(f"browser {label} ms (median of {browser['loads']})", _num(value))
    return table


_LIVE_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("providers", ("providers",)),
    ("first response KB (gzip)", ("http", "first_kb_gzip")),
    ("first response KB (uncompressed)", ("http", "first_kb")),
    ("first response ms (over HTTP, median)", ("http", "first_ms")),
    ("build ms, cold (every provider read)", ("build_ms", "cold")),
    ("build ms, nothing changed (median)", ("build_ms", "unchanged")),
    ("build ms, after one provider's run (median)", ("build_ms", "after_one_run")),
    ("store reads per build, cold", ("build_ms", "store_reads", "cold")),
    ("store reads per build, warm", ("build_ms", "store_reads", "unchanged")),
    ("refresh, nothing changed: HTTP status", ("http", "refresh_unchanged", "status")),
    ("refresh, nothing changed: KB", ("http", "refresh_unchanged", "kb_gzip")),
    ("refresh after one run: KB (gzip)", ("http", "refresh_one_run", "kb_gzip")),
    ("a provider's details: KB (gzip)", ("http", "details_kb_gzip")),
    ("a provider's details: ms", ("http", "details_ms")),
    ("/api/status KB (gzip)", ("api", "status_kb_gzip")),
    ("/api/status KB (uncompressed)", ("api", "status_kb")),
    ("/api/status CPU ms, built cold", ("api", "cold_cpu_ms")),
    ("/api/status CPU ms, read in full (as before)", ("api", "read_in_full_cpu_ms")),
    ("/api/status CPU ms, nothing changed", ("api", "status_unchanged_cpu_ms")),
    ("/api/status CPU ms, after one run", ("api", "status_after_one_run_cpu_ms")),
    ("/api/status with its ETag: HTTP status", ("api", "status_etag_matched")),
    ("/metrics KB (gzip)", ("api", "metrics_kb_gzip")),
    ("/metrics KB (uncompressed)", ("api", "metrics_kb")),
    ("/metrics CPU ms", ("api", "metrics_cpu_ms")),
    ("browser DOMContentLoaded ms", ("browser", "dom_content_loaded_ms")),
    ("browser load ms", ("browser", "load_ms")),
    ("browser first contentful paint ms", ("browser", "first_contentful_paint_ms")),
    ("browser open a provider ms", ("browser", "open_provider_ms")),
    ("browser filter ms", ("browser", "filter_ms")),
    ("browser sort ms", ("browser", "sort_ms")),
)


def _dig(figures: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = figures
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def live_page_table(live: list[Mapping[str, Any]]) -> Table:
    """The served live page at each fleet size, side by side."""
    loads = next((f["browser"]["loads"] for f in live if f.get("browser")), 0)
    table = Table(
        title=(
            "Live page, served (gzip), by targets; browser figures median of "
            f"{loads} loads in Chromium"
        )
    )
    table.add_column("figure")
    for figures in live:
        table.add_column(f"{figures['targets']:,} targets", justify="right")
    for label, path in _LIVE_ROWS:
        table.add_row(label, *(_num(_dig(f, path)) for f in live))
    skipped = {f["browser_skipped"] for f in live if f.get("browser_skipped")}
    for reason in sorted(skipped):
        table.add_row("browser", f"skipped: {reason}")
    return table


def replay_table(replay: Mapping[str, Any]) -> Table:
    """Cassettes replayed, passed, time."""
    table = Table(title="Replay of every cassette, instant speed")
    for column in ("cassettes", "passed", "wall s", "per cassette ms", "CPU s"):
        table.add_column(column, justify="right")
    table.add_row(
        _num(replay["cassettes"]),
        _num(replay["passed"]),
        _num(replay["wall_s"], 3),
        _num(replay["per_cassette_ms"]),
        _num(replay["cpu_s"], 3),
    )
    return table


def isolation_table(isolation: Mapping[str, Any]) -> Table:
    """Per-call time of a gpt4free call in a worker process, in a thread, on the loop."""
    table = Table(
        title=(
            f"Isolation: one gpt4free call of {isolation['chunks']} pieces, three ways; "
            f"median of {isolation['runs']} runs of {isolation['calls']} calls"
        )
    )
    for column in ("made", "first piece ms", "end ms"):
        table.add_column(column, justify="right" if column != "made" else "left")
    for way, label in (
        ("worker", "in a worker process"),
        ("thread", "in a thread"),
        ("direct", "on the caller's loop"),
    ):
        table.add_row(
            label, _num(isolation[way]["first_ms"], 3), _num(isolation[way]["total_ms"], 3)
        )
    overhead = isolation["overhead_ms"]
    table.caption = (
        f"worker - thread: {overhead['worker_vs_thread']:+.3f} ms a call; "
        f"worker - loop: {overhead['worker_vs_direct']:+.3f} ms a call"
    )
    return table


def schedule_table(schedule: Mapping[str, Any]) -> Table:
    """Each run's mean period as the upstream saw it, against the interval."""
    table = Table(
        title=(
            f"Schedule: {schedule['targets']} targets every {schedule['interval_s']:g} s "
            f"(phases spread over {schedule['jitter_s']:g} s), {schedule['duration_s']:g} s "
            f"a run; gaps between a target's requests as the upstream saw them"
        )
    )
    for column in ("run", "gaps", "mean s", "target means s", "single gaps s", "overruns"):
        table.add_column(column, justify="right")
    for number, run in enumerate(schedule["runs"], 1):
        means, single = run.get("target_mean_gap_s"), run.get("gap_s")
        table.add_row(
            str(number),
            _num(run.get("gaps")),
            _num(run["mean_gap_s"], 4),
            f"{_num(means['min'], 3)} - {_num(means['max'], 3)}" if means else "-",
            f"{_num(single['min'], 3)} - {_num(single['max'], 3)}" if single else "-",
            _num(run["overruns"]),
        )
    median = schedule["median_mean_gap_s"]
    if median is not None:
        table.caption = (
            f"median mean period {median:.4f} s: {schedule['off_by'] * 100:+.2f} % "
            f"of the {schedule['interval_s']:g} s interval"
        )
    return table


SCALE_ROWS = (
    ("loop-lag p95 ms", "loop_lag_p95_ms", 2),
    ("timing-suspect %", "timing_suspect_pct", 2),
    ("ttfc p95 ms", "ttfc_p95_ms", 1),
    ("probes/s", "probes_per_s", 1),
    ("run wall time p50 s", "run_wall_p50_s", 3),
)


def scale_table(scale: Mapping[str, Any]) -> Table:
    """``harness serve`` probing the fleet, alone and looked at, side by side (medians,
    with each figure's run-to-run range), then one run of every target at auto."""
    latency = scale["latency"]
    table = Table(
        title=(
            f"harness serve probing {scale['targets']:,} targets ({scale['providers']} "
            f"providers) every {scale['interval_s']:g} s at auto, {scale['loop']} loop; "
            f"median (range) of {scale['repeats']} run(s) of {scale['window_s']:g} s; "
            f"{latency['first_chunk_delay_ms']:g} ms to the first chunk"
        )
    )
    table.add_column("figure")
    table.add_column("no viewers", justify="right")
    table.add_column(f"{scale['viewers']} viewers", justify="right")
    for label, key, digits in SCALE_ROWS:
        cells = [
            f"{_num(scale[side][key], digits)} ({_num(scale[side][f'{key}_range'], digits)})"
            for side in ("no_viewers", "with_viewers")
        ]
        table.add_row(label, *cells)
    one = scale["one_run"]
    table.caption = (
        f"One run of every target at auto: {_num(one['wall_s'], 2)} s wall, loop-lag p95 "
        f"{_num(one['loop_lag_p95_ms'], 2)} ms, {_num(one['timing_suspect_pct'], 2)} % "
        f"timing-suspect, ttfc p95 {_num(one['ttfc_p95_ms'])} ms (medians)"
    )
    return table


def goals_table(goals: list[Mapping[str, Any]]) -> Table:
    """Each goal, its value, its limit, and whether it was met."""
    table = Table(title="Goals")
    table.add_column("goal")
    table.add_column("value", justify="right")
    table.add_column("limit", justify="right")
    table.add_column("met")
    for goal in goals:
        bound = f"{'±' if goal['absolute'] else '≤ '}{goal['limit']:g} {goal['unit']}"
        met = goal["met"]
        verdict = (
            Text("-", style="yellow")
            if met is None
            else Text("yes", style="green")
            if met
            else Text("NO", style="red")
        )
        table.add_row(goal["name"], f"{_num(goal['value'], 2)} {goal['unit']}", bound, verdict)
    return table


def tables(document: Mapping[str, Any]) -> Iterator[Table | str]:
    """Everything worth printing, in order: the machine line, then one table per part."""
    yield machine_line(document["machine"])
    if "fanout" in document:
        yield fanout_table(document["fanout"])
    if "fanout_uvloop" in document:
        yield fanout_table(document["fanout_uvloop"], loop="uvloop")
    if "timing" in document:
        yield timing_table(document["timing"])
    if "store" in document:
        yield store_table(document["store"])
    if "overview" in document:
        yield overview_table(document["overview"])
        if document["overview"].get("live"):
            yield live_page_table(document["overview"]["live"])
        elif "live_skipped" in document["overview"]:
            yield document["overview"]["live_skipped"]
    if "store_large" in document:
        yield store_table(document["store_large"])
    if "replay" in document:
        yield replay_table(document["replay"])
    if "isolation" in document:
        yield isolation_table(document["isolation"])
    if "schedule" in document:
        yield schedule_table(document["schedule"])
    if "scale" in document:
        yield scale_table(document["scale"])
        if "page" in document["scale"]:
            yield live_page_table([document["scale"]["page"]])
    yield from document.get("skipped", {}).values()
    if document["goals"]:
        yield goals_table(document["goals"])
