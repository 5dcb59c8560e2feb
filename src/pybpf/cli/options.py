"""pybpftrace's command line, parsed by hand in the manner of bpftrace's getopt_long.

Why not argparse: pybpftrace's start-up time is compared with bpftrace's, and importing
argparse, what it pulls in while parsing (gettext and locale for message translation,
shutil for the terminal width in its help formatter) and building the parser cost about
5-8 ms of a ~90 ms start. This module imports nothing beyond ``sys``.

Grammar accepted (``argv`` without the program name):

* short options, clustered: ``-qv`` is ``-q -v``; ``-kk`` is ``-k`` (accepted, no effect);
* short options with a value take the rest of their cluster or else the next argument,
  whatever it looks like: ``-fjson``, ``-f json``, ``-ofile``, ``-o file``, ``-e PROGRAM``,
  ``-p -5``; value options are ``-e -f -o -B -d -c -p`` and ``-d`` may repeat;
* ``-l`` takes an optional pattern: the next argument unless it looks like an option
  (``-l PATTERN``, but ``-l -e PROG``), or text attached to it (``-lPATTERN``), except that
  an attached run of flag letters is more flags (``-lv`` is list verbose);
* long options ``--dry-run --unsafe --info --no-warnings --version --fmt --vm --help
  --verify-llvm-ir`` (accepted, no effect) and ``--export VALUE`` / ``--export=VALUE``;
  any unambiguous prefix of a long option names it (``--dry``), as getopt_long allows;
* ``--`` ends the options; ``-`` (stdin) and negative numbers (``-5``, ``-2.5``) are
  arguments, not options; options may come before, between or after the arguments;
* the first argument is ``file`` and the others are ``params``; ``pybpftrace.run`` moves
  ``file`` to the front of ``params`` when ``-e`` gave the program.

A bad command line raises :class:`OptionError` with a one-line message.
"""

from __future__ import annotations

import sys

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


PROG = "pybpftrace"

HELP = f"""\
USAGE:
    {PROG} [options] filename [arguments...]
    {PROG} [options] - <stdin input>
    {PROG} [options] -e 'program' [arguments...]

OPTIONS:
    -B MODE        output buffering mode ('line', 'full', 'none'; default 'line')
    -c 'CMD'       run CMD and trace until it exits ($cpid is its pid)
    -d STAGE       print the AST ('ast') or the code ('codegen', 'dis') and exit; 'all' accepted
    --dry-run      compile and load the programs, do not run
    -e 'program'   execute this program
    --export prometheus=HOST:PORT  keep running, serve the maps at http://HOST:PORT/metrics
    -f FORMAT      output format ('text', 'json')
    --fmt          print the script's canonical source and exit
    -h, --help     show this help message
    --info         print information about kernel BPF support
    -k             accepted for compatibility, no effect
    -l [PATTERN]   list probes matching PATTERN, or those of the program given by -e
    --no-warnings  disable all warning messages
    -o FILE        write the output to FILE
    -p PID         trace only process PID (uprobes)
    -q             quiet: no 'Attaching N probes' line
    --unsafe       allow unsafe functions (system(), cat())
    -v             verbose: verifier logs and statistics (-lv: list argument types)
    -V, --version  print the version
    --vm           run in pybpf's userspace VM (BEGIN, END and interval probes only)
"""

USAGE_HINT = f"USAGE: {PROG} [options] filename | -e 'program'  ('{PROG} --help' lists the options)"

_CHOICES = {
    "format": ("text", "json"),
    "buffering": ("line", "full", "none"),
    "debug": ("ast", "codegen", "dis", "all"),
}

# Short options without a value -> attribute set to True.
_SHORT_FLAGS = {"q": "q", "v": "v", "k": "k", "V": "version", "h": "help"}
# Short options with a value -> attribute receiving it.
_SHORT_VALUES = {
    "e": "expr",
    "f": "format",
    "o": "output",
    "B": "buffering",
    "d": "debug",
    "c": "command",
    "p": "pid",
}
# Long options: name -> (attribute, takes a value).
_LONG = {
    "dry-run": ("dry_run", False),
    "unsafe": ("unsafe", False),
    "info": ("info", False),
    "no-warnings": ("no_warnings", False),
    "version": ("version", False),
    "fmt": ("fmt", False),
    "vm": ("vm", False),
    "verify-llvm-ir": ("verify_llvm_ir", False),
    "help": ("help", False),
    "export": ("export", True),
}


