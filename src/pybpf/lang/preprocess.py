"""The script preprocessor: ``#include``, ``#define``, ``#if[n]def``/``#else``/``#endif``.

bpftrace hands scripts to the C preprocessor.  We do the part scripts rely on, in place:
directive lines and lines in false conditional branches are blanked with spaces (newlines
kept), so every offset, line and column of the remaining text is unchanged and spans point
into the file the user wrote.  ``#define`` macros are expanded later, token by token, by the
lexer (:class:`pybpf.lang.lexer.Lexer`).
"""

from __future__ import annotations

import re

from pybpf.diag import DiagnosticBag, SourceFile, Span
from pybpf.lang import ast
from pybpf.records import dataclass, field

_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*([A-Za-z_]+)?(.*)")
_DEFINE = re.compile(r"([A-Za-z_]\w*)(\(([^)]*)\))?\s*(.*)", re.S)
_INCLUDE = re.compile(r"\s*(<([^>]*)>|\"([^\"]*)\")\s*$")
_DEFINED = re.compile(r"defined\s*\(?\s*([A-Za-z_]\w*)\s*\)?")


@dataclass
class Preprocessed:
    """The blanked text and what the directives declared."""

    text: str
    includes: list[ast.Include] = field(default_factory=list)
    defines: list[ast.Define] = field(default_factory=list)


def _blank(s: str) -> str:
    return "".join(c if c == "\n" else " " for c in s)


class _Cond:
    """One open ``#if`` group: whether its current branch is live, whether one was taken."""

    def __init__(self, parent_live: bool, live: bool) -> None:
        self.parent_live = parent_live
        self.live = parent_live and live
        self.taken = live


def preprocess(
    src: SourceFile, diags: DiagnosticBag, predefined: dict[str, str] | None = None
) -> Preprocessed:
    """Blank out directives and dead branches of ``src``; collect includes and defines."""
    text = src.text
    if "#" not in text:
        return Preprocessed(text)
    # Directives are recognised outside comments only (cpp strips comments first).
    code = blank_comments(text)
    defined: dict[str, str] = dict(predefined or {})
    out: list[str] = []
    result = Preprocessed("")
    stack: list[_Cond] = []
    pos = 0
    n = len(text)
    while pos < n:
        end = text.find("\n", pos)
        end = n if end < 0 else end + 1
        line = code[pos:end]
        # Backslash-continued lines belong to the same directive.
        while line.rstrip("\n").endswith("\\") and end < n:
            nxt = text.find("\n", end)
            nxt = n if nxt < 0 else nxt + 1
            line += code[end:nxt]
            end = nxt
        live = not stack or stack[-1].live
        stripped = line.lstrip(" \t")
        is_shebang = pos == 0 and line.startswith("#!")
        if stripped.startswith("#") and not is_shebang:
            span = src.span(pos + len(line) - len(stripped), pos + len(line.rstrip("\n")))
            _directive(line, span, live, stack, defined, result, diags)
            out.append(_blank(line))
        elif is_shebang or not live:
            out.append(_blank(line))
        else:
            out.append(text[pos:end])
        pos = end
    if stack:
        diags.error("unterminated conditional directive", src.span(n, n))
    result.text = "".join(out)
    return result


_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"?|//[^\n]*|/\*(?:.|\n)*?(?:\*/|\Z)')


def blank_comments(text: str) -> str:
    """``text`` with ``//`` and ``/* */`` comments replaced by spaces (newlines kept)."""

    def sub(m: re.Match[str]) -> str:
        s = m.group(0)
        return s if s.startswith('"') else _blank(s)

    return _COMMENT_OR_STRING.sub(sub, text)


def _directive(
    line: str,
    span: Span,
    live: bool,
    stack: list[_Cond],
    defined: dict[str, str],
    result: Preprocessed,
    diags: DiagnosticBag,
) -> None:
    m = _DIRECTIVE.match(line.replace("\\\n", " ").rstrip("\n"))
    assert m is not None
    name, rest = (m.group(1) or ""), m.group(2).strip()
    if name in ("ifdef", "ifndef"):
        want = rest.split()[0] if rest.split() else ""
        stack.append(_Cond(live, (want in defined) == (name == "ifdef")))
    elif name == "if":
        stack.append(_Cond(live, _eval_if(rest, defined)))
    elif name in ("else", "elif", "endif"):
        if not stack:
            diags.error(f"#{name} without #if", span)
            return
        top = stack[-1]
        if name == "endif":
            stack.pop()
        elif name == "else":
            top.live = top.parent_live and not top.taken
            top.taken = True
        else:
            ok = not top.taken and _eval_if(rest, defined)
            top.live = top.parent_live and ok
            top.taken = top.taken or ok
    elif not live:
        return
    elif name == "include":
        im = _INCLUDE.match(rest)
        if im is None:
            diags.error("invalid #include directive", span)
        else:
            system = im.group(2) is not None
            result.includes.append(ast.Include(span, im.group(2) or im.group(3) or "", system))
    elif name == "define":
        dm = _DEFINE.match(rest)
        if dm is None:
            diags.error("invalid #define directive", span)
            return
        params = None
        if dm.group(2) is not None:
            params = [p.strip() for p in dm.group(3).split(",") if p.strip()]
        defined[dm.group(1)] = dm.group(4)
        result.defines.append(ast.Define(span, dm.group(1), params, dm.group(4).strip()))
    elif name == "undef":
        defined.pop(rest.strip(), None)
        result.defines = [d for d in result.defines if d.name != rest.strip()]
    elif name in ("pragma", "error", "warning", "line") or not name:
        return
    else:
        diags.error(f"unknown preprocessor directive: #{name}", span)


def _eval_if(expr: str, defined: dict[str, str]) -> bool:
    """Evaluate the simple ``#if`` forms: ``0``, ``1``, ``defined(X)``, ``!defined(X)``."""
    e = _DEFINED.sub(lambda m: "1" if m.group(1) in defined else "0", expr)
    e = e.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    e = re.sub(
        r"[A-Za-z_]\w*", lambda m: m.group(0) if m.group(0) in ("and", "or", "not") else "0", e
    )
    if not re.fullmatch(r"[\s\d()andortn]*", e):
        return False
    try:
        return bool(eval(e, {"__builtins__": {}}, {}))  # restricted to digits and and/or/not
    except Exception:
        return False
