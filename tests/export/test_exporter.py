"""The Prometheus exporter end to end: a real Prometheus scrapes ``python -m pybpf.export``."""

from __future__ import annotations

import os
import signal
import socket
import struct
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pybpf.bpf.info import ObjKind, gone
from pybpf.output import hist_index

from .exporter import bpf_ids, exporter, get, prometheus, query, workload

pytestmark = pytest.mark.kernel

SCRIPT = (
    'tracepoint:syscalls:sys_enter_getpid /comm == "{comm}"/ {{ @calls[pid] = count(); }}\n'
    'tracepoint:syscalls:sys_enter_lseek /comm == "{comm}"/ {{ @lat = hist(args.offset); }}\n'
)


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(get(port)):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def assert_all_gone(ids: dict[str, set[int]]) -> None:
    kinds = {"prog": ObjKind.PROG, "map": ObjKind.MAP, "link": ObjKind.LINK}
    for kind, values in ids.items():
        for i in values:
            assert gone(kinds[kind], i), f"{kind} id {i} still loaded"


def test_prometheus_scrapes_exact_counts_and_cumulative_buckets(tmp_path: Path) -> None:
    n = 257
    offsets = [0, 1, 1, 3, 5, 8, 100, 1000, 1023, 4096]
    with exporter(SCRIPT.format(comm="pbpf_prom"), tmp_path) as (proc, port):
        with prometheus(port, tmp_path) as prom:
            work = workload("pbpf_prom", n, offsets)
            work.communicate(timeout=20)
            deadline = time.monotonic() + 20
            while True:
                res = query(prom, f'bpftrace_calls_total{{pid="{work.pid}"}}')
                if res and float(res[0]["value"][1]) == n:  # type: ignore[index]
                    break
                assert time.monotonic() < deadline, f"prometheus has {res}, wanted {n}"
                time.sleep(0.25)
            buckets = query(prom, "bpftrace_lat_bucket")
            count = query(prom, "bpftrace_lat_count")
        assert proc.poll() is None
    le = {str(b["metric"]["le"]): float(b["value"][1]) for b in buckets}  # type: ignore[index]
    assert "+Inf" in le and len(le) > 5
    bounds = sorted(le, key=lambda x: float(x))
    assert [le[b] for b in bounds] == sorted(le[b] for b in bounds)  # cumulative
    for bound, c in le.items():
        assert c == sum(1 for o in offsets if o <= float(bound)), bound
    # Every populated bucket of hist() has its own bound.
    assert len(le) == len({hist_index(o) for o in offsets}) + 1
    assert float(count[0]["value"][1]) == len(offsets)  # type: ignore[index]


def test_survives_killed_workload_and_dropped_scraper(tmp_path: Path) -> None:
    # A map big enough that /metrics takes many TCP segments, so the drop is mid-response.
    # Five maps of 4000 keys (the default map size is 4096 keys): 20000 series, ~1 MB.
    offsets = list(range(4000))
    body = " ".join(f"@{m}[args.offset] = count();" for m in ("seen", "b", "c", "d", "e"))
    script = f'tracepoint:syscalls:sys_enter_lseek /comm == "pbpf_drop"/ {{ {body} }}'
    with exporter(script, tmp_path) as (proc, port):
        work = workload("pbpf_drop", 0, offsets, hang=True)
        assert work.stdout is not None
        work.stdout.readline()  # every lseek is done
        work.kill()
        work.wait()
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(64).startswith(b"HTTP/1.")
            # Close with a reset (no FIN handshake) while the server is still writing.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        m = metrics(port)
        assert proc.poll() is None
        seen = {k[1][0][1]: v for k, v in m.items() if k[0] == "bpftrace_seen_total"}
        assert len(seen) == len(offsets)
        assert all(v == 1 for v in seen.values())
        assert m[("pybpftrace_programs_loaded", ())] == 1
        assert m[("pybpftrace_probes_attached", ())] == 1
        assert m[("pybpftrace_lost_events_total", ())] == 0
    assert proc.returncode == 0
    assert "Traceback" not in (tmp_path / "exporter.err").read_text()


def test_sigterm_leaves_no_bpf_objects(tmp_path: Path) -> None:
    script = SCRIPT.format(comm="pbpf_term") + 'END { printf("bye\\n"); }'
    with exporter(script, tmp_path) as (proc, port):
        work = workload("pbpf_term", 5, [])
        work.communicate(timeout=20)
        m = metrics(port)
        assert m[("bpftrace_calls_total", (("pid", str(work.pid)),))] == 5
        ids = bpf_ids(proc.pid)
        assert len(ids["prog"]) == 3 and ids["map"]  # two probes and END
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    assert_all_gone(ids)
    out = (tmp_path / "exporter.out").read_text()
    assert out.startswith("bye\n")
    assert f"@calls[{work.pid}]: 5\n" in out
