"""What the passes hand to code generation: attach points, expansion, args, resources."""

from __future__ import annotations

import pytest

from pybpf.lang import ast
from pybpf.passes import types as T
from pybpf.passes.pipeline import compile_frontend

from .fakes import FakeCatalog

CAT = FakeCatalog(with_btf=False)
BTF_CAT = FakeCatalog()
HAVE_BTF = BTF_CAT.btf() is not None


def _ok(src: str, params: list[str] | None = None, cat: FakeCatalog = CAT) -> ast.Program:
    r = compile_frontend(src, "t.bt", params, catalog=cat)
    assert r.ok, r.render()
    return r.program


def _aps(src: str) -> list[ast.AttachPoint]:
    return [ap for p in _ok(src).probes for ap in p.attach_points]


def test_attach_point_fields() -> None:
    aps = _aps(
        "BEGIN, END {} t:sched:sched_switch {} kprobe:vfs_read+16 {} "
        "ur:/bin/bash:readline {} uprobe:/bin/bash:0x1234 {} U:/x:python:function__entry {} "
        "interval:s:1 {} i:500ms {} p:99 {} profile:hz:49 {} s:faults:100 {} "
        "watchpoint:0x1000:8:wr {} rt:sched_switch {} kfunc:vfs_open {} kretfunc:vfs_open {}"
    )
    got = [(a.provider, a.target, a.func, a.offset, a.address, a.unit, a.freq) for a in aps]
    assert got == [
        ("begin", "", "", 0, None, "", 0),
        ("end", "", "", 0, None, "", 0),
        ("tracepoint", "sched", "sched_switch", 0, None, "", 0),
        ("kprobe", "", "vfs_read", 16, None, "", 0),
        ("uretprobe", "/bin/bash", "readline", 0, None, "", 0),
        ("uprobe", "/bin/bash", "", 0, 0x1234, "", 0),
        ("usdt", "/x", "function__entry", 0, None, "", 0),
        ("interval", "", "", 0, None, "s", 1),
        ("interval", "", "", 0, None, "ms", 500),
        ("profile", "", "", 0, None, "hz", 99),
        ("profile", "", "", 0, None, "hz", 49),
        ("software", "page-faults", "", 0, None, "", 100),
        ("watchpoint", "", "", 0, 0x1000, "", 0),
        ("rawtracepoint", "", "sched_switch", 0, None, "", 0),
        ("fentry", "", "vfs_open", 0, None, "", 0),
        ("fexit", "", "vfs_open", 0, None, "", 0),
    ]
    assert aps[12].mode == "rw" and aps[12].length == 8
    assert aps[6].namespace == "python"
    assert [a.name for a in aps[:4]] == [
        "BEGIN",
        "END",
        "tracepoint:sched:sched_switch",
        "kprobe:vfs_read+16",
    ]


def test_wildcard_expansion() -> None:
    aps = _aps(
        "tracepoint:syscalls:sys_enter_* {} kprobe:vfs_re* {} uprobe:/bin/bash:rl_* {} "
        "usdt:/x:* {} tracepoint:sched:sched_switch {}"
    )
    assert aps[0].matches == [
        "tracepoint:syscalls:sys_enter_openat",
        "tracepoint:syscalls:sys_enter_read",
    ]
    assert aps[1].matches == ["kprobe:vfs_read", "kprobe:vfs_readv"]
    assert aps[2].matches == ["uprobe:/bin/bash:rl_getc"]
    assert aps[3].matches == ["usdt:/x:python:function__entry", "usdt:/x:python:function__return"]
    assert aps[4].matches == ["tracepoint:sched:sched_switch"]


def test_uprobe_library_name_resolved() -> None:
    (ap,) = _aps("uprobe:libc:malloc {}")
    assert ap.target == "/lib/x86_64-linux-gnu/libc.so.6"
    assert ap.matches == ["uprobe:/lib/x86_64-linux-gnu/libc.so.6:malloc"]


def test_wildcard_without_match_is_error() -> None:
    r = compile_frontend("kprobe:nomatch_* {}", "t.bt", catalog=CAT)
    assert [d.message for d in r.diags] == ["No probes matched for kprobe:nomatch_*"]


