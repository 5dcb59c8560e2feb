"""DWARF of user binaries (pure parsing): parameters, type names as ``bpftrace -lv`` prints
them, struct layouts, the x86-64 argument registers, separate debug files, and the cache.

Test programs are compiled here with gcc (-O0 and -O2); layouts are checked against what
the C compiler itself says (``offsetof``/``sizeof`` printed by a program built alongside).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf.elf import abi, dwarf
from pybpf.passes import types as T
from pybpf.passes.uprobeargs import PT_REGS_OFFSET, args_struct, unsupported_param

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

SOURCE = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
struct point { int x; long y; char name[8]; unsigned short flags; struct point *next;
               unsigned int lo : 3, hi : 5; };
struct pair { long a; long b; };
struct mixed { double d; long l; };
typedef unsigned long ulong_t;
enum color { RED, GREEN = 300 };
#define N __attribute__((noipa))
N int f_int(int a, unsigned char b, long c) { return a + b + (int)c; }
N long f_str(const char *s, struct point *p) { return (long)strlen(s) + p->x; }
N ulong_t f_many(int a, int b, int c, int d, int e, int f, int g) { return a+b+c+d+e+f+g; }
N int f_six(int a, int b, int c, int d, int e, long f) { return a+b+c+d+e+(int)f; }
N double f_dbl(double d, int i) { return d + i; }
N int f_sv(struct point p, int i) { return p.x + i; }
N long f_pair(struct pair p, struct mixed m, int i) { return p.a + m.l + i; }
N short f_neg(short s, signed char c, unsigned int u, unsigned long long ull) { return s + c; }
N void f_misc(enum color c, _Bool b, char *const cp, const void *v, int (*fn)(int),
              char **argv) { (void)c; (void)b; (void)cp; (void)v; (void)fn; (void)argv; }
N void f_big(int w, struct pair a, struct pair b, struct pair c, int x) { (void)w;
              (void)a; (void)b; (void)c; (void)x; }
int main(int argc, char **argv) {
  if (argc > 1) {  /* the layout oracle */
    printf("%zu %zu %zu %zu %zu\n", sizeof(struct point), offsetof(struct point, y),
           offsetof(struct point, name), offsetof(struct point, flags),
           offsetof(struct point, next));
    return 0;
  }
  struct point p = { 7, -3, "pt", 9, 0, 5, 17 };
  struct pair pr = { 1, 2 };
  struct mixed m = { 1.5, 2 };
  f_int(-5, 200, 1234567890123L); f_str("hello", &p); f_many(1, 2, 3, 4, 5, 6, 7);
  f_six(1, 2, 3, 4, 5, 6); f_dbl(1.5, 2); f_sv(p, 3); f_pair(pr, m, 4);
  f_neg(-2, -3, 4000000000u, 123ULL); f_misc(GREEN, 1, argv[0], argv, 0, argv);
  f_big(0, pr, pr, pr, 1);
  return 0;
}
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The program at -O0 and -O2 with -g, a stripped copy, and the layout oracle."""
    d = tmp_path_factory.mktemp("dwarf")
    src = d / "t.c"
    src.write_text(SOURCE)
    out: dict[str, Path] = {}
    for name, opt in (("O0", "-O0"), ("O2", "-O2")):
        out[name] = d / f"t{name}"
        subprocess.run(["gcc", "-g", opt, "-o", str(out[name]), str(src)], check=True)
    out["stripped"] = d / "ts"
    shutil.copy(out["O0"], out["stripped"])
    subprocess.run(["strip", str(out["stripped"])], check=True)
    out["nodebug"] = d / "tn"
    subprocess.run(["gcc", "-O0", "-o", str(out["nodebug"]), str(src)], check=True)
    return out


