"""Hand-written lexer for bpftrace scripts.

The parser drives the lexer as a cursor: :meth:`Lexer.next` returns the next ordinary token,
and at the top level the parser asks for raw attach-point text with
:meth:`Lexer.attach_point` (attach points such as ``uprobe:/bin/bash:readline`` or
``kprobe:vfs_*`` do not tokenise like expressions).  ``#define`` macros are expanded here,
token by token; expanded tokens carry the span of the macro use.
"""

from __future__ import annotations

from pybpf.diag import DiagnosticBag, SourceFile, Span
from pybpf.lang import ast
from pybpf.lang.literals import byte_char, normalize
from pybpf.records import dataclass

#: Token kinds.
IDENT, INT, STRING, VAR, MAP, PARAM, PARAMCOUNT, PUNCT, EOF = (
    "ident",
    "int",
    "string",
    "var",
    "map",
    "param",
    "paramcount",
    "punct",
    "eof",
)

_PUNCTS = sorted(
    (
        "<<= >>= -> ++ -- += -= *= /= %= &= |= ^= == != <= >= && || << >> .. :: "
        "+ - * / % & | ^ ! ~ < > = ? : ; , . ( ) { } [ ]"
    ).split(),
    key=len,
    reverse=True,
)
_PUNCT_BY_CHAR: dict[str, list[str]] = {}
for _p in _PUNCTS:
    _PUNCT_BY_CHAR.setdefault(_p[0], []).append(_p)

#: Duration suffixes on integer literals, in nanoseconds.
DURATIONS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0",
            "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b"}  # fmt: skip


@dataclass(slots=True)
class Token:
    """A token: ``kind``, its text, decoded ``value`` (int/str) and span."""

    kind: str
    text: str
    span: Span
    value: int | str | None = None

    def is_(self, text: str) -> bool:
        """True for a punctuator or identifier spelled ``text``."""
        return self.text == text and self.kind in (PUNCT, IDENT)


def _ident_start(c: str) -> bool:
    # ASCII only, like bpftrace: other scripts' letters and digits are not identifiers.
    return "a" <= c <= "z" or "A" <= c <= "Z" or c == "_"