def test_tracepoint_args_types_and_per_match_layouts() -> None:
    r = compile_frontend(
        "tracepoint:syscalls:sys_enter_* { @[args.__syscall_nr] = count(); }\n"
        'tracepoint:sched:sched_process_exec { printf("%s %d\\n", str(args.filename), '
        "args.pid); $c = args->pid; }\n"
        "tracepoint:sched:sched_switch { @n[args.prev_comm] = count(); }",
        "t.bt",
        catalog=CAT,
    )
    assert r.ok, r.render()
    ctx = r.context
    read = ctx.args_by_match["tracepoint:syscalls:sys_enter_read"]
    assert isinstance(read, T.StructType)
    assert str(read) == "struct _tracepoint_syscalls_sys_enter_read"
    assert read.size == 40
    fd = read.field("fd")
    assert fd is not None and fd.offset == 16 and fd.type == T.UINT64
    buf = read.field("buf")
    assert buf is not None and buf.type == T.PointerType(T.INT8, T.AddrSpace.USER)
    assert "tracepoint:syscalls:sys_enter_openat" in ctx.args_by_match
    exec_args = ctx.args_by_match["tracepoint:sched:sched_process_exec"]
    assert isinstance(exec_args, T.StructType)
    fn = exec_args.field("filename")
    assert fn is not None and isinstance(fn.type, T.DataLocType)
    sw = ctx.args_by_match["tracepoint:sched:sched_switch"]
    assert isinstance(sw, T.StructType)
    comm = sw.field("prev_comm")
    assert comm is not None and comm.type == T.StringType(16) and comm.offset == 8
    res = r.resources
    assert res is not None
    assert res.maps["@n"].key == T.StringType(16)
    assert res.maps["@"].key == T.INT32


def test_resources_maps_formats_stacks() -> None:
    r = compile_frontend(
        "let @decl = lruhash(128);\n"
        "kprobe:vfs_read { @c[pid, comm] = count(); @h = hist(arg2); @s = sum(arg2);\n"
        "  @l = lhist(arg2, 0, 100, 10); @st[kstack(perf, 5)] = count(); @last = nsecs;\n"
        '  @decl[tid] = 1; printf("%d %s\\n", pid, comm); time("%H"); }\n'
        "END { print(@c); clear(@c); }",
        "t.bt",
        catalog=CAT,
    )
    assert r.ok, r.render()
    res = r.resources
    assert res is not None
    c = res.maps["@c"]
    assert c.key == T.TupleType((T.UINT32, T.StringType(16)))
    assert c.value == T.AggType(T.AggKind.COUNT)
    assert (c.kind, c.max_entries) == ("percpuhash", 4096)
    h = res.maps["@h"]
    assert h.key is None and h.kind == "percpuarray" and h.max_entries == 1
    assert h.value == T.AggType(T.AggKind.HIST, T.INT64, (0,))
    assert res.maps["@l"].value == T.AggType(T.AggKind.LHIST, T.INT64, (0, 100, 10))
    assert res.maps["@l"].value.buckets == 13
    assert res.maps["@s"].value == T.AggType(T.AggKind.SUM, T.UINT64)
    assert (res.maps["@last"].kind, res.maps["@last"].value) == ("array", T.UINT64)
    assert (res.maps["@decl"].kind, res.maps["@decl"].max_entries) == ("lruhash", 128)
    assert res.maps["@decl"].declared
    assert [(f.kind, f.fmt) for f in res.formats] == [("printf", "%d %s\n"), ("time", "%H")]
    assert res.formats[0].args == T.TupleType((T.UINT32, T.StringType(16)))
    call = next(n for n in ast.walk(r.program) if isinstance(n, ast.Call) and n.name == "printf")
    assert res.format_of[id(call)] == 0
    assert res.stacks == [T.StackType(False, T.StackMode.PERF, 5)]
    assert res.probes[0].names == ["kprobe:vfs_read"]


