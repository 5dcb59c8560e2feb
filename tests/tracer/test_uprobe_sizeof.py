"""``sizeof``/``offsetof`` of structs that only the probed binary's DWARF knows, in a
uprobe (as bpftrace resolves them): a C program built here with ``gcc -g`` is run with
``-c`` and the values printed from the probe must be the C compiler's own (the program
prints them too).  The front end folds them, so code generation needs no kernel BTF."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
]

SOURCE = r"""
#include <stddef.h>
#include <stdio.h>
struct point { int x; long y; char name[8]; unsigned short flags; struct point *next; };
struct inner { char c; int v; };
struct outer { long a; struct inner in; short s[3]; };
__attribute__((noipa)) int f(struct point *p, struct outer *o) { return p->x + (int)o->a; }
int main(int argc, char **argv) {
  struct point p = { 1, 2, "a", 3, 0 };
  struct outer o = { 5, { 'c', 6 }, { 7, 8, 9 } };
  if (argc > 1) {
    printf("%zu %zu %zu %zu %zu %zu\n", sizeof(struct point), offsetof(struct point, flags),
           offsetof(struct point, next), sizeof(struct outer), offsetof(struct outer, in.v),
           sizeof(struct inner));
    return 0;
  }
  return f(&p, &o) == 99;
}
"""

SCRIPT = (
    'uprobe:{b}:f {{ printf("%d %d %d %d %d %d\\n", sizeof(struct point), '
    "offsetof(struct point, flags), offsetof(struct point, next), sizeof(struct outer), "
    "offsetof(struct outer, in.v), sizeof(args.o->in)); }}"
)


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("usizeof")
    (d / "t.c").write_text(SOURCE)
    out = d / "t"
    subprocess.run(["gcc", "-g", "-O1", "-o", str(out), str(d / "t.c")], check=True)
    return out


def _trace(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_values_match_the_c_compiler(binary: Path) -> None:
    want = subprocess.run([str(binary), "sizes"], capture_output=True, text=True, check=True)
    assert want.stdout.split() == ["40", "24", "32", "24", "12", "8"]  # x86-64 layouts
    r = _trace("-e", SCRIPT.format(b=binary), "-c", str(binary))
    assert r.returncode == 0, r.stderr
    assert [ln for ln in r.stdout.splitlines() if ln] == [want.stdout.strip()]


def test_folded_by_the_front_end(binary: Path) -> None:
    """No kernel needed: the values are constants on the AST after the type pass."""
    from pybpf.lang import ast
    from pybpf.passes.pipeline import compile_frontend

    r = compile_frontend(SCRIPT.format(b=binary), "t.bt")
    assert r.ok, r.render()
    folded = [
        n.value
        for n in ast.walk(r.program.probes[0])
        if isinstance(n, ast.Sizeof | ast.Offsetof) and isinstance(n.arg, ast.TypeSpec)
    ]
    assert folded == [40, 24, 32, 24, 12]


def test_unknown_struct_is_a_front_end_error(binary: Path) -> None:
    r = _trace("-e", f"uprobe:{binary}:f {{ print(sizeof(struct nosuch)); }}", "--dry-run")
    assert r.returncode != 0
    assert "Unknown struct/union: 'struct nosuch'" in r.stderr
    assert "Traceback" not in r.stderr
