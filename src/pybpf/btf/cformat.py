"""BTF types printed as C: declarations, and pahole-style struct layouts.

``declaration(spec, id, name)`` writes a C declarator (``char comm[16]``,
``void (*fn)(struct callback_head *)``). ``dump(spec, id)`` prints a whole type:
structs and unions with ``/* offset size */`` comments, holes and cacheline boundaries the way
pahole shows them, anonymous members expanded in place; enums with their values; typedefs;
functions as prototypes. Offsets of members inside anonymous members are absolute (from the
start of the outermost struct), which is what a BPF program reading the field needs.
"""

from __future__ import annotations

from pybpf.btf.index import BtfError
from pybpf.btf.spec import Spec
from pybpf.btf.types import (
    Array,
    Composite,
    Datasec,
    DeclTag,
    Enum,
    Func,
    FuncProto,
    Fwd,
    Kind,
    Member,
    Ref,
    Var,
)

CACHELINE = 64
TYPE_COL = 27  # pahole's widths: type column, then name column, then the comment
NAME_COL = 22
_MAX_DEPTH = 64  # deeper nesting than any real C type: only corrupt (cyclic) BTF gets here
_QUALIFIER = {Kind.CONST: "const", Kind.VOLATILE: "volatile", Kind.RESTRICT: "restrict"}


def type_name(spec: Spec, tid: int) -> str:
    """The C spelling of a type without a declarator name (``struct file *``, ``int[4]``)."""
    return declaration(spec, tid, "").strip()


def _base(spec: Spec, tid: int) -> str:
    t = spec.type(tid)
    if t.kind == Kind.UNKN:
        return "void"
    if isinstance(t, Composite):
        return f"{'union' if t.is_union else 'struct'} {t.name}" if t.name else _inline_tag(t)
    if isinstance(t, Fwd):
        return f"{'union' if t.union else 'struct'} {t.name}"
    if isinstance(t, Enum):
        return f"enum {t.name}" if t.name else "enum {...}"
    return t.name or f"<anon {t.kind.name.lower()}>"


def _inline_tag(t: Composite) -> str:
    return "union {...}" if t.is_union else "struct {...}"


def params_text(spec: Spec, proto: FuncProto, names: bool = True, depth: int = 0) -> str:
    """The parenthesised parameter list of a prototype."""
    if not proto.params:
        return "(void)"
    parts = []
    for p in proto.params:
        if p.type == 0 and not p.name:
            parts.append("...")
        else:
            parts.append(declaration(spec, p.type, p.name if names else "", depth + 1).strip())
    return "(" + ", ".join(parts) + ")"


def declaration(spec: Spec, tid: int, name: str, depth: int = 0) -> str:
    """The C declaration of ``name`` with type ``tid`` (``name`` may be empty)."""
    if depth > _MAX_DEPTH:
        raise BtfError(f"corrupt BTF: type {tid} nests too deeply")
    inner = name
    for _ in range(256):
        t = spec.type(tid)
        if isinstance(t, Ref) and t.kind == Kind.PTR:
            wrap = isinstance(spec.type(t.type), Array | FuncProto)
            inner = f"(*{inner})" if wrap else f"*{inner}"
            tid = t.type
        elif isinstance(t, Ref) and t.kind in _QUALIFIER:
            qual = _QUALIFIER[t.kind]
            if spec.kind(t.type) != Kind.PTR:
                return f"{qual} " + declaration(spec, t.type, inner, depth + 1)
            # A qualified pointer: the qualifier goes after the star (char * const p).
            inner = f" {qual} {inner}" if inner else f" {qual}"
            tid = t.type
        elif isinstance(t, Ref) and t.kind == Kind.TYPE_TAG:
            tid = t.type  # type tags (__user, __rcu) are annotations, not C types
        elif isinstance(t, Array):
            inner = f"{inner}[{t.nelems}]"
            tid = t.type
        elif isinstance(t, FuncProto):
            inner = f"{inner}{params_text(spec, t, depth=depth + 1)}"
            tid = t.type
        else:
            base = _base(spec, tid)
            if not inner:
                return base
            sep = "" if inner.startswith((" ", "[")) else " "
            return f"{base}{sep}{inner}"
    return "<type loop>"


_MARK = "\x01"