def test_params_and_param_count() -> None:
    prog = _ok("BEGIN { @a = $1 + 1; @b = str($2); @n = $#; @z = $3; }", ["41", "hello"])
    values = [s.value for s in prog.probes[0].body.stmts if isinstance(s, ast.Assign)]
    assert isinstance(values[0], ast.Binary) and isinstance(values[0].left, ast.Integer)
    assert values[0].left.value == 41
    assert isinstance(values[1], ast.Call) and isinstance(values[1].args[0], ast.String)
    assert values[1].args[0].value == "hello"
    assert isinstance(values[2], ast.Integer) and values[2].value == 2
    assert isinstance(values[3], ast.Integer) and values[3].value == 0


def test_params_in_attach_points() -> None:
    r = compile_frontend("uprobe:$1:readline {}", "t.bt", ["/bin/bash"], catalog=CAT)
    assert r.ok
    assert r.program.probes[0].attach_points[0].target == "/bin/bash"


def test_macro_expansion() -> None:
    prog = _ok(
        "macro add1(x) { x + 1 }\nmacro bump(@m, $k) { @m[$k]++; }\n"
        "BEGIN { $k = 3; @v = add1(add1(2)); bump(@hits, $k); }"
    )
    stmts = prog.probes[0].body.stmts
    assert isinstance(stmts[1], ast.Assign)
    v = stmts[1].value
    assert isinstance(v, ast.Binary) and isinstance(v.left, ast.Binary)
    assert isinstance(stmts[2], ast.Block)
    inc = stmts[2].stmts[0]
    assert isinstance(inc, ast.ExprStmt) and isinstance(inc.expr, ast.IncDec)
    target = inc.expr.target
    assert isinstance(target, ast.MapAccess) and target.map.name == "@hits"


def test_config_values() -> None:
    r = compile_frontend(
        "config = { max_strlen = 100; stack_mode = perf; print_maps_on_exit = false }\n"
        "BEGIN { @s = str(arg0); }",
        "t.bt",
        catalog=CAT,
    )
    # arg0 in BEGIN is an error; config still applied
    assert r.context.config["max_strlen"] == 100
    assert r.context.config["stack_mode"] == "perf"
    assert r.context.config["print_maps_on_exit"] is False
    r2 = compile_frontend(
        'config = { max_strlen = 100 } BEGIN { @s = str("abc"); $k = kstack; }',
        "t.bt",
        catalog=CAT,
    )
    assert r2.ok
    assert r2.resources is not None and r2.resources.max_strlen == 100


def test_expression_types() -> None:
    prog = _ok(
        'BEGIN { $a = 1; $b = $a + (uint8)2; $c = $a == 1; $d = "ab"; $e = (1, "x");'
        " $f = $e.1; $g = (uint32)1 + (uint32)2; $h = -(uint8)1; $i = 18446744073709551615;"
        ' $j = (n = 1, s = "q"); $k = $j.s; $l = sizeof(int32); $m = nsecs / 1000; }'
    )
    types = {
        s.target.name: s.value.type
        for s in prog.probes[0].body.stmts
        if isinstance(s, ast.Assign) and isinstance(s.target, ast.Variable)
    }
    assert types == {
        "$a": T.INT64,
        "$b": T.INT64,
        "$c": T.BOOL,
        "$d": T.StringType(3),
        "$e": T.TupleType((T.INT64, T.StringType(2))),
        "$f": T.StringType(2),
        "$g": T.UINT64,
        "$h": T.INT8,
        "$i": T.UINT64,
        "$j": T.RecordType(("n", "s"), (T.INT64, T.StringType(2))),
        "$k": T.StringType(2),
        "$l": T.UINT64,
        "$m": T.UINT64,
    }


def test_map_read_before_assignment_in_later_probe() -> None:
    r = compile_frontend("END { print(@x); $v = @x + 1; } BEGIN { @x = 5; }", "t.bt", catalog=CAT)
    assert r.ok, r.render()


