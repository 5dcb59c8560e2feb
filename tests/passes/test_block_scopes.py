"""Block-scoped ``$variables`` with current bpftrace's rules and messages (its
``VariablePreCheck``: every block is a scope, ``let`` shares a variable with inner blocks,
no shadowing, warnings for reads before any assignment and for never-assigned ``let``s)."""

from __future__ import annotations

import pytest

from pybpf.passes.pipeline import compile_frontend

from .fakes import FakeCatalog

CAT = FakeCatalog(with_btf=False)


def _diags(src: str) -> list[str]:
    return [str(d) for d in compile_frontend(src, "stdin", catalog=CAT).diags]


@pytest.mark.parametrize(
    "src",
    [
        'BEGIN { let $a = 0; if (1) { $a = 1; } printf("%d\\n", $a); }',
        'BEGIN { let $a; if (nsecs > 0) { $a = 1; } else { $a = 2; } printf("%d\\n", $a); }',
        'BEGIN { let $s; if (1) { $s = "x"; } printf("%s\\n", $s); }',
        "BEGIN { let $n = 0; while ($n < 3) { $n++; } print($n); }",
        "BEGIN { let $n = 0; unroll(3) { $n += 2; } print($n); }",
        "BEGIN { let $t = 0; for ($i : 0..4) { $t += $i; } print($t); }",
        "BEGIN { @m[1] = 2; let $t = 0; for ($kv : @m) { $t += $kv.1; } print($t); }",
        "BEGIN { $a = 1; { $a = 2; } print($a); }",
        # Sibling blocks may reuse a name, even with another type.
        'BEGIN { if (1) { $a = 1; print($a); } else { $a = "s"; print($a); } }',
        "BEGIN { if (1) { let $x = 1; print($x); } else { let $x = 2; print($x); } }",
        "BEGIN { let $x = 1 } END { let $x = 2; print($x); }",
        "BEGIN { let $x = 1; { let $y = 2; print($x + $y); } }",
        "BEGIN { $x = 5; for ($i : 1..10) { print($i); } print($x); }",
        "fn foo($x: int64): int64 { let $y = $x; return $y; } BEGIN { print(foo(1)); }",
        "BEGIN { $v = { let $w = 2; $w + 1 }; print($v); }",
    ],
)
def test_accepted(src: str) -> None:
    assert _diags(src) == []


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("BEGIN { $x += 1; }", ["stdin:1:9-11: ERROR: Undefined or undeclared variable: $x"]),
        ("BEGIN { $x = $x + 1; }", ["stdin:1:14-16: ERROR: Undefined or undeclared variable: $x"]),
        (
            "BEGIN { let $x = { let $y = $x; $y }; print($x); }",
            ["stdin:1:29-31: ERROR: Undefined or undeclared variable: $x"],
        ),
        (
            "BEGIN { let $x = 1; { let $x = 2; } }",
            [
                "stdin:1:23-29: ERROR: Variable $x was already declared. Variable shadowing is "
                "not allowed.",
                "stdin:1:9-15: ERROR: This is the initial declaration.",
            ],
        ),
        (
            "BEGIN { $x = 1; { let $x = 2; } }",
            [
                "stdin:1:19-25: ERROR: Variable $x was already declared. Variable shadowing is "
                "not allowed.",
                "stdin:1:9-15: ERROR: This is the initial assignment.",
            ],
        ),
        (
            "BEGIN { $i = 5; for ($i : 1..10) { print($i); } }",
            [
                "stdin:1:22-24: ERROR: Loop declaration shadows existing variable: $i",
                "stdin:1:9-15: ERROR: This is the initial assignment.",
            ],
        ),
        (
            "BEGIN { for ($i : 1..3) { let $i = 1; } }",
            [
                "stdin:1:27-33: ERROR: Variable $i was already declared. Variable shadowing is "
                "not allowed.",
                "stdin:1:14-16: ERROR: This is the loop variable.",
            ],
        ),
        (
            "fn foo($x: int64): void { let $x = 1; }",
            [
                "stdin:1:27-33: ERROR: Variable $x was already declared. Variable shadowing is "
                "not allowed.",
                "stdin:1:8-17: ERROR: This is the function parameter.",
            ],
        ),
    ],
)
def test_rejected(src: str, expected: list[str]) -> None:
    r = compile_frontend(src, "stdin", catalog=CAT)
    assert [str(d) for d in r.diags] == expected
    assert not r.ok


def test_read_before_assignment_warns() -> None:
    assert _diags("BEGIN { let $x; print($x); $x = 1; }") == [
        "stdin:1:23-25: WARNING: Variable used before it was assigned: $x"
    ]


def test_let_never_assigned_warns() -> None:
    assert _diags("BEGIN { let $x; }") == [
        "stdin:1:9-15: WARNING: Variable $x was never assigned to."
    ]


def test_sizeof_is_not_a_use() -> None:
    assert _diags("BEGIN { let $x; print(sizeof($x)); $x = 1; }") == []


def test_address_of_counts_as_assignment() -> None:
    assert _diags("BEGIN { let $x; $p = &$x; print($x); }") == []


@pytest.mark.parametrize(
    ("src", "use", "line"),
    [
        ('BEGIN { if (1) { $a = 1; } printf("%d\\n", $a); }', "1:43-45", 1),
        ("BEGIN { if (1) { $a = 1; } else { $a = 2; } print($a); }", "1:51-53", 1),
        ("BEGIN { $i = 0; while ($i < 2) { $i++; $w = $i; } print($w); }", "1:57-59", 1),
        ("BEGIN { unroll(2) { $u = 1; } print($u); }", "1:37-39", 1),
        ("BEGIN { for ($i : 0..2) { $f = $i; } print($f); }", "1:44-46", 1),
        ("BEGIN {\n  { $b = 1; }\n  print($b);\n}", "3:9-11", 2),
    ],
)
def test_probe_wide_variables_of_0_17_are_accepted_with_a_warning(
    src: str, use: str, line: int
) -> None:
    """Current bpftrace rejects these (``Undefined or undeclared variable``); bpftrace 0.17
    had one scope per probe and ran them. We run them, and say why in a warning."""
    r = compile_frontend(src, "stdin", catalog=CAT)
    assert r.ok, r.render()
    name = src[src.index("print(") + 6 :].split(")")[0] if "print(" in src else "$a"
    assert [str(d) for d in r.diags] == [
        f"stdin:{use}: WARNING: Variable {name} is used after the block that assigned it "
        f"(line {line}) has ended: accepted as bpftrace 0.17 did, but current bpftrace "
        f"rejects it; declare it first with 'let {name};'"
    ]
    from pybpf.lang import ast

    first = r.program.probes[0].body.stmts[0]  # the declaration the script left out
    assert isinstance(first, ast.VarDecl) and first.var.name == name and first.value is None


def test_let_takes_the_type_of_its_first_assignment() -> None:
    r = compile_frontend(
        'BEGIN { let $s; if (1) { $s = "abc"; } print($s); }', "stdin", catalog=CAT
    )
    assert r.ok, r.render()
    from pybpf.lang import ast

    decl = r.program.probes[0].body.stmts[0]
    assert isinstance(decl, ast.VarDecl)
    assert str(decl.var.type) == "string[4]"
