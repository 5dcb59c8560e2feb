"""The inspector against bpftool, on programs and maps this test loads itself."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pybpf.asm.builder import (
    R0,
    R1,
    R2,
    R10,
    ProgramBuilder,
    alu64,
    call,
    exit_,
    ld_map_fd,
    mov64_imm,
    mov64_reg,
    st_imm,
)
from pybpf.asm.opcodes import AluOp
from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType

pytestmark = pytest.mark.kernel
needs_bpftool = pytest.mark.skipif(shutil.which("bpftool") is None, reason="bpftool not installed")


def pybpf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf", *args], capture_output=True, text=True, timeout=60
    )


def bpftool(*args: str) -> str:
    return subprocess.run(["bpftool", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def loaded() -> Iterator[tuple[Program, Map]]:
    """A socket filter that updates one entry of a hash map: one program, one map."""
    spec = MapSpec(MapType.HASH, key_size=4, value_size=8, max_entries=16, name="insp_map")
    with Map.create(spec) as m:
        m.update(struct.pack("<I", 7), struct.pack("<Q", 0x1122334455667788))
        b = ProgramBuilder()
        b.emit(
            st_imm("u32", R10, -4, 7),
            ld_map_fd(R1, m.fd),
            mov64_reg(R2, R10),
            alu64(AluOp.ADD, R2, -4),
            call("bpf_map_lookup_elem"),
            mov64_imm(R0, 0),
            exit_(),
        )
        prog = Program.load(ProgSpec(ProgType.SOCKET_FILTER, tuple(b.build()), name="insp_prog"))
        with prog:
            yield prog, m


def _fields(text: str) -> dict[str, str]:
    """bpftool-style 'key value' pairs of a show block (the first line's id:type aside)."""
    words = text.replace("\t", " ").split()
    out = {"id": words[0].rstrip(":"), "type": words[1]}
    i = 2
    while i < len(words):
        if words[i] in ("gpl",):
            out["gpl"] = "yes"
            i += 1
            continue
        if i + 1 < len(words):
            out[words[i]] = words[i + 1]
        i += 2
    return out


@needs_bpftool
def test_prog_show_matches_bpftool(loaded: tuple[Program, Map]) -> None:
    prog, m = loaded
    ours = pybpf("prog", "show", str(prog.id))
    assert ours.returncode == 0, ours.stderr
    theirs = bpftool("prog", "show", "id", str(prog.id))
    mine = _fields(ours.stdout)
    ref = _fields(theirs)
    for key in (
        "id",
        "type",
        "name",
        "tag",
        "gpl",
        "loaded_at",
        "uid",
        "xlated",
        "jited",
        "memlock",
        "map_ids",
    ):
        assert mine.get(key) == ref.get(key), key
    assert mine["map_ids"] == str(m.id)
    # The line bpftool lacks: the verifier's instruction count.
    assert int(mine["verified_insns"]) > 0


@needs_bpftool
def test_prog_show_json_matches_bpftool(loaded: tuple[Program, Map]) -> None:
    prog, _ = loaded
    mine = json.loads(pybpf("prog", "show", str(prog.id), "-j").stdout)
    ref = json.loads(bpftool("prog", "show", "id", str(prog.id), "-j"))
    mine = mine[0] if isinstance(mine, list) else mine
    for key, value in ref.items():
        if key in ("pids",):
            continue
        assert mine[key] == value, key


@needs_bpftool
def test_prog_list_contains_ours(loaded: tuple[Program, Map]) -> None:
    prog, _ = loaded
    out = pybpf("prog", "list").stdout
    assert f"{prog.id}: socket_filter  name insp_prog  tag " in out


@needs_bpftool
def test_dump_xlated_matches_bpftool(loaded: tuple[Program, Map]) -> None:
    prog, m = loaded
    ours = pybpf("prog", "dump", "xlated", str(prog.id))
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == bpftool("prog", "dump", "xlated", "id", str(prog.id))
    assert f"map[id:{m.id}]" in ours.stdout


def test_dump_jited_disassembles(loaded: tuple[Program, Map]) -> None:
    prog, _ = loaded
    out = pybpf("prog", "dump", "jited", str(prog.id))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("bpf_prog_") and lines[0].endswith("_insp_prog:")
    # The x86-64 JIT's frame: push the frame pointer on entry, leave before returning.
    mnemonics = [ln.split("\t")[1] for ln in lines[1:] if "\t" in ln]
    assert "pushq" in mnemonics and "leave" in mnemonics


@needs_bpftool
def test_map_show_and_dump_match_bpftool(loaded: tuple[Program, Map]) -> None:
    _, m = loaded
    show = pybpf("map", "show", str(m.id)).stdout
    assert _fields(show) == _fields(bpftool("map", "show", "id", str(m.id)))
    dump = pybpf("map", "dump", str(m.id)).stdout
    assert dump == bpftool("map", "dump", "id", str(m.id))
    assert json.loads(pybpf("map", "dump", str(m.id), "-j").stdout) == json.loads(
        bpftool("map", "dump", "id", str(m.id), "-j")
    )


@needs_bpftool
def test_percpu_map_dump_matches_bpftool() -> None:
    spec = MapSpec(MapType.PERCPU_ARRAY, key_size=4, value_size=8, max_entries=2, name="insp_pc")
    with Map.create(spec) as m:
        ncpu = len(m.lookup(struct.pack("<I", 0)) or [])
        m.update(struct.pack("<I", 1), [struct.pack("<Q", c + 5) for c in range(ncpu)])
        assert pybpf("map", "dump", str(m.id)).stdout == bpftool("map", "dump", "id", str(m.id))


def test_bad_ids_are_one_line_errors() -> None:
    for args in (
        ["prog", "show", "4000000000"],
        ["map", "dump", "4000000000"],
        ["prog", "dump", "xlated", "nope"],
        ["prog", "dump", "sideways", "1"],
    ):
        p = pybpf(*args)
        assert p.returncode != 0
        assert "Traceback" not in p.stderr
        assert p.stderr.startswith("pybpf: ERROR: ") or "usage:" in p.stderr