@pytest.mark.skipif(not HAVE_BTF, reason="kernel BTF not available")
def test_btf_structs_and_fentry_args() -> None:
    r = compile_frontend(
        "fentry:vfs_read { @[args.count] = count(); $f = args.file; @p = curtask->pid; }\n"
        "fexit:vfs_read { @r = retval; }\n"
        "rawtracepoint:sched_switch { @prev = args.prev->pid; }",
        "t.bt",
        catalog=BTF_CAT,
    )
    assert r.ok, r.render()
    a = r.context.args_by_match["fentry:vfs_read"]
    assert isinstance(a, T.StructType)
    count = a.field("count")
    assert count is not None and count.type == T.UINT64 and count.offset == 16
    rt = r.context.args_by_match["rawtracepoint:sched_switch"]
    assert isinstance(rt, T.StructType)
    assert [f.name for f in rt.fields] == ["preempt", "prev", "next", "prev_state"]
    pid_store = r.resources.maps["@p"] if r.resources else None
    assert pid_store is not None and pid_store.value == T.INT32


@pytest.mark.skipif(not HAVE_BTF, reason="kernel BTF not available")
def test_script_struct_layout_and_enum_constants() -> None:
    r = compile_frontend(
        "struct S { char c; int i; long l; unsigned int b1 : 3, b2 : 5; struct S *next; };\n"
        "enum E { A = 4, B };\n"
        "BEGIN { $s = (struct S *)0; @i = $s->i; @n = $s->next->l; @e = B; @t = TCP_LISTEN;"
        " @af = AF_INET; @sz = sizeof(struct S); }",
        "t.bt",
        catalog=BTF_CAT,
    )
    assert r.ok, r.render()
    cast = next(n for n in ast.walk(r.program) if isinstance(n, ast.Cast))
    assert isinstance(cast.type, T.PointerType)
    st = cast.type.target
    assert isinstance(st, T.StructType)
    assert [(f.name, f.offset) for f in st.fields] == [
        ("c", 0), ("i", 4), ("l", 8), ("b1", 16), ("b2", 16), ("next", 24)
    ]  # fmt: skip
    assert [(f.bit_offset, f.bit_size) for f in st.fields[3:5]] == [(0, 3), (3, 5)]
    assert st.size == 32


def test_wildcard_args_field_must_exist_in_every_match() -> None:
    ok = compile_frontend(
        "tracepoint:syscalls:sys_enter_* { @[args.__syscall_nr] = count(); }", "t.bt", catalog=CAT
    )
    assert ok.ok, ok.render()
    bad = compile_frontend(
        "tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_openat "
        "{ @[args.fd] = count(); }",
        "t.bt",
        catalog=CAT,
    )
    assert [d.message for d in bad.diags] == [
        "tracepoint:syscalls:sys_enter_openat has no field named 'fd' (the probe's other "
        "matches do)"
    ]


def test_unknown_field_hint() -> None:
    r = compile_frontend(
        "tracepoint:sched:sched_switch { @[args.prev_pdi] = count(); }", "t.bt", catalog=CAT
    )
    (d,) = r.diags
    assert d.hints == ["Did you mean 'prev_pid'?"]


def test_data_loc_value_stored_as_string() -> None:
    r = compile_frontend(
        "tracepoint:sched:sched_process_exec { $f = args.filename; @m[$f] = count(); }",
        "t.bt",
        catalog=CAT,
    )
    assert r.ok, r.render()
    assert r.resources is not None
    assert r.resources.maps["@m"].key == T.StringType(64)
    fa = next(n for n in ast.walk(r.program) if isinstance(n, ast.FieldAccess))
    assert isinstance(fa.type, T.DataLocType)


def test_probe_scratch_estimate() -> None:
    r = compile_frontend(
        'BEGIN { $s = "abc"; $t = (1, comm); $n = 5; @x[comm] = count(); }', "t.bt", catalog=CAT
    )
    assert r.ok, r.render()
    assert r.resources is not None
    info = r.resources.probes[0]
    assert info.variables == {
        "$s": T.StringType(4),
        "$t": T.TupleType((T.INT64, T.StringType(16))),
        "$n": T.INT64,
    }
    assert info.scratch_vars == 4 + 24
    assert info.scratch_temp == 24


@pytest.mark.skipif(not HAVE_BTF, reason="kernel BTF not available")
def test_fexit_retval_type_from_btf() -> None:
    r = compile_frontend("fexit:vfs_open { @o = retval; }", "t.bt", catalog=BTF_CAT)
    assert r.ok, r.render()
    assert r.resources is not None and r.resources.maps["@o"].value == T.INT32
