"""The diagnostics table: each broken script gets exactly the listed diagnostics."""

from __future__ import annotations

import pytest

from pybpf.diag import render_all
from pybpf.passes.pipeline import compile_frontend

from .diag_cases import CASES
from .fakes import FakeCatalog

CATALOG = FakeCatalog()
_BTF = CATALOG.btf() is not None
_NEEDS_BTF = ("curtask", "task_struct", "iter:")


def test_table_is_large() -> None:
    assert len(CASES) >= 80
    assert all(expected for _, expected in CASES)


@pytest.mark.parametrize(("script", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_diagnostic(script: str, expected: list[str]) -> None:
    if not _BTF and any(w in script for w in _NEEDS_BTF):
        pytest.skip("kernel BTF not available")
    r = compile_frontend(script, "stdin", catalog=CATALOG)
    assert [str(d) for d in r.diags] == expected
    assert not r.ok


def test_render_shape_with_hint() -> None:
    r = compile_frontend('BEGIN { prinf("x"); }', "stdin", catalog=CATALOG)
    assert r.render() == (
        "stdin:1:9-14: ERROR: Unknown function: 'prinf'\n"
        'BEGIN { prinf("x"); }\n'
        "        ~~~~~\n"
        "HINT: Did you mean 'printf'?\n"
    )


def test_all_errors_reported() -> None:
    script = 'BEGIN { $a = $nope; @x = count() + 1; printf("%d", "s"); }\nEND { prinf(); }'
    r = compile_frontend(script, "stdin", catalog=CATALOG)
    assert [d.message for d in r.diags] == [
        "Undefined or undeclared variable: $nope",
        "count() should be directly assigned to a map",
        "printf: %d specifier expects a value of type integer (string supplied)",
        "Unknown function: 'prinf'",
    ]
    assert r.resources is None


def test_several_syntax_errors_in_separate_probes() -> None:
    r = compile_frontend("BEGIN { 1 +; }\nEND { ok(; }\nBEGIN { exit(); }", "f.bt")
    assert [str(d) for d in r.diags] == [
        "f.bt:1:12-13: ERROR: syntax error, unexpected ;",
        "f.bt:2:10-11: ERROR: syntax error, unexpected ;",
    ]
    assert len(r.program.probes) == 1


def test_tabs_are_expanded_in_rendering() -> None:
    r = compile_frontend("BEGIN {\n\t$x = $y;\n}", "t.bt", catalog=CATALOG)
    assert render_all(r.diags, r.source) == (
        "t.bt:2:7-9: ERROR: Undefined or undeclared variable: $y\n    $x = $y;\n         ~~\n"
    )


@pytest.mark.parametrize(
    ("script", "message", "hints"),
    [
        ('BEGIN { prinf("x"); }', "Unknown function: 'prinf'", ["Did you mean 'printf'?"]),
        ("BEGIN { @x = pidd; }", "Unknown identifier: 'pidd'", ["Did you mean 'pid'?"]),
        ("BEGIN { @x = zzzzzz; }", "Unknown identifier: 'zzzzzz'", []),
        ("kprobez:f { }", "Invalid probe type: kprobez", ["Did you mean 'kprobe'?"]),
        ("tracepiont:sched:sched_switch { }", "Invalid probe type: tracepiont",
         ["Did you mean 'tracepoint'?"]),
        ("tracepoint:sched:sched_swich { }", "tracepoint not found: sched:sched_swich",
         ["Did you mean 'sched:sched_switch'?"]),
        ("tracepoint:shced:sched_switch { }", "tracepoint not found: shced:sched_switch",
         ["Did you mean 'sched:sched_switch'?"]),
        ("tracepoint:syscalls:qqqq { }", "tracepoint not found: syscalls:qqqq", []),
    ],
)  # fmt: skip
def test_did_you_mean_hints(script: str, message: str, hints: list[str]) -> None:
    """Unknown functions, builtins, probe types and tracepoint names get a likely fix."""
    r = compile_frontend(script, "stdin", catalog=CATALOG)
    assert [(d.message, d.hints) for d in r.diags] == [(message, hints)]