class OptionError(Exception):
    """A command line that cannot be parsed; ``usage`` says whether to add the usage hint."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


class Options:
    """The parsed command line, with the attribute names ``pybpftrace.run`` reads."""

    def __init__(self) -> None:
        self.expr: str | None = None
        self.file: str | None = None
        self.params: list[str] = []
        self.q = False
        self.format = "text"
        self.output: str | None = None
        self.buffering = "line"
        self.dry_run = False
        self.debug: list[str] | None = None  # None when no -d, as the stages are tested with `in`
        self.v = False
        self.unsafe = False
        self.info = False
        self.command: str | None = None
        self.pid: int | None = None
        self.k = False
        self.no_warnings = False
        self.version = False
        self.list: str | None = None
        self.fmt = False
        self.vm = False
        self.export: str | None = None
        self.verify_llvm_ir = False
        self.help = False

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Options({fields})"


def _is_negative_number(arg: str) -> bool:
    """``-5``, ``-2.5``, ``-.5``: positional parameters, never options (as argparse had it)."""
    whole, dot, frac = arg[1:].partition(".")
    if not dot:
        return whole.isdecimal()
    return (whole == "" or whole.isdecimal()) and frac.isdecimal()


def _is_option(arg: str) -> bool:
    return arg.startswith("-") and arg != "-" and not _is_negative_number(arg)


def _set_value(opts: Options, name: str, attr: str, value: str) -> None:
    """Store one option value, checking choices and the pid as bpftrace does."""
    if attr in _CHOICES and value not in _CHOICES[attr]:
        allowed = ", ".join(f"'{c}'" for c in _CHOICES[attr])
        raise OptionError(f"invalid value '{value}' for {name} (choose from {allowed})")
    if attr == "pid":
        try:
            opts.pid = int(value)
        except ValueError:
            raise OptionError(f"invalid PID '{value}' for -p: not an integer") from None
    elif attr == "debug":
        if opts.debug is None:
            opts.debug = []
        opts.debug.append(value)
    else:
        setattr(opts, attr, value)


def _long(opts: Options, arg: str, rest: list[str]) -> None:
    """One ``--name`` or ``--name=value`` argument; a value may also be the next argument."""
    name, eq, value = arg[2:].partition("=")
    if name in _LONG:
        full = name
    else:
        matches = [n for n in _LONG if n.startswith(name)]
        if not matches:
            raise OptionError(f"unknown option '--{name}'", usage=True)
        if len(matches) > 1:
            names = ", ".join(f"--{m}" for m in matches)
            raise OptionError(f"ambiguous option '--{name}' (could be {names})", usage=True)
        full = matches[0]
    attr, takes_value = _LONG[full]
    if not takes_value:
        if eq:
            raise OptionError(f"option '--{full}' does not take a value")
        setattr(opts, attr, True)
        return
    if not eq:
        if not rest:
            raise OptionError(f"option '--{full}' needs a value", usage=True)
        value = rest.pop(0)
    _set_value(opts, f"--{full}", attr, value)


def _short(opts: Options, arg: str, rest: list[str]) -> None:
    """One cluster of short options such as ``-qv``, ``-fjson`` or ``-lv``."""
    i = 1
    while i < len(arg):
        letter = arg[i]
        i += 1
        if letter in _SHORT_FLAGS:
            setattr(opts, _SHORT_FLAGS[letter], True)
        elif letter in _SHORT_VALUES:
            if i < len(arg):
                value = arg[i:]
            elif rest:
                value = rest.pop(0)
            else:
                raise OptionError(f"option -{letter} needs a value", usage=True)
            _set_value(opts, f"-{letter}", _SHORT_VALUES[letter], value)
            return
        elif letter == "l":
            attached = arg[i:]
            if attached and not all(c in _SHORT_FLAGS for c in attached):
                opts.list = attached  # -lPATTERN
                return
            # -l alone or followed by flags (-lv): the pattern, if any, is the next argument.
            opts.list = "*"
            if not attached and rest and not _is_option(rest[0]):
                opts.list = rest.pop(0)
        else:
            raise OptionError(f"unknown option '-{letter}'", usage=True)


def parse_args(argv: list[str]) -> Options:
    """Parse ``argv`` (without the program name); raises :class:`OptionError`.

    ``-h``/``--help`` stops the parse at once (the caller prints :data:`HELP`), so a help
    request is answered even when the rest of the line is wrong.
    """
    opts = Options()
    rest = list(argv)
    positional: list[str] = []
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            positional.extend(rest)
            break
        if not _is_option(arg):
            positional.append(arg)
        elif arg.startswith("--"):
            _long(opts, arg, rest)
        else:
            _short(opts, arg, rest)
        if opts.help:
            return opts
    if positional:
        opts.file = positional[0]
        opts.params = positional[1:]
    return opts


def print_help(out: TextIO | None = None) -> None:
    (out or sys.stdout).write(HELP)
