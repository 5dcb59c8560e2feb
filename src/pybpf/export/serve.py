"""``pybpftrace --export prometheus=HOST:PORT``: run a script and serve its maps at /metrics.

The script runs as pybpftrace would run it (its printf output and exit-time maps go to
``out``) in a :class:`~pybpf.api.Tracer`; prometheus-client's HTTP server answers scrapes
from a registry holding one :class:`~pybpf.export.prometheus.MapCollector`, which reads the
maps afresh on every scrape and adds the exporter's own metrics (``pybpftrace_*``). SIGINT or
SIGTERM stops it (END probes run, everything is closed); so does ``exit()`` in the script.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from pybpf.errors import PybpfError, UsageError

SELF = "pybpftrace_"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT``, or ``:PORT`` for all interfaces) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--export: expected HOST:PORT, got {text!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class SelfMetrics:
    """The exporter's own metrics, from a running tracer."""

    def __init__(self, tracer: Any) -> None:
        """Metrics of ``tracer`` (a started :class:`~pybpf.api.Tracer`)."""
        self.tracer = tracer
        self.last_scrape = 0.0

    def __call__(self) -> Iterator[Metric]:
        """The metric families (called at the end of each scrape)."""
        t = self.tracer
        lost = CounterMetricFamily(SELF + "lost_events", "Events the ring buffer dropped")
        lost.add_metric([], float(t.lost_events()))
        yield lost
        stats = t.program_stats()
        loaded = GaugeMetricFamily(SELF + "programs_loaded", "BPF programs loaded")
        loaded.add_metric([], float(len(t.object_ids()["prog"])))
        yield loaded
        probes = GaugeMetricFamily(SELF + "probes_attached", "Probes attached (bpftrace count)")
        probes.add_metric([], float(t.probes if t.running else 0))
        yield probes
        run_time = CounterMetricFamily(
            SELF + "program_run_time_seconds",
            "Time spent in each probe program (bpf_stats)",
            labels=["probe"],
        )
        run_count = CounterMetricFamily(
            SELF + "program_runs", "Runs of each probe program (bpf_stats)", labels=["probe"]
        )
        for label, ns, cnt in stats:
            run_time.add_metric([label], ns / 1e9)
            run_count.add_metric([label], float(cnt))
        yield run_time
        yield run_count
        scrape = GaugeMetricFamily(
            SELF + "scrape_duration_seconds", "Duration of the previous scrape of /metrics"
        )
        scrape.add_metric([], self.last_scrape)
        yield scrape


def make_registry(tracer: Any, labels: dict[str, list[str]]) -> Any:
    """A registry serving ``tracer``'s maps and the self-metrics."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.registry import Collector

    from pybpf.export.prometheus import MapCollector

    own = SelfMetrics(tracer)
    maps = MapCollector(tracer.map_data, labels, own)

    class Timed(Collector):
        """Times each whole scrape for ``scrape_duration_seconds`` of the next one."""

        def collect(self) -> Iterator[Metric]:
            start = time.perf_counter()
            yield from maps.collect()
            own.last_scrape = time.perf_counter() - start

    reg = CollectorRegistry(auto_describe=False)
    reg.register(Timed())
    return reg


def script_labels(text: str, filename: str, params: Sequence[str]) -> dict[str, list[str]]:
    """Label names per map from the script's key expressions (empty if it does not parse)."""
    from pybpf.export.labels import key_labels
    from pybpf.passes.pipeline import compile_frontend

    res = compile_frontend(text, filename, list(params), expand_wildcards=False)
    return key_labels(res.program)


def run_exporter(
    script_text: str,
    filename: str,
    params: Sequence[str],
    host: str,
    port: int,
    *,
    unsafe: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    bpf_stats: bool = True,
    stop: threading.Event | None = None,
    on_ready: Callable[[str, int], None] | None = None,
) -> int:
    """Run the script and serve /metrics on ``host:port`` until a signal, ``stop`` or exit().

    Returns the exit status (``exit(code)``'s code, else 0). ``port`` 0 picks a free port;
    the address is announced on ``err`` as ``serving http://HOST:PORT/metrics`` and passed
    to ``on_ready``. Signal handlers are installed only when called from the main thread.
    """
    from prometheus_client import start_http_server

    from pybpf.api import Tracer
    from pybpf.output import make_writer

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    stop = stop if stop is not None else threading.Event()
    labels = script_labels(script_text, filename, params)
    writer = make_writer("text", out, err)
    tracer = Tracer(script_text, params, unsafe=unsafe, filename=filename, writer=writer)
    old = _install_signals(stop)
    stats_fd = _stats_fd() if bpf_stats else None
    try:
        with tracer:
            writer.attached_probes(tracer.probes)
            try:
                server, thread = start_http_server(port, host, make_registry(tracer, labels))
            except OSError as e:  # the port is taken, the address is not ours ...
                raise PybpfError(f"serve {host}:{port}: {e.strerror or e}") from None
            try:
                real = int(server.server_address[1])
                print(f"serving http://{host}:{real}/metrics", file=err, flush=True)
                if on_ready is not None:
                    on_ready(host, real)
                while tracer.running and not stop.wait(0.1):
                    pass
            finally:
                server.shutdown()
                server.server_close()
                thread.join(5)
        return tracer.stop()
    finally:
        if stats_fd is not None:
            stats_fd.close()
        _restore_signals(old)
        out.flush()


def cli_export(
    value: str, script_text: str, filename: str, params: Sequence[str], unsafe: bool = False
) -> int:
    """``pybpftrace --export KIND=HOST:PORT``: check ``value`` and run the exporter."""
    kind, sep, address = value.partition("=")
    if not sep or kind != "prometheus":
        raise UsageError(f"--export: expected prometheus=HOST:PORT, got {value!r}")
    host, port = parse_address(address)
    return run_exporter(script_text, filename, params, host, port, unsafe=unsafe)


def _stats_fd() -> Any:
    """BPF run-time statistics on while the exporter runs (None where the kernel refuses)."""
    from pybpf.bpf.info import enable_stats

    try:
        return enable_stats()
    except PybpfError:
        return None


def _install_signals(stop: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: object) -> None:
        stop.set()

    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(old: dict[int, Any]) -> None:
    for s, h in old.items():
        signal.signal(s, h)


__all__ = [
    "SelfMetrics",
    "cli_export",
    "make_registry",
    "parse_address",
    "run_exporter",
    "script_labels",
]
