"""``join()`` and ``buf()`` through the library: Join events, buffers as ``bytes``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from pybpf.api import Exit, Join, Printf, Tracer

pytestmark = pytest.mark.kernel


def test_buffers_are_bytes_and_join_is_an_event() -> None:
    script = (
        r'BEGIN { join(0); printf("%r|\n", buf("a\x01", 2)); @b = buf("xy", 2);'
        r' @k[buf("k", 1)] = 1; exit(); }'
    )
    with Tracer(script) as t:
        events = list(t.events(timeout=10))
        assert t.wait(10) == 0
    assert events == [Join(""), Printf("a\\x01|\n", "%r|\n", (b"a\x01",)), Exit(0)]
    assert t.maps() == {"@b": {None: b"xy"}, "@k": {b"k": 1}}


def test_join_of_a_real_argv() -> None:
    d = tempfile.mkdtemp(prefix="pbj", dir="/tmp")
    try:
        path = os.path.join(d, "t")
        os.symlink("/bin/true", path)
        script = (
            f'tracepoint:syscalls:sys_enter_execve /str(args.filename) == "{path}"/ '
            '{ join(args.argv, "+"); @args[buf(args.filename, 3)] = count(); }'
        )
        with Tracer(script) as t:
            subprocess.run([path, "x", "y z"], check=True)
            got = next(iter(t.events(timeout=10)))
            t.stop()
        assert got == Join(f"{path}+x+y z")
        assert t.maps() == {"@args": {b"/tm": 1}}
    finally:
        shutil.rmtree(d)