def params(path: Path, func: str) -> list[str]:
    info = dwarf.function_info(str(path), func)
    assert info is not None, func
    return [str(p) for p in info.params]


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_parameters_spelled_like_bpftrace(build: dict[str, Path], opt: str) -> None:
    b = build[opt]
    assert params(b, "f_int") == ["int a", "unsigned char b", "long int c"]
    assert params(b, "f_str") == ["const char* s", "struct point* p"]
    assert params(b, "f_neg") == [
        "short int s", "signed char c", "unsigned int u", "long long unsigned int ull",
    ]  # fmt: skip
    assert params(b, "f_misc") == [
        "enum color c", "_Bool b", "char* const cp", "const <unknown type>* v", "<unknown type>* fn",
        "char** argv",
    ]  # fmt: skip
    assert params(b, "main") == ["int argc", "char** argv"]
    info = dwarf.function_info(str(b), "f_many")
    assert info is not None and dwarf.type_name(info.ret) == "ulong_t"
    void = dwarf.function_info(str(b), "f_misc")
    assert void is not None and void.ret is None


def test_struct_layout_matches_the_compiler(build: dict[str, Path]) -> None:
    oracle = subprocess.run([str(build["O0"]), "x"], capture_output=True, text=True, check=True)
    size, y, name, flags, nxt = map(int, oracle.stdout.split())
    info = dwarf.function_info(str(build["O0"]), "f_str")
    assert info is not None
    st = info.params[1].type.target
    assert st is not None and st.tag == "struct" and st.name == "point" and st.size == size
    by = {m.name: m for m in st.members}
    assert [m.name for m in st.members] == ["x", "y", "name", "flags", "next", "lo", "hi"]
    assert (by["y"].offset, by["name"].offset, by["flags"].offset) == (y, name, flags)
    assert by["next"].offset == nxt
    assert by["name"].type.tag == "array" and by["name"].type.count == 8
    # Bitfields: lo is bits 0-2 and hi bits 3-7 of the byte after next (little-endian).
    lo, hi = by["lo"], by["hi"]
    assert (lo.offset, lo.bit_offset, lo.bit_size) == (nxt + 8, 0, 3)
    assert (hi.offset, hi.bit_offset, hi.bit_size) == (nxt + 8, 3, 5)
    # The self-reference converts without recursing forever.
    assert by["next"].type.target is st


def test_front_end_types(build: dict[str, Path]) -> None:
    info = dwarf.function_info(str(build["O0"]), "f_str")
    assert info is not None
    st, on_stack = args_struct(info)
    assert not on_stack and st.origin == "args"
    s, p = st.field("s"), st.field("p")
    assert s is not None and p is not None
    assert s.type == T.PointerType(T.INT8, T.AddrSpace.USER)
    assert (s.offset, p.offset) == (PT_REGS_OFFSET["rdi"], PT_REGS_OFFSET["rsi"])
    assert isinstance(p.type, T.PointerType) and isinstance(p.type.target, T.StructType)
    point = p.type.target
    assert (point.name, point.origin, point.size) == ("point", "dwarf", 48)
    name = point.field("name")
    assert name is not None and name.type == T.StringType(8)
    flags = point.field("flags")
    assert flags is not None and flags.type == T.IntType(16, False)
    nxt = point.field("next")
    assert nxt is not None and nxt.type == T.PointerType(point, T.AddrSpace.USER)
    ints = dwarf.function_info(str(build["O0"]), "f_neg")
    assert ints is not None
    got = [(f.name, f.type) for f in args_struct(ints)[0].fields]
    assert got == [("s", T.IntType(16, True)), ("c", T.IntType(8, True)),
                   ("u", T.IntType(32, False)), ("ull", T.IntType(64, False))]  # fmt: skip
    misc = dwarf.function_info(str(build["O0"]), "f_misc")
    assert misc is not None
    types = {f.name: f.type for f in args_struct(misc)[0].fields}
    assert types["c"] == T.IntType(32, False) and types["b"] == T.IntType(8, False)
    assert types["fn"] == T.PointerType(T.VOID, T.AddrSpace.USER)
    assert types["argv"] == T.PointerType(T.PointerType(T.INT8, T.AddrSpace.USER),
                                          T.AddrSpace.USER)  # fmt: skip