def _split(spec: Spec, tid: int, name: str) -> tuple[str, str]:
    """Split a declaration into pahole's type column and name column."""
    decl = declaration(spec, tid, _MARK)
    i = decl.index(_MARK)
    head, tail = decl[:i], name + decl[i + 1 :]
    if "(" in head:
        # Function pointers and pointers to arrays: the declarator starts at the "(".
        cut = head.rfind(" ", 0, head.index("("))
        return head[:cut], head[cut + 1 :] + tail
    return head.rstrip() if not head.endswith("*") else head, tail


def _column(indent: int, type_part: str, name_part: str) -> str:
    width = TYPE_COL - 8 * (indent - 1)
    t = type_part.ljust(width - 1) + " " if len(type_part) < width else type_part + " "
    return "\t" * indent + t + name_part


def _comment_pad(line: str) -> str:
    visual = len(line.expandtabs(8))
    target = 8 + TYPE_COL + NAME_COL
    return line + " " * max(1, target - visual)


def _mcomment(off: int, size: int, bits: tuple[int, int] | None = None) -> str:
    if bits is not None:
        return f"/* {off:5d}:{bits[0]:2d} {size:4d} */"
    return f"/* {off:5d} {size:5d} */"


class _Layout:
    """Accumulates the lines of one struct dump and the statistics pahole prints."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.lines: list[str] = []
        self.holes = 0
        self.hole_bytes = 0
        self.member_bytes = 0
        self.last_cacheline = 0

    def composite(self, t: Composite, base_bits: int, indent: int) -> None:
        """Emit the members of ``t``, which starts ``base_bits`` into the outermost struct."""
        if indent > _MAX_DEPTH:
            raise BtfError(f"corrupt BTF: type {t.id} nests too deeply")
        prev_end_bits = base_bits
        for m in t.members:
            abs_bits = base_bits + m.bit_offset
            if not t.is_union:
                self._gap(prev_end_bits, abs_bits, indent, top=indent == 1)
            end = self.member(m, abs_bits, indent)
            if not t.is_union:
                prev_end_bits = max(prev_end_bits, end)

    def _gap(self, prev_end: int, start: int, indent: int, top: bool) -> None:
        if start > prev_end and prev_end % 8 == 0 and start % 8 == 0:
            nbytes = (start - prev_end) // 8
            self.lines += [
                "",
                "\t" * indent + f"/* XXX {nbytes} byte{'s' * (nbytes != 1)} hole, try to pack */",
                "",
            ]
            self.holes += 1
            self.hole_bytes += nbytes
        elif start > prev_end:
            nbits = start - prev_end
            self.lines += [
                "",
                "\t" * indent + f"/* XXX {nbits} bit{'s' * (nbits != 1)} hole, try to pack */",
                "",
            ]
        if top and start % 8 == 0:
            # Like pahole: mark the first member that starts in a new cacheline.
            line = (start // 8) // CACHELINE
            if line > self.last_cacheline:
                self.last_cacheline = line
                boundary = line * CACHELINE
                ago = start // 8 - boundary
                tail = f" was {ago} byte{'s' * (ago != 1)} ago" if ago else ""
                self.lines.append(
                    "\t" * indent
                    + f"/* --- cacheline {line} boundary ({boundary} bytes){tail} --- */"
                )

    def member(self, m: Member, abs_bits: int, indent: int) -> int:
        """Emit one member; return its end in bits from the outermost struct's start."""
        spec = self.spec
        rid = spec.resolve(m.type)
        rt = spec.type(rid)
        size = spec.size_of(m.type)
        if isinstance(rt, Composite) and not rt.name and rid == m.type:
            # Anonymous struct/union defined in place: expand it.
            self.lines.append("\t" * indent + ("union {" if rt.is_union else "struct {"))
            self.composite(rt, abs_bits, indent + 1)
            close = "\t" * indent + ("};" if not m.name else f"}} {m.name};")
            self.lines.append(_comment_pad(close) + _mcomment(abs_bits // 8, size))
            if indent == 1:
                self.member_bytes += size
            return abs_bits + 8 * size
        tp, np = _split(spec, m.type, m.name)
        if m.bitfield_size:
            line = _column(indent, tp, f"{np}:{m.bitfield_size};")
            unit = max(size, 1)
            unit_start = (abs_bits // (8 * unit)) * unit
            comment = _mcomment(unit_start, size, ((abs_bits - 8 * unit_start), size))
            self.lines.append(_comment_pad(line) + comment)
            return abs_bits + m.bitfield_size
        if indent == 1:
            self.member_bytes += size
        line = _column(indent, tp, f"{np};")
        self.lines.append(_comment_pad(line) + _mcomment(abs_bits // 8, size))
        return abs_bits + 8 * size


def dump_composite(spec: Spec, t: Composite) -> str:
    """pahole-style layout of a struct or union."""
    lay = _Layout(spec)
    head = f"{'union' if t.is_union else 'struct'} {t.name}".rstrip() + " {"
    lay.composite(t, 0, 1)
    last_end = 0
    for m in t.members:
        end = m.bit_offset + (m.bitfield_size or 8 * spec.size_of(m.type))
        last_end = max(last_end, end)
    padding = t.size - (last_end + 7) // 8 if not t.is_union else 0
    lines = [head, *lay.lines]
    if padding > 0:
        lines += ["", f"\t/* XXX {padding} byte{'s' * (padding != 1)} tail padding */"]
    lines.append("")
    lines.append(
        f"\t/* size: {t.size}, cachelines: {(t.size + CACHELINE - 1) // CACHELINE}, "
        f"members: {len(t.members)} */"
    )
    if lay.holes:
        lines.append(
            f"\t/* sum members: {lay.member_bytes}, holes: {lay.holes}, sum holes: {lay.hole_bytes} */"
        )
    if padding > 0:
        lines.append(f"\t/* padding: {padding} */")
    if t.size % CACHELINE:
        lines.append(f"\t/* last cacheline: {t.size % CACHELINE} bytes */")
    lines.append("};")
    return "\n".join(lines)


def dump_enum(spec: Spec, t: Enum) -> str:
    """An enum with every value."""
    head = f"enum {t.name}".rstrip() + " {"
    body = [f"\t{v.name} = {v.value}," for v in t.values]
    return "\n".join([head, *body, "};"])


def dump(spec: Spec, tid: int) -> str:
    """The C text of type ``tid``: layout for structs/unions, body for enums, else a declaration."""
    t = spec.type(tid)
    if isinstance(t, Composite):
        return dump_composite(spec, t)
    if isinstance(t, Enum):
        return dump_enum(spec, t)
    if isinstance(t, Func):
        proto = spec.type(t.type)
        if not isinstance(proto, FuncProto):
            raise BtfError(f"corrupt BTF: function '{t.name}' (id {tid}) has no prototype")
        return declaration(spec, proto.type, t.name + params_text(spec, proto)) + ";"
    if t.kind == Kind.TYPEDEF:
        assert isinstance(t, Ref)
        target = spec.type(t.type)
        if isinstance(target, Composite | Enum) and not target.name:
            body = dump(spec, t.type)
            return "typedef " + body[: body.rindex("}")] + "} " + t.name + ";"
        return "typedef " + declaration(spec, t.type, t.name) + ";"
    if isinstance(t, Var):
        return declaration(spec, t.type, t.name) + ";"
    if isinstance(t, Fwd):
        return f"{'union' if t.union else 'struct'} {t.name};"
    if isinstance(t, Datasec):
        return dump_datasec(spec, t)
    if isinstance(t, DeclTag):
        where = f" member/param {t.component_idx}" if t.component_idx >= 0 else ""
        target = spec.type(t.type)
        what = f"{target.kind.name.lower()} {target.name}".rstrip()
        return f'/* btf_decl_tag("{t.name}") on {what}{where} */'
    if t.kind == Kind.TYPE_TAG:
        assert isinstance(t, Ref)
        return f'__attribute__((btf_type_tag("{t.name}"))) {type_name(spec, t.type)};'
    return type_name(spec, tid) + ";"


def dump_datasec(spec: Spec, t: Datasec) -> str:
    """A data section: each variable with its offset and size in the section."""
    lines = [f'SEC("{t.name}") {{']
    for v in t.vars:
        var = spec.type(v.type)
        decl = declaration(spec, var.type, var.name) if isinstance(var, Var) else var.name
        lines.append(_comment_pad(f"\t{decl};") + _mcomment(v.offset, v.size))
    lines += ["", f"\t/* size: {t.size}, variables: {len(t.vars)} */", "};"]
    return "\n".join(lines)


__all__ = [
    "declaration",
    "dump",
    "dump_composite",
    "dump_datasec",
    "dump_enum",
    "params_text",
    "type_name",
]
