"""C printing: goldens for a synthetic blob, bpftool's C dump as oracle for kernel structs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import synthetic
from btf_oracle import c_struct_decls

from pybpf import btf
from pybpf.btf.cformat import declaration, dump, type_name

DATA = Path(__file__).resolve().parents[1] / "testdata" / "btf"


def _synthetic_dump(spec: btf.Spec) -> str:
    out = [
        dump(spec, spec.find(name, kind))
        for name, kind in [
            ("demo", btf.Kind.STRUCT),
            ("mode", None),
            ("point_t", None),
            ("point_sum", None),
        ]
    ]
    return "\n\n".join(out) + "\n"


def test_encoder_is_deterministic() -> None:
    assert synthetic.build().encode() == (DATA / "synthetic.btf").read_bytes()


def test_synthetic_golden() -> None:
    spec = btf.Spec.from_file(DATA / "synthetic.btf", cache=False)
    assert _synthetic_dump(spec) == (DATA / "synthetic.c.golden").read_text()


def test_synthetic_members_match_bpftool_c() -> None:
    text = subprocess.run(
        ["bpftool", "btf", "dump", "file", str(DATA / "synthetic.btf"), "format", "c"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    m = re.search(r"^struct demo \{\n(.*?)^\};", text, re.M | re.S)
    assert m is not None
    theirs = [re.sub(r":\s+(\d+);", r":\1;", ln.strip()) for ln in m.group(1).splitlines()]
    golden = (DATA / "synthetic.c.golden").read_text().split("\n\n/* size")[0]
    ours = _strip_layout(golden.split("};\n\nenum")[0] + "};")
    assert ours == theirs


def _strip_layout(text: str) -> list[str]:
    """Our pahole-style dump reduced to bare declarations, as bpftool prints them."""
    out = []
    for ln in text.splitlines()[1:-1]:
        ln = re.sub(r"/\*.*?\*/", "", ln).strip()
        if ln:
            out.append(re.sub(r"\s+", " ", ln).replace("* ", "*").replace("*const", "* const"))
    return out


@pytest.mark.parametrize("name", ["callback_head", "task_struct", "sk_buff", "file", "mm_struct"])
def test_kernel_structs_match_bpftool_c(name: str) -> None:
    spec = btf.vmlinux()
    ours = _strip_layout(dump(spec, spec.find(name, btf.Kind.STRUCT)))
    ours = [ln for ln in ours if not ln.startswith("/*")]
    assert ours == c_struct_decls(name)


def test_offsets_in_comments_match_member_offsets() -> None:
    spec = btf.vmlinux()
    tid = spec.find("task_struct", btf.Kind.STRUCT)
    text = dump(spec, tid)
    line = next(ln for ln in text.splitlines() if re.search(r"\bpid;", ln))
    _, bit = spec.member(tid, "pid")
    assert re.search(rf"/\*\s+{bit // 8}\s+4 \*/", line), line
    assert line.lstrip().startswith("pid_t ")


def test_declarations() -> None:
    spec = btf.Spec((DATA / "synthetic.btf").read_bytes())
    demo = spec.type(spec.find("demo", btf.Kind.STRUCT))
    assert isinstance(demo, btf.Composite)
    decls = {m.name: declaration(spec, m.type, m.name) for m in demo.members if m.name}
    assert decls["cb"] == "void (*cb)(struct demo *, int)"
    assert decls["label"] == "const char * const label"
    assert decls["grid"] == "int grid[2][3]"
    assert type_name(spec, demo.members[1].type) == "char *"
    assert (
        dump(spec, spec.find("point_sum")) == "long int point_sum(struct {...} *p, unsigned int n);"
    )


def test_other_kinds_print() -> None:
    from pybpf.btf.builder import BtfBuilder

    b = BtfBuilder()
    i32 = b.add_int("int", 4, signed=True)
    arr = b.add_array(i32, i32, 2)
    var = b.add_var("counter", arr)
    sec = b.add_datasec(".bss", 8, [(var, 0, 8)])
    proto = b.add_func_proto(i32, [("x", i32)])
    fn = b.add_func("f", proto)
    tag = b.add_decl_tag("kfunc", fn, 0)
    tt = b.add_type_tag("user", i32)
    spec = btf.Spec(b.encode())
    assert dump(spec, arr) == "int[2];"
    assert dump(spec, var) == "int counter[2];"
    assert dump(spec, sec).splitlines()[:2] == [
        'SEC(".bss") {',
        "\tint counter[2];" + " " * 34 + "/*     0     8 */",
    ]
    assert dump(spec, proto) == "int (int x);"
    assert dump(spec, tag) == '/* btf_decl_tag("kfunc") on func f member/param 0 */'
    assert dump(spec, tt) == '__attribute__((btf_type_tag("user"))) int;'
    assert dump(spec, fn) == "int f(int x);"