def where(path: Path, func: str) -> list[tuple[str, int]]:
    info = dwarf.function_info(str(path), func)
    assert info is not None
    return [(loc.where.value, loc.reg) for loc in abi.locate(info)]


def test_sysv_argument_registers(build: dict[str, Path]) -> None:
    b = build["O0"]
    assert where(b, "f_int") == [("reg", 0), ("reg", 1), ("reg", 2)]
    assert where(b, "f_six") == [("reg", i) for i in range(6)]
    assert where(b, "f_many")[-1] == ("stack", -1)
    # A double goes to xmm0: the int after it is in rdi, not rsi.
    assert where(b, "f_dbl") == [("sse", -1), ("reg", 0)]
    # A 48-byte struct by value is in memory; the int after it still gets rdi.
    assert where(b, "f_sv") == [("memory", -1), ("reg", 0)]
    # 16-byte structs: two integer eightbytes (rdi, rsi), or one int + one sse (rdx).
    assert where(b, "f_pair") == [("regs", 0), ("regs", 2), ("reg", 3)]
    # After w and two pairs one register is left: the third pair does not fit whole and
    # goes to memory, and x still takes the register left (r9).
    assert where(b, "f_big") == [("reg", 0), ("regs", 1), ("regs", 3), ("memory", -1),
                                 ("reg", 5)]  # fmt: skip


def test_unsupported_parameters_are_remembered_not_fields(build: dict[str, Path]) -> None:
    for func, bad in (("f_dbl", "d"), ("f_sv", "p")):
        info = dwarf.function_info(str(build["O0"]), func)
        assert info is not None
        st, on_stack = args_struct(info)
        assert not on_stack
        i = st.field("i")
        assert st.field(bad) is None and unsupported_param(st, bad)
        assert not unsupported_param(st, "i") and not unsupported_param(st, "nope")
        assert i is not None and i.offset == PT_REGS_OFFSET["rdi"]
    many = dwarf.function_info(str(build["O0"]), "f_many")
    assert many is not None and args_struct(many)[1]


def test_without_debug_info(build: dict[str, Path]) -> None:
    for name in ("stripped", "nodebug"):
        assert dwarf.debug_info(str(build[name])) is None
        assert dwarf.function_info(str(build[name]), "f_int") is None
    assert dwarf.function_info(str(build["O0"]), "no_such_function") is None
    assert dwarf.debug_info("/nonexistent/binary") is None
    assert dwarf.debug_file(str(build["O0"].parent / "t.c")) is None  # not ELF


