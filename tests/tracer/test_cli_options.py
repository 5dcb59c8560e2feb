"""pybpftrace's hand-written command-line parser (pybpf.cli.options): every option form,
the errors, ``--help``, and that the tracer no longer imports argparse to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pybpf
from pybpf.cli.options import _LONG, HELP, OptionError, Options, parse_args


def _set(opts: Options) -> dict[str, object]:
    """The attributes that differ from the defaults, for compact expectations."""
    default = vars(Options())
    return {k: v for k, v in vars(opts).items() if v != default[k]}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf.cli.pybpftrace", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_defaults_match_what_run_expects() -> None:
    o = parse_args([])
    assert (o.expr, o.file, o.params, o.format, o.buffering) == (None, None, [], "text", "line")
    assert (o.debug, o.pid, o.list, o.export, o.output, o.command) == (None,) * 6
    assert not any((o.q, o.v, o.k, o.dry_run, o.unsafe, o.info, o.no_warnings, o.version))
    assert not any((o.fmt, o.vm, o.verify_llvm_ir, o.help))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-qv"], {"q": True, "v": True}),
        (["-kk"], {"k": True}),
        (["-fjson"], {"format": "json"}),
        (["-f", "json"], {"format": "json"}),
        (["-ofile"], {"output": "file"}),
        (["-o", "file"], {"output": "file"}),
        (["-o-"], {"output": "-"}),
        (["-B", "none"], {"buffering": "none"}),
        (["-Bfull"], {"buffering": "full"}),
        (["-d", "ast", "-dcodegen", "-d", "all"], {"debug": ["ast", "codegen", "all"]}),
        (["-c", "ls -l /"], {"command": "ls -l /"}),
        (["-p", "123"], {"pid": 123}),
        (["-p-5"], {"pid": -5}),
        (["-e", "BEGIN { exit(); }"], {"expr": "BEGIN { exit(); }"}),
        (["-eBEGIN{}"], {"expr": "BEGIN{}"}),
        (["-e", "-x"], {"expr": "-x"}),  # a value is taken whatever it looks like (getopt)
        (["-qe", "P"], {"q": True, "expr": "P"}),
        (["-V"], {"version": True}),
        (["--version"], {"version": True}),
        (["--dry-run", "--unsafe", "--info"], {"dry_run": True, "unsafe": True, "info": True}),
        (["--no-warnings", "--fmt", "--vm"], {"no_warnings": True, "fmt": True, "vm": True}),
        (["--verify-llvm-ir"], {"verify_llvm_ir": True}),
        (["--export", "prometheus=h:1"], {"export": "prometheus=h:1"}),
        (["--export=prometheus=h:1"], {"export": "prometheus=h:1"}),
        (["--dry"], {"dry_run": True}),  # unambiguous prefixes, as getopt_long allows
        (["--no-w"], {"no_warnings": True}),
    ],
)
def test_option_forms(argv: list[str], expected: dict[str, object]) -> None:
    assert _set(parse_args(argv)) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-l"], {"list": "*"}),
        (["-l", "tracepoint:*"], {"list": "tracepoint:*"}),
        (["-ltracepoint:*"], {"list": "tracepoint:*"}),
        # -lv is list verbose; a pattern after it is the first argument, which run() lists
        (["-lv"], {"list": "*", "v": True}),
        (["-lv", "tracepoint:x:y"], {"list": "*", "v": True, "file": "tracepoint:x:y"}),
        (["-vl", "kprobe:*"], {"list": "kprobe:*", "v": True}),
        (["-ql"], {"list": "*", "q": True}),
        (["-l", "-e", "P"], {"list": "*", "expr": "P"}),
        (["-l", "-5"], {"list": "-5"}),  # a negative number is not an option
        (["-l", "x", "y"], {"list": "x", "file": "y"}),
    ],
)
def test_list_pattern_is_optional(argv: list[str], expected: dict[str, object]) -> None:
    assert _set(parse_args(argv)) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["s.bt"], {"file": "s.bt"}),
        (["s.bt", "1", "two"], {"file": "s.bt", "params": ["1", "two"]}),
        (["-", "41"], {"file": "-", "params": ["41"]}),
        # options may follow or sit between arguments, as getopt permutes them
        (["s.bt", "-q", "5", "-v"], {"file": "s.bt", "params": ["5"], "q": True, "v": True}),
        (["-e", "P", "1", "-q", "2"], {"expr": "P", "file": "1", "params": ["2"], "q": True}),
        # negative numbers are arguments
        (["s.bt", "-5", "-3.5", "-.5"], {"file": "s.bt", "params": ["-5", "-3.5", "-.5"]}),
        (["-e", "P", "-5"], {"expr": "P", "file": "-5"}),
        # -- ends the options; only the first one is consumed
        (["--", "-q", "a"], {"file": "-q", "params": ["a"]}),
        (["a", "--", "-q"], {"file": "a", "params": ["-q"]}),
        (["-e", "P", "--", "--", "x"], {"expr": "P", "file": "--", "params": ["x"]}),
    ],
)
def test_arguments(argv: list[str], expected: dict[str, object]) -> None:
    assert _set(parse_args(argv)) == expected


@pytest.mark.parametrize(
    ("argv", "message", "usage"),
    [
        (["-f", "xml"], "invalid value 'xml' for -f (choose from 'text', 'json')", False),
        (["-Bsome"], "invalid value 'some' for -B (choose from 'line', 'full', 'none')", False),
        (
            ["-d", "ir"],
            "invalid value 'ir' for -d (choose from 'ast', 'codegen', 'dis', 'all')",
            False,
        ),
        (["-p", "abc"], "invalid PID 'abc' for -p: not an integer", False),
        (["-x"], "unknown option '-x'", True),
        (["-qx"], "unknown option '-x'", True),
        (["--frob"], "unknown option '--frob'", True),
        (["--ver"], "ambiguous option '--ver' (could be --version, --verify-llvm-ir)", True),
        (["-e"], "option -e needs a value", True),
        (["-q", "-o"], "option -o needs a value", True),
        (["--export"], "option '--export' needs a value", True),
        (["--dry-run=1"], "option '--dry-run' does not take a value", False),
    ],
)
def test_errors(argv: list[str], message: str, usage: bool) -> None:
    with pytest.raises(OptionError) as e:
        parse_args(argv)
    assert str(e.value) == message
    assert e.value.usage is usage


def test_help_stops_the_parse() -> None:
    assert parse_args(["-h"]).help
    assert parse_args(["-q", "--help", "-f", "xml"]).help  # answered before the bad value
    assert parse_args(["--he"]).help


def test_help_lists_every_option() -> None:
    assert HELP.startswith("USAGE:\n")
    options = HELP.split("OPTIONS:\n", 1)[1]
    for flag in ("-B", "-c", "-d", "-e", "-f", "-h", "-k", "-l", "-o", "-p", "-q", "-v", "-V"):
        assert f"    {flag} " in options or f"    {flag}," in options, flag
    for name in _LONG:
        if name != "verify-llvm-ir":  # a hidden no-op, as in bpftrace
            assert f"--{name}" in options, name


def test_help_and_errors_from_the_command() -> None:
    h = _cli("--help")
    assert h.returncode == 0 and h.stdout == HELP and h.stderr == ""
    bad = _cli("-f", "xml", "-e", "BEGIN { exit(); }")
    assert bad.returncode == 1
    assert bad.stderr == "ERROR: invalid value 'xml' for -f (choose from 'text', 'json')\n"
    unknown = _cli("--frob")
    assert unknown.returncode == 1
    lines = unknown.stderr.splitlines()
    assert lines[0] == "ERROR: unknown option '--frob'"
    assert lines[1].startswith("USAGE: pybpftrace ") and "--help" in lines[1]
    assert "Traceback" not in unknown.stderr


def test_the_tracer_does_not_import_argparse() -> None:
    probe = (
        "import sys\n"
        "from pybpf.cli import pybpftrace\n"
        "pybpftrace.parse_args(['-qv', '-f', 'json', '-e', 'BEGIN {}', '1'])\n"
        "print(sorted(m for m in ('argparse', 'gettext', 'shutil', 'locale') if m in sys.modules))"
    )
    # -S: this machine's site hooks (.pth files) import shutil themselves
    src = str(Path(pybpf.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.strip() == "[]"
