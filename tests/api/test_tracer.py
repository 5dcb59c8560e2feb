"""pybpf.Tracer on the real kernel: events, maps as dicts, exit codes, nothing left loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import pybpf
from pybpf.api import Exit, Print, Printf, Stats, Tracer
from pybpf.bpf.info import ObjKind, gone

pytestmark = pytest.mark.kernel

ME = os.getpid()


def assert_gone(ids: dict[str, list[int]]) -> None:
    kinds = {"prog": ObjKind.PROG, "map": ObjKind.MAP, "link": ObjKind.LINK}
    for kind, values in ids.items():
        for i in values:
            assert gone(kinds[kind], i), f"{kind} id {i} still loaded"


def test_printf_events_and_counts() -> None:
    script = (
        f"tracepoint:syscalls:sys_enter_getppid /pid == {ME}/ "
        '{ @calls[comm] = count(); printf("call %d from %s\\n", 7, comm); }'
    )
    with Tracer(script) as t:
        for _ in range(4):
            os.getppid()
        got = []
        for ev in t.events(timeout=5):
            got.append(ev)
            if len(got) == 4:
                break
        maps = t.maps()
    comm = open(f"/proc/{ME}/comm").read().strip()
    assert got == [Printf(f"call 7 from {comm}\n", "call %d from %s\n", (7, comm))] * 4
    assert maps == {"@calls": {comm: 4}}


def test_exit_code_end_probe_and_final_maps() -> None:
    seen: list[object] = []
    script = (
        f"tracepoint:syscalls:sys_enter_getppid /pid == {ME}/ {{ @n = count(); exit(3); }}"
        " END { @done = 1; print(@n); }"
    )
    with Tracer(script, on_event=seen.append) as t:
        os.getppid()
        assert t.wait(timeout=10) == 3
    assert not t.running
    assert seen == [Print({None: 1}, "@n"), Exit(3)]
    assert list(t.events(timeout=0)) == seen
    assert t.maps() == {"@done": {None: 1}, "@n": {None: 1}}
    assert t.stop() == 3  # idempotent


def test_histograms_and_stats_as_python() -> None:
    script = (
        "BEGIN { @h = hist(-1); @h = hist(0); @h = hist(5); @h = hist(5); "
        "@l = lhist(-3, 0, 10, 5); @l = lhist(7, 0, 10, 5); @l = lhist(12, 0, 10, 5); "
        "@s[1, 2] = stats(10); @s[1, 2] = stats(20); @a = avg(3); @a = avg(4); exit(); }"
    )
    with Tracer(script) as t:
        t.wait(10)
    m = t.maps()
    assert m["@h"] == {None: {(None, 0): 1, (0, 1): 1, (4, 8): 2}}
    assert m["@l"] == {None: {(None, 0): 1, (5, 10): 1, (10, None): 1}}
    assert m["@s"] == {(1, 2): Stats(count=2, average=15, total=30)}
    assert m["@a"] == {None: 3}


def test_nothing_stays_loaded_after_stop() -> None:
    t = Tracer("tracepoint:syscalls:sys_enter_getppid { @[tid] = count(); }")
    t.start()
    ids = t.object_ids()
    assert ids["prog"] and ids["map"]
    t.stop()
    t.stop()
    assert t.object_ids() == {"prog": [], "map": [], "link": []}
    assert_gone(ids)


def test_nothing_stays_loaded_after_exception_in_with_block() -> None:
    ids: dict[str, list[int]] = {}
    with pytest.raises(ZeroDivisionError):
        with Tracer("tracepoint:syscalls:sys_enter_getppid { @x = count(); }") as t:
            ids = t.object_ids()
            1 / 0  # noqa: B018
    assert not t.running
    assert_gone(ids)


def test_script_error_raises_with_nothing_loaded() -> None:
    with pytest.raises(pybpf.ScriptError, match="prinf"):
        Tracer('BEGIN { prinf("x"); }').start()


def test_tracer_works_without_the_main_thread_handlers() -> None:
    # SIGINT keeps its default handler: the library installs no signal handlers.
    code = (
        "import signal, pybpf\n"
        "with pybpf.Tracer('BEGIN { exit(); }') as t:\n"
        "    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n"
        "    print(t.wait(10))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "0\n"


def test_full_queue_drops_oldest_but_keeps_the_end() -> None:
    prints = " ".join(f'printf("{i}\\n");' for i in range(20))
    with Tracer(f"BEGIN {{ {prints} exit(); }}", max_queue=5) as t:
        assert t.wait(10) == 0
    got = list(t.events(timeout=0))
    assert got == [Printf(f"{i}\n", f"{i}\n", ()) for i in (2, 3, 4)] + [Exit(0)]
    assert t.dropped == 17


def test_callback_error_is_raised_by_stop_and_the_run_still_ends() -> None:
    def boom(ev: object) -> None:
        if isinstance(ev, Printf):
            raise ValueError("callback failed")

    script = f'tracepoint:syscalls:sys_enter_getppid /pid == {ME}/ {{ printf("x\\n"); }}'
    t = Tracer(script, on_event=boom).start()
    ids = t.object_ids()
    os.getppid()
    with pytest.raises(ValueError, match="callback failed"):
        t.wait(10)
    assert not t.running
    assert list(t.events(timeout=0)) == [Exit(0)]
    assert t.stop() == 0  # the error is raised once
    assert_gone(ids)


def test_failed_attach_in_start_leaves_nothing_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import pybpf.attach as at
    from pybpf.errors import KernelError

    real = at.attach_tracepoint
    made: list[object] = []

    def second_fails(prog: object, category: str, name: str, **kw: object) -> object:
        if made:
            raise KernelError("attach: simulated failure", 1)
        link = real(prog, category, name, **kw)  # type: ignore[arg-type]
        made.append(link)
        return link

    monkeypatch.setattr(at, "attach_tracepoint", second_fails)
    t = Tracer(
        "tracepoint:syscalls:sys_enter_getppid { @a = count(); }"
        " tracepoint:syscalls:sys_enter_getpgid { @b = count(); }"
    )
    with pytest.raises(KernelError, match="simulated"):
        t.start()
    assert made and all(link.closed for link in made)  # type: ignore[attr-defined]
    assert not t.running
    assert t.object_ids() == {"prog": [], "map": [], "link": []}