def test_separate_debug_file_by_build_id_and_debuglink(
    build: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = build["O0"]
    bid = subprocess.run(["readelf", "-n", str(full)], capture_output=True, text=True).stdout
    hexid = bid.split("Build ID:")[1].split()[0]
    root = tmp_path / "debug"
    dbg = root / ".build-id" / hexid[:2] / f"{hexid[2:]}.debug"
    dbg.parent.mkdir(parents=True)
    subprocess.run(["objcopy", "--only-keep-debug", str(full), str(dbg)], check=True)
    stripped = tmp_path / "bin"
    subprocess.run(["objcopy", "--strip-debug", str(full), str(stripped)], check=True)
    monkeypatch.setattr(dwarf, "DEBUG_ROOT", str(root))
    assert dwarf.debug_file(str(stripped)) == str(dbg)
    assert params(stripped, "f_int") == ["int a", "unsigned char b", "long int c"]
    # .gnu_debuglink next to the binary (no build-id match under this root).
    linked = tmp_path / "linked"
    shutil.copy(dbg, tmp_path / "linked.debug")
    subprocess.run(["objcopy", "--strip-debug", "--remove-section=.note.gnu.build-id",
                    f"--add-gnu-debuglink={tmp_path / 'linked.debug'}", str(full),
                    str(linked)], check=True)  # fmt: skip
    assert dwarf.debug_file(str(linked)) == str(tmp_path / "linked.debug")
    assert params(linked, "f_neg")[0] == "short int s"


def test_cache_is_per_file_version(build: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "t"
    shutil.copy(build["O0"], copy)
    first = dwarf.debug_info(str(copy))
    assert first is not None and dwarf.debug_info(str(copy)) is first
    # Rewritten (new mtime/size): parsed again, and the answer follows the new file.
    shutil.copy(build["nodebug"], copy)
    os.utime(copy, ns=(1, 1))
    assert dwarf.debug_info(str(copy)) is None
    dwarf.clear_cache()
    shutil.copy(build["O0"], copy)
    assert dwarf.debug_info(str(copy)) is not None


@pytest.mark.parametrize("version", ["-gdwarf-2", "-gdwarf-4"])
def test_older_dwarf_versions(build: dict[str, Path], tmp_path: Path, version: str) -> None:
    out = tmp_path / "t"
    subprocess.run(["gcc", version, "-O0", "-o", str(out), str(build["O0"].parent / "t.c")],
                   check=True)  # fmt: skip
    assert params(out, "f_int") == ["int a", "unsigned char b", "long int c"]
    assert params(out, "f_str") == ["const char* s", "struct point* p"]
    info = dwarf.function_info(str(out), "f_str")
    assert info is not None and info.params[1].type.target is not None
    by = {m.name: m for m in info.params[1].type.target.members}
    # DWARF 2 spells bitfields big-endian style (DW_AT_bit_offset): same bits either way.
    assert (by["lo"].bit_offset, by["lo"].bit_size) == (0, 3)
    assert (by["hi"].bit_offset, by["hi"].bit_size) == (3, 5)
    assert by["y"].offset == 8


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_corrupt_debug_info_never_raises(
    build: dict[str, Path], tmp_path: Path, data: st.DataObject
) -> None:
    raw = bytearray(build["O0"].read_bytes())
    # Corrupt bytes inside .debug_info / .debug_abbrev / .debug_str only.
    secs = subprocess.run(["readelf", "-S", "-W", str(build["O0"])], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    ranges = []
    for line in secs.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 5 and parts[1] in (".debug_info", ".debug_abbrev", ".debug_str"):
            ranges.append((int(parts[4], 16), int(parts[5], 16)))
    for _ in range(data.draw(st.integers(1, 8))):
        off, size = data.draw(st.sampled_from(ranges))
        raw[off + data.draw(st.integers(0, size - 1))] = data.draw(st.integers(0, 255))
    out = tmp_path / f"c{data.draw(st.integers(0, 10**9))}"
    out.write_bytes(bytes(raw))
    for func in ("f_int", "f_str", "f_sv", "main"):
        info = dwarf.function_info(str(out), func)
        if info is not None:
            st_, _ = args_struct(info)
            for f in st_.fields:
                if isinstance(f.type, T.PointerType) and isinstance(f.type.target, T.StructType):
                    assert isinstance(f.type.target.fields, tuple)
            [str(p) for p in info.params]


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_cpp_functions_by_mangled_name(tmp_path: Path) -> None:
    (tmp_path / "c.cpp").write_text(
        "struct S { int v; int get(int k); };\n"
        "__attribute__((noipa)) int add(int a, long b) { return a + (int)b; }\n"
        "__attribute__((noipa)) int S::get(int k) { return v + k; }\n"
        "int main() { S s{5}; return add(1, 2) + s.get(3) == 0; }\n"
    )
    out = tmp_path / "c"
    subprocess.run(["g++", "-g", "-O0", "-o", str(out), str(tmp_path / "c.cpp")], check=True)
    # The symbols are mangled; DWARF's linkage names match them.
    assert params(out, "_Z3addil") == ["int a", "long int b"]
    assert params(out, "_ZN1S3getEi") == ["struct S* const this", "int k"]