def _ident_char(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9" or c == "_"


class Lexer:
    """Tokenises (preprocessed) script text on demand."""

    def __init__(
        self,
        src: SourceFile,
        text: str,
        diags: DiagnosticBag,
        defines: list[ast.Define] | None = None,
    ) -> None:
        self.src = src
        self.text = text
        self.diags = diags
        self.pos = 0
        self.defines = {d.name: d for d in defines or []}
        self._pending: list[Token] = []
        self._expanding: set[str] = set()

    def pending_clear(self) -> None:
        """Drop queued macro-expansion tokens (error recovery)."""
        self._pending = []

    # ------------------------------------------------------------ trivia

    def skip_trivia(self) -> None:
        """Skip whitespace and comments."""
        t, n = self.text, len(self.text)
        while self.pos < n:
            c = t[self.pos]
            if c in " \t\r\n\f\v":
                self.pos += 1
            elif t.startswith("//", self.pos):
                e = t.find("\n", self.pos)
                self.pos = n if e < 0 else e
            elif t.startswith("/*", self.pos):
                e = t.find("*/", self.pos + 2)
                if e < 0:
                    self.diags.error("unterminated comment", self.src.span(self.pos, n))
                    self.pos = n
                else:
                    self.pos = e + 2
            else:
                break

    def at_eof(self) -> bool:
        """True when only trivia remains (and no expanded tokens are queued)."""
        if self._pending:
            return False
        self.skip_trivia()
        return self.pos >= len(self.text)

    def peek_word(self) -> str:
        """The identifier at the cursor (after trivia), or '' (does not consume)."""
        if self._pending:
            return self._pending[0].text if self._pending[0].kind == IDENT else ""
        self.skip_trivia()
        t, i = self.text, self.pos
        if i < len(t) and _ident_start(t[i]):
            j = i + 1
            while j < len(t) and _ident_char(t[j]):
                j += 1
            return t[i:j]
        return ""

    # ------------------------------------------------------------ attach points

    def attach_point(self) -> Token | None:
        """Scan one raw attach point (stops at whitespace, ``,``, ``{`` or a predicate ``/``).

        Quoted segments (``uprobe:"/path with space":f``) are kept verbatim.  A ``/`` belongs
        to the attach point when it starts a segment (right after ``:``) or continues a path
        segment; otherwise it opens the predicate.
        """
        self.skip_trivia()
        t, start, i, n = self.text, self.pos, self.pos, len(self.text)
        seg_start = i
        while i < n:
            c = t[i]
            if c in " \t\r\n,{}":
                break
            if c == '"':
                j = t.find('"', i + 1)
                i = n if j < 0 else j + 1
                continue
            if c == "/":
                seg = t[seg_start:i]
                if not (i == seg_start or seg.startswith(("/", ".", '"'))):
                    break
            if c == ":":
                seg_start = i + 1
            i += 1
        if i == start:
            return None
        self.pos = i
        return Token(IDENT, t[start:i], self.src.span(start, i), t[start:i])

    # ------------------------------------------------------------ tokens

    def next(self) -> Token:
        """The next token (macros expanded); ``eof`` at the end."""
        tok = self._raw()
        if tok.kind == IDENT and tok.text in self.defines and tok.text not in self._expanding:
            return self._expand(tok)
        return tok

    def _raw(self) -> Token:
        """The next queued or scanned token, without macro expansion."""
        if self._pending:
            return self._pending.pop(0)
        return self._scan()

    def _scan(self) -> Token:
        self.skip_trivia()
        t, i, n = self.text, self.pos, len(self.text)
        if i >= n:
            return Token(EOF, "", self.src.span(n, n))
        c = t[i]
        if _ident_start(c):
            j = i + 1
            while j < n and _ident_char(t[j]):
                j += 1
            return self._tok(IDENT, i, j, t[i:j])
        if "0" <= c <= "9":
            return self._number(i)
        if c == '"':
            return self._string(i)
        if c == "'":
            return self._char(i)
        if c == "$":
            return self._dollar(i)
        if c == "@":
            j = i + 1
            while j < n and _ident_char(t[j]):
                j += 1
            return self._tok(MAP, i, j, t[i:j])
        for p in _PUNCT_BY_CHAR.get(c, ()):
            if t.startswith(p, i):
                return self._tok(PUNCT, i, i + len(p), p)
        self.diags.error(f"invalid character '{c}'", self.src.span(i, i + 1))
        self.pos = i + 1
        return self._scan()

    def _tok(self, kind: str, i: int, j: int, value: int | str | None) -> Token:
        self.pos = j
        return Token(kind, self.text[i:j], self.src.span(i, j), value)

    def _dollar(self, i: int) -> Token:
        t, n = self.text, len(self.text)
        j = i + 1
        if j < n and t[j] == "#":
            return self._tok(PARAMCOUNT, i, j + 1, None)
        if j < n and "0" <= t[j] <= "9":
            while j < n and "0" <= t[j] <= "9":
                j += 1
            return self._tok(PARAM, i, j, int(t[i + 1 : j]))
        while j < n and _ident_char(t[j]):
            j += 1
        if j == i + 1:
            self.diags.error("invalid variable name: '$'", self.src.span(i, j))
        return self._tok(VAR, i, j, t[i:j])

    def _number(self, i: int) -> Token:
        t, n = self.text, len(self.text)
        j = i
        while j < n and (_ident_char(t[j])):
            j += 1
        raw = t[i:j]
        value = parse_int_literal(raw)
        if value is None:
            self.diags.error(f"invalid integer literal: {raw}", self.src.span(i, j))
            value = 0
        return self._tok(INT, i, j, value)

    def _string(self, i: int) -> Token:
        t, n = self.text, len(self.text)
        j = i + 1
        out: list[str] = []
        while j < n and t[j] != '"':
            if t[j] == "\n":
                break
            if t[j] == "\\" and j + 1 < n:
                s, j = self._escape(j)
                out.append(s)
                continue
            out.append(t[j])
            j += 1
        # Escaped bytes are single bytes (see :mod:`.literals`), not code points.
        value = normalize("".join(out))
        if j >= n or t[j] != '"':
            self.diags.error("unterminated string", self.src.span(i, j))
            return self._tok(STRING, i, j, value)
        return self._tok(STRING, i, j + 1, value)

    def _escape(self, j: int) -> tuple[str, int]:
        t = self.text
        c = t[j + 1]
        if c == "x":
            k = j + 2
            while k < len(t) and k < j + 4 and t[k] in "0123456789abcdefABCDEF":
                k += 1
            if k > j + 2:
                return byte_char(int(t[j + 2 : k], 16)), k
        if c in "01234567":
            k = j + 1
            while k < len(t) and k < j + 4 and t[k] in "01234567":
                k += 1
            return byte_char(int(t[j + 1 : k], 8) & 0xFF), k
        if c in _ESCAPES:
            return _ESCAPES[c], j + 2
        self.diags.error(f"invalid escape character '\\{c}'", self.src.span(j, j + 2))
        return c, j + 2

    def _char(self, i: int) -> Token:
        t, n = self.text, len(self.text)
        j = i + 1
        if j < n and t[j] == "\\" and j + 1 < n:
            s, j = self._escape(j)
        elif j < n:
            s, j = t[j], j + 1
        else:
            s = ""
        if j >= n or t[j] != "'" or len(s) != 1:
            # Skip to the closing quote on this line so one bad literal is one error.
            k = j
            while k < n and t[k] not in "'\n":
                k += 1
            end = k + 1 if k < n and t[k] == "'" else k
            self.diags.error("invalid character literal", self.src.span(i, end))
            return self._tok(INT, i, end, 0)
        o = ord(s)
        return self._tok(INT, i, j + 1, o - 0xDC00 if 0xDC80 <= o <= 0xDCFF else o)

    # ------------------------------------------------------------ macros

    def _expand(self, tok: Token) -> Token:
        d = self.defines[tok.text]
        args: list[list[Token]] = []
        if d.params is not None:
            save = self.pos
            nxt = self._raw()
            if not nxt.is_("("):
                if nxt.kind == EOF or self._pending or nxt.span.start < save:
                    self._pending.insert(0, nxt)
                else:
                    self.pos = save
                return tok  # a function-like macro name not followed by '(' is not expanded
            args = self._macro_args()
        sub = Lexer(self.src, d.body, DiagnosticBag())
        body: list[Token] = []
        while (bt := sub._scan()).kind != EOF:
            body.append(Token(bt.kind, bt.text, tok.span, bt.value))
        params = d.params or []
        expanded: list[Token] = []
        for bt in body:
            if bt.kind == IDENT and bt.text in params:
                k = params.index(bt.text)
                expanded.extend(args[k] if k < len(args) else [])
            else:
                expanded.append(bt)
        # Re-scan the expansion for nested macros, never re-expanding this one.
        self._expanding.add(d.name)
        try:
            result: list[Token] = []
            saved_pending = self._pending
            self._pending = expanded
            while self._pending:
                x = self.next()
                result.append(x)
            self._pending = result + saved_pending
        finally:
            self._expanding.discard(d.name)
        if not self._pending:
            return self.next()
        return self._pending.pop(0)

    def _macro_args(self) -> list[list[Token]]:
        args: list[list[Token]] = [[]]
        depth = 0
        while True:
            x = self._raw()
            if x.kind == EOF:
                self.diags.error("unterminated macro arguments", x.span)
                return args
            if x.is_(")") and depth == 0:
                return args if args != [[]] else []
            if x.is_(",") and depth == 0:
                args.append([])
                continue
            if x.is_("(") or x.is_("["):
                depth += 1
            elif x.is_(")") or x.is_("]"):
                depth -= 1
            args[-1].append(x)


def parse_int_literal(raw: str) -> int | None:
    """Value of an integer literal: ``1_000``, ``0x1f``, ``0o17``, ``017``, ``0b101``,
    ``1e6``, optional ``u``/``l`` suffixes, or a duration (``5s``, ``10ms``, ``1us``).
    """
    if not raw.isascii():
        return None
    s = raw.replace("_", "")
    low = s.lower()
    for suffix, mult in DURATIONS.items():
        if low.endswith(suffix) and low[: -len(suffix)].isdigit():
            return int(low[: -len(suffix)]) * mult
    if "e" in low and not low.startswith("0x"):
        mant, _, exp = low.partition("e")
        if mant.isdigit() and exp.isdigit():
            scaled: int = int(mant) * 10 ** int(exp)
            return scaled
        return None
    body = low.rstrip("ul") if not low.startswith("0x") else low
    if low.startswith("0x"):
        body = low[2:].rstrip("ul") if not low[2:].isalnum() else low[2:]
        body = body.rstrip("ul") if body.endswith(("ul", "ull", "l")) else body
        try:
            return int(body, 16)
        except ValueError:
            return None
    try:
        if body.startswith("0o"):
            return int(body[2:], 8)
        if body.startswith("0b"):
            return int(body[2:], 2)
        if len(body) > 1 and body.startswith("0"):
            return int(body[1:], 8)
        return int(body, 10)
    except ValueError:
        return None
