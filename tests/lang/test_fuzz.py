"""Hypothesis: the front end never raises, and --fmt output re-parses to the same tree."""

from __future__ import annotations

import glob
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passes.fakes import FakeCatalog
from pybpf.lang.dump import dump_ast
from pybpf.lang.parser import parse
from pybpf.lang.printer import format_program
from pybpf.passes.pipeline import compile_frontend

CATALOG = FakeCatalog(with_btf=False)
# compile_frontend raises the recursion limit to 5000 on first use; doing it before the
# tests start keeps hypothesis from warning that the limit changed under it.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "BEGIN", "END", "kprobe:f", "tracepoint:syscalls:sys_enter_read", "{", "}", "(", ")", "[",
    "]", ";", ",", ".", "->", "/", "*", "+", "-", "=", "==", "+=", "++", "?", ":", "!", "&&",
    "||", "<<", "$x", "$1", "$#", "@m", "@", "1", "0x10", "5s", '"s"', "'c'", "if", "else",
    "while", "for", "unroll", "let", "return", "break", "printf", "count", "hist", "pid",
    "comm", "args", "retval", "struct", "task_struct", "config", "fn", "macro", "#include",
    "#define X 1", "\n", " ", "/*", "*/", "//", "..", "true", "(uint8)", "sizeof", "@x[1,2]",
]  # fmt: skip

_SAMPLES = sorted(glob.glob("/usr/sbin/*.bt")) + sorted(
    str(p) for p in (Path(__file__).parent.parent / "testdata" / "lang").glob("*.bt")
)
SOURCES = [Path(p).read_text() for p in _SAMPLES]


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_tokens_never_raise(tokens: list[str]) -> None:
    r = compile_frontend(" ".join(tokens), "stdin", catalog=CATALOG)
    for d in r.diags:
        assert d.message


@SETTINGS
@given(st.text(max_size=80))
def test_random_text_never_raises(text: str) -> None:
    compile_frontend(text, "stdin", catalog=CATALOG)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(SOURCES) - 1),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.sampled_from(TOKENS)),
             min_size=1, max_size=4),
)  # fmt: skip
def test_mutated_scripts_never_raise(idx: int, edits: list[tuple[int, int, str]]) -> None:
    text = SOURCES[idx]
    for pos, cut, tok in edits:
        p = pos % (len(text) + 1)
        text = text[:p] + tok + text[p + cut :]
    compile_frontend(text, "mutated.bt", catalog=CATALOG)


# ---------------------------------------------------------------- round trip

_atoms = st.sampled_from(
    ["1", "0", "42", "$x", "@m", "@m[1]", "@m[1, \"a\"]", "pid", "comm", '"str"', '"a\\nb"',
     "true", "arg0", "$t.0", "curtask->pid", "args.fd", "(uint8)3", "sizeof(int64)", "-5",
     "'c'", "nsecs", "(1, 2)", "(a = 1, b = 2)"]
)  # fmt: skip
_binops = st.sampled_from(
    ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=",
     "&&", "||"]
)  # fmt: skip


def _exprs() -> st.SearchStrategy[str]:
    return st.recursive(
        _atoms,
        lambda inner: st.one_of(
            st.tuples(inner, _binops, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, _binops, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"!({e})"),
            inner.map(lambda e: f"-({e})"),
            inner.map(lambda e: f"~{e}"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
            st.lists(inner, max_size=3).map(lambda a: f'printf("%d", {", ".join(a)})'),
            inner.map(lambda e: f"(int32)({e})"),
        ),
        max_leaves=12,
    )


_stmts = st.recursive(
    st.one_of(
        _exprs().map(lambda e: f"@r = {e};"),
        _exprs().map(lambda e: f"$x = {e};"),
        _exprs().map(lambda e: f"$x += {e};"),
        st.just("@c++;"),
        st.just("--$x;"),
        _exprs().map(lambda e: f"let $v = {e};"),
        st.just("return;"),
    ),
    lambda inner: st.one_of(
        st.tuples(_exprs(), st.lists(inner, max_size=3)).map(
            lambda t: f"if ({t[0]}) {{ {' '.join(t[1])} }}"
        ),
        st.tuples(_exprs(), st.lists(inner, max_size=2), st.lists(inner, max_size=2)).map(
            lambda t: f"if ({t[0]}) {{ {' '.join(t[1])} }} else {{ {' '.join(t[2])} }}"
        ),
        st.lists(inner, max_size=3).map(lambda b: f"while ($x < 3) {{ {' '.join(b)} break; }}"),
        st.lists(inner, max_size=3).map(lambda b: f"unroll(2) {{ {' '.join(b)} }}"),
        st.lists(inner, max_size=3).map(lambda b: f"for ($kv : @m) {{ {' '.join(b)} }}"),
        st.lists(inner, max_size=3).map(lambda b: f"for ($i : 0..5) {{ {' '.join(b)} }}"),
    ),
    max_leaves=8,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_stmts, min_size=1, max_size=5), st.one_of(st.none(), _exprs()))
def test_print_parse_roundtrip(stmts: list[str], pred: str | None) -> None:
    # Parenthesised: a bare division cannot open a predicate (`/1 / 1/` is a syntax error in
    # bpftrace too); the printer must put the parentheses back where they are needed.
    p = f" /({pred})/" if pred is not None else ""
    src = f"kprobe:f{p} {{ {' '.join(stmts)} }}"
    r = parse(src)
    assert not r.diags.items, (src, [str(d) for d in r.diags])
    text = format_program(r.program)
    r2 = parse(text)
    assert not r2.diags.items, (text, [str(d) for d in r2.diags])
    assert dump_ast(r2.program) == dump_ast(r.program), text
    assert format_program(r2.program) == text


_DEEP = [
    "BEGIN { @x = " + "(" * 500 + "1" + ")" * 500 + "; }",
    "BEGIN { @x = " + "!" * 2000 + "1; }",
    "BEGIN " + "{" * 600 + "}" * 600,
    "BEGIN { @x = " + "1+" * 3000 + "1; }",
    "BEGIN { @x = " + "-" * 2000 + "1; }",
    "BEGIN { " + "if (1) {" * 300 + "}" * 300 + "}",
    "BEGIN { @x = $a" + ".b" * 3000 + "; }",
    "BEGIN { @x = $a" + "[1]" * 3000 + "; }",
]


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    for src in _DEEP:
        r = compile_frontend(src, "stdin", catalog=CATALOG)
        assert any("too" in d.message for d in r.diags), src[:40]


def test_reasonable_nesting_is_fine() -> None:
    src = "BEGIN { @x = " + "(1 + " * 40 + "1" + ")" * 40 + "; " + "if (1) {" * 12 + "}" * 12 + "}"
    r = compile_frontend(src, "stdin", catalog=CATALOG)
    assert r.ok, r.render()


def test_non_ascii_digits_and_letters() -> None:
    for src in ["²H", "BEGIN { @x = ²; }", "interval:s:²{}", "BEGIN { $é = 1; }", "kprobe:f+² {}"]:
        r = compile_frontend(src, "stdin", catalog=CATALOG)
        assert r.diags.has_errors(), src
