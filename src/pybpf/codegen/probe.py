"""One probe body -> one program: prologue, statements, calls, epilogue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R6, Code, Emitter, Label
from pybpf.codegen.events import EventGen
from pybpf.codegen.expr import ExprGen
from pybpf.codegen.frame import CodegenError, Frame, Val
from pybpf.codegen.helpers import Helper
from pybpf.codegen.infer import type_of
from pybpf.codegen.joinbuf import JoinBufGen
from pybpf.codegen.kernel_types import KernelTypesGen
from pybpf.codegen.maps import AGG_FUNCS, MapGen
from pybpf.codegen.memory import SCRATCH_SLOT, MemGen
from pybpf.codegen.stacks import StackGen
from pybpf.codegen.strings import StringGen
from pybpf.lang import ast
from pybpf.passes.types import INT64, IntType, RecordType, TupleType, Type
from pybpf.runtime.events import EventKind

if TYPE_CHECKING:
    from pybpf.codegen.script import ScriptGen
    from pybpf.tracefs import Field

_CTX_BUILTINS = {"args", "ctx", "retval", "func", "kstack", "ustack"} | {
    f"arg{i}" for i in range(10)
}


def _aggregate(t: Type) -> bool:
    """Kernel structs, arrays, buffers, tuples and records live in memory whatever their size."""
    from pybpf.passes.types import ArrayType, BufferType, RecordType, StructType, TupleType

    return isinstance(t, StructType | ArrayType | BufferType | TupleType | RecordType)


def uses_ctx(node: ast.Node) -> bool:
    """True when the body reads the program context (so r6 keeps it)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Builtin) and n.name in _CTX_BUILTINS:
            return True
        if isinstance(n, ast.Call) and n.name in ("kstack", "ustack", "override"):
            return True
    return False


class ProbeGen(ExprGen, MemGen, MapGen, EventGen, StringGen, StackGen, KernelTypesGen, JoinBufGen):
    """Generates the program of one probe for one attach context."""

    def __init__(
        self,
        script: ScriptGen,
        probe: ast.Probe,
        probe_id: int,
        tp_fields: dict[str, Field] | None = None,
        user_space: bool = False,
        sys_filter: str = "",
        sys_exit: bool = False,
    ) -> None:
        self.script = script
        self.probe = probe
        self.probe_id = probe_id
        self.tp_fields = tp_fields or {}
        self.user_space_default = user_space
        self.em = Emitter()
        self.ctx = uses_ctx(probe)
        self.frame = Frame(self.em, reserved=(R6,) if self.ctx else ())
        self.frame.alloc_stack(8)  # SCRATCH_SLOT
        #: Name of the syscall-number filter map (raw sys_enter programs), or "".
        self.sys_filter = sys_filter
        self.filter_slot = self.frame.alloc_stack(8) if sys_filter else 0
        #: Raw ``sys_exit`` programs: where the ``sys_exit_*`` record is rebuilt.
        self.sys_exit = sys_exit
        self.exit_record = self.frame.alloc_stack(24) if sys_exit and self.ctx else 0
        #: Iterator probes: the context offset of the object pointer; NULL skips the body.
        self.skip_null_ctx: int | None = None
        self.uses_scratch = False
        self.scratch_top = 0
        self.zero_strings = False
        self.epilogue = self.em.label("epilogue")
        self.vars: list[dict[str, Val]] = [{}]
        self.loops: list[tuple[Label, Label]] = []
        #: Callback subprograms (for-over-map bodies), appended after the main program.
        self.subprogs: list[Emitter] = []

    def typeof(self, e: ast.Expr) -> Type:
        """The expression's type (front end annotation, else the fallback inference).

        A tuple read from a map has the map's layout, whose integers are widened to 64 bits.
        """
        if isinstance(e, ast.Map | ast.MapAccess):
            d = self.script.out.maps.get(e.name if isinstance(e, ast.Map) else e.map.name)
            if d is not None and not d.agg and isinstance(d.value_type, TupleType | RecordType):
                return d.value_type
        return type_of(e, self.script.max_strlen, self.var_type)

    def var_type(self, name: str) -> Type | None:
        """Type of a scratch variable in scope."""
        for scope in reversed(self.vars):
            if name in scope:
                return scope[name].type
        return self.script.var_types.get(name)

    def builtin(self, e: ast.Builtin, t: Type) -> Val:
        """Builtins, with the process-probe ones (``cpid``, USDT ``argN``) first."""
        from pybpf.codegen.userprobes import user_builtin

        v = user_builtin(self, e, t)
        if v is None and e.name == "probe" and self.sys_filter:
            # A syscall wildcard program: the matched tracepoint's id is on the stack.
            return Val("spill", t, off=self.filter_slot, owned=False)
        return v if v is not None else ExprGen.builtin(self, e, t)

    # -- program --------------------------------------------------------------------------------
    def generate(self) -> Code:
        """The whole program."""
        body = self.em
        with body.at(self.probe.span):
            if self.probe.predicate is not None:
                with body.at(self.probe.predicate.span):
                    c = self.int_value(self.probe.predicate)
                    if c.is_imm:
                        if not c.imm:
                            body.ja(self.epilogue)
                    else:
                        body.jmpi(JmpOp.JEQ, self.frame.reg_of(c, R1), 0, self.epilogue)
                        self.frame.free(c)
            self.block(self.probe.body)
            body.place(self.epilogue)
            body.movi(R0, 0)
            body.exit()
        pro = Emitter()
        with pro.at(self.probe.span):
            if self.ctx:
                pro.mov(R6, R1)
            if self.sys_filter:
                self._syscall_filter(pro)
            if self.skip_null_ctx is not None:
                pro.ldx(8, R2, R1, self.skip_null_ctx)
                pro.jmpi(JmpOp.JEQ, R2, 0, self.epilogue)
            if self.uses_scratch:
                # The scratch pointer is looked up once and kept on the stack.
                pro.sti(4, FP, SCRATCH_SLOT, 0)
                pro.ld_map(R1, self.script.scratch_name())
                pro.mov(R2, FP)
                pro.alui(AluOp.ADD, R2, SCRATCH_SLOT)
                pro.call(Helper.MAP_LOOKUP_ELEM)
                pro.jmpi(JmpOp.JEQ, R0, 0, self.epilogue)
                pro.stx(8, FP, SCRATCH_SLOT, R0)
        pro.join(body)
        if self.ctx and not self.sys_filter:
            pro.elide_ctx_copy()
        for sub in self.subprogs:
            pro.join(sub)
        return pro.finish()

    def _syscall_filter(self, pro: Emitter) -> None:
        """Run only for the syscalls the wildcard matched (see :mod:`.syscalls`)."""
        from pybpf.codegen.syscalls import emit_filter

        emit_filter(self, pro, self.sys_exit)

    # -- statements -----------------------------------------------------------------------------
    def block(self, b: ast.Block) -> None:
        """A block with its own variable scope."""
        self.vars.append({})
        try:
            for s in b.stmts:
                self.stmt(s)
        finally:
            self.vars.pop()

    def stmt(self, s: ast.Stmt) -> None:
        """One statement; its stack temporaries die with it unless it declared a variable."""
        with self.em.at(s.span):
            mark = self.frame.mark()
            nvars = len(self.vars[-1])
            self._stmt(s)
            if len(self.vars[-1]) == nvars:
                self.frame.release_to(mark)

    def _stmt(self, s: ast.Stmt) -> None:
        if isinstance(s, ast.ExprStmt):
            self.expr_stmt(s.expr)
        elif isinstance(s, ast.Assign):
            self.assign(s)
        elif isinstance(s, ast.VarDecl):
            if s.value is not None:
                self.assign_var(s.var, s.value, declare=True)
            else:
                # ``let $x;``: the front end typed it from its first assignment (if any).
                t = s.var.type
                self.declare_var(s.var.name, t if t and t.size else INT64, zero=True)
        elif isinstance(s, ast.If):
            self.if_stmt(s)
        elif isinstance(s, ast.Block):
            self.block(s)
        elif isinstance(s, ast.While):
            self.while_stmt(s)
        elif isinstance(s, ast.Unroll):
            n = s.count.value if isinstance(s.count, ast.Integer) else 0
            for _ in range(n):
                self.block(s.body)
        elif isinstance(s, ast.For):
            self.for_stmt(s)
        elif isinstance(s, ast.Jump):
            self.jump(s)
        else:
            raise CodegenError(f"{type(s).__name__} statements are not supported", s.span)

    def expr_stmt(self, e: ast.Expr) -> None:
        """An expression evaluated for its effect."""
        if isinstance(e, ast.Call) and self.call_stmt(e):
            return
        if isinstance(e, ast.IncDec):
            self.frame.free(self.incdec(e))
            return
        self.frame.free(self.expr(e))

    def call_stmt(self, c: ast.Call) -> bool:
        """Calls that are statements; False when ``c`` is an expression call."""
        name = c.name
        with self.em.at(c.span):
            if name in ("printf", "errorf", "warnf"):
                self.printf(c)
            elif name == "system":
                self.script.require_unsafe("system", c.span)
                self.printf(c, EventKind.SYSTEM)
            elif name == "cat":
                self.script.require_unsafe("cat", c.span)
                self.printf(c, EventKind.CAT)
            elif name == "exit":
                self.exit_call(c)
            elif name == "print":
                self.print_call(c)
            elif name == "time":
                self.time_call(c)
            elif name in ("clear", "zero"):
                self.map_event(c, EventKind.CLEAR if name == "clear" else EventKind.ZERO)
            elif name == "delete":
                self.map_delete(c.args[0], c.args[1:])
            elif name == "join":
                self.join_call(c)
            elif name in ("signal", "override", "write_user"):
                from pybpf.codegen.unsafe import unsafe_call

                unsafe_call(self, c)
            else:
                return False
        return True

    def call_expr(self, c: ast.Call, t: Type) -> Val:
        """Calls with a value."""
        name = c.name
        if name in ("usym", "uaddr"):
            from pybpf.codegen.userprobes import user_call

            u = user_call(self, c, t)
            if u is not None:
                return u
        if name == "str":
            return self.str_call(c, t)
        if name == "buf":
            return self.buf_call(c)
        if name == "has_key" and c.args and isinstance(c.args[0], ast.Map):
            return self.has_key(c.args[0], c.args[1:])
        if name == "strlen":
            return self.strlen(c)
        if name in ("kstack", "ustack"):
            return self.stack_value(t, name == "ustack")
        if name == "len":
            from pybpf.codegen.foreach import map_len

            return map_len(self, c)
        if name == "strncmp":
            return self.strncmp(c)
        if name == "strcontains":
            return self.strcontains(c)
        if name == "pton":
            return self.pton(c)
        if name == "ntop":
            return self.ntop(c, t)
        if name == "bswap":
            return self.bswap_call(c, t)
        if name in ("kaddr", "cgroupid") or name in AGG_FUNCS:
            raise CodegenError(f"{name}() is not supported here", c.span)
        if name == "strftime":
            return self.strftime(c)
        if name == "path":
            from pybpf.codegen.iters import path_call

            return path_call(self, c, t)
        if name == "usym":
            raise CodegenError("usym() is not supported yet", c.span)
        if name in ("ksym", "strerror", "uptr", "kptr"):
            v = self.int_value(c.args[0])
            v.type = t
            return v
        if self.call_stmt(c):
            return Val("imm", INT64, imm=0)
        raise CodegenError(f"unknown function {name}()", c.span)

    def strftime(self, c: ast.Call) -> Val:
        """``strftime(fmt, ns)``: (format id, ns) rendered by user space as local time."""
        from pybpf.passes.types import TimestampType

        if len(c.args) != 2 or not isinstance(c.args[0], ast.String):
            raise CodegenError("strftime() needs a literal format and a time", c.span)
        self.script.out.strings.append(c.args[0].value)
        fid = len(self.script.out.strings) - 1
        t = TimestampType()
        c.type = t
        dst = self.alloc_mem(t)
        dst.type = t
        v = self.int_value(c.args[1])
        base = self.frame.base_of(dst, R2)
        self.em.sti(8, base, dst.off, fid)
        if v.is_imm and -(1 << 31) <= v.imm < (1 << 31):
            self.em.sti(8, base, dst.off + 8, v.imm)
        else:
            self.em.stx(8, base, dst.off + 8, self.frame.reg_of(v, R1))
        self.frame.free(v)
        return dst

    def strlen(self, c: ast.Call) -> Val:
        """Length of a string value (a bounded scan)."""
        s = self.expr(c.args[0])
        n = min(s.type.size if s.type else 64, 256)
        res = self.frame.new_reg(INT64)
        done = self.em.label("strlen_done")
        for i in range(n):
            self.em.movi(res.reg, i)
            self.em.ldx(1, R1, self.frame.base_of(s, R1), s.off + i)
            self.em.jmpi(JmpOp.JEQ, R1, 0, done)
        self.em.movi(res.reg, n)
        self.em.place(done)
        self.frame.free(s)
        return res

    # -- assignment -----------------------------------------------------------------------------
    def assign(self, s: ast.Assign) -> None:
        """``target = value`` / ``target op= value``."""
        value = s.value
        if s.op is not None:
            value = ast.Binary(s.span, s.op, s.target, s.value)
        if isinstance(s.target, ast.Map | ast.MapAccess):
            self.map_assign(s.target, value)
        elif isinstance(s.target, ast.Variable):
            self.assign_var(s.target, value)
        else:
            raise CodegenError("cannot assign to this expression", s.span)

    def declare_var(self, name: str, t: Type, zero: bool = False) -> Val:
        """A variable's home: an 8-byte stack slot for integers, memory for aggregates."""
        if t.is_integer() or (t.size <= 8 and not t.is_string() and not _aggregate(t)):
            home = Val("spill", t, off=self.frame.alloc_stack(8), owned=False)
            if zero:
                self.em.sti(8, FP, home.off, 0)
        else:
            home = self.alloc_mem(t)
            home.owned = False
            if zero:
                self.zero_mem(home, t.size)
        self.vars[-1][name] = home
        return home

    def lookup_var(self, name: str) -> Val | None:
        """The home of variable ``name`` in scope."""
        for scope in reversed(self.vars):
            if name in scope:
                return scope[name]
        return None

    def assign_var(self, var: ast.Variable, value: ast.Expr, declare: bool = False) -> None:
        """``$x = value``."""
        home = None if declare else self.lookup_var(var.name)
        t = self.typeof(value)
        if home is None:
            home = self.declare_var(var.name, self._home_type(var, t))
        if home.kind == "spill":
            v = self.int_value(value)
            if v.is_imm and -(1 << 31) <= v.imm < (1 << 31):
                self.em.sti(8, FP, home.off, v.imm)
            else:
                self.em.stx(8, FP, home.off, self.frame.reg_of(v, R1))
            self.frame.free(v)
            return
        assert home.type is not None
        if t.size < home.type.size:
            self.zero_mem(home, home.type.size)
        self.store_into(home, 0, value, home.type if t.size >= home.type.size else t)

    def _home_type(self, var: ast.Variable, t: Type) -> Type:
        """The type of a new variable's home, first assigned a value of type ``t``.

        The front end gave the declaring ``$x`` the variable's final type (all assignments
        in its block merged: a longer string later needs a larger home).  Names are block
        scoped, so another block's ``$x`` may have another type: a type of another kind
        than ``t`` is not this variable's.
        """
        for cand in (var.type, self.script.var_types.get(var.name)):
            if cand is not None and cand.size and type(cand) is type(t):
                return cand
        return t

    def read_var(self, e: ast.Variable) -> Val:
        """``$x``."""
        home = self.lookup_var(e.name)
        if home is None:
            raise CodegenError(f"variable {e.name} used before it is assigned", e.span)
        if home.kind == "spill":
            return Val("spill", home.type, off=home.off, owned=False)
        return Val(
            "mem", home.type, reg=home.reg, off=home.off, owned=False, base_slot=home.base_slot
        )

    def incdec(self, e: ast.IncDec) -> Val:
        """``x++`` and friends; the value is the old one (postfix) or the new one (prefix)."""
        one = ast.Integer(e.span, 1, type=INT64)
        new = ast.Binary(e.span, "+" if e.op == "++" else "-", e.target, one, type=INT64)
        old: Val | None = None
        if not e.prefix:
            old = self.frame.writable(self.int_value(e.target))
        if isinstance(e.target, ast.Variable):
            self.assign_var(e.target, new)
        else:
            self.map_assign(e.target, new)
        if old is not None:
            return old
        return self.int_value(e.target)

    # -- control flow ---------------------------------------------------------------------------
    def if_stmt(self, s: ast.If) -> None:
        """``if``/``else``."""
        c = self.int_value(s.cond)
        if c.is_imm:
            if c.imm:
                self.block(s.then)
            elif isinstance(s.else_, ast.Block):
                self.block(s.else_)
            elif isinstance(s.else_, ast.If):
                self.stmt(s.else_)
            return
        other = self.em.label("else")
        self.em.jmpi(JmpOp.JEQ, self.frame.reg_of(c, R1), 0, other)
        self.frame.free(c)
        self.block(s.then)
        if s.else_ is None:
            self.em.place(other)
            return
        done = self.em.label("endif")
        self.em.ja(done)
        self.em.place(other)
        if isinstance(s.else_, ast.Block):
            self.block(s.else_)
        else:
            self.stmt(s.else_)
        self.em.place(done)

    def while_stmt(self, s: ast.While) -> None:
        """``while (cond) { }`` (the verifier proves it bounded)."""
        top = self.em.label("while")
        done = self.em.label("wend")
        self.em.place(top)
        c = self.int_value(s.cond)
        self.em.jmpi(JmpOp.JEQ, self.frame.reg_of(c, R1), 0, done)
        self.frame.free(c)
        self.loops.append((done, top))
        self.block(s.body)
        self.loops.pop()
        self.em.ja(top)
        self.em.place(done)

    def for_stmt(self, s: ast.For) -> None:
        """``for ($i : a..b)`` and ``for ($kv : @map)``."""
        if isinstance(s.iterable, ast.Map):
            self.for_map(s, s.iterable)
            return
        if not isinstance(s.iterable, ast.Range):
            raise CodegenError("for needs a range or a map", s.span)
        self.vars.append({})
        i = self.declare_var(s.var.name, INT64)
        start = self.int_value(s.iterable.start)
        self.em.stx(8, FP, i.off, self.frame.reg_of(start, R1))
        self.frame.free(start)
        end = self.declare_var("$__end", INT64)
        e = self.int_value(s.iterable.end)
        self.em.stx(8, FP, end.off, self.frame.reg_of(e, R1))
        self.frame.free(e)
        top, step, done = self.em.label("for"), self.em.label("fstep"), self.em.label("fend")
        self.em.place(top)
        self.em.ldx(8, R1, FP, i.off)
        self.em.ldx(8, R2, FP, end.off)
        self.em.jmp(JmpOp.JSGE, R1, R2, done)
        self.loops.append((done, step))
        self.block(s.body)
        self.loops.pop()
        self.em.place(step)
        self.em.ldx(8, R1, FP, i.off)
        self.em.alui(AluOp.ADD, R1, 1)
        self.em.stx(8, FP, i.off, R1)
        self.em.ja(top)
        self.em.place(done)
        self.vars.pop()

    def for_map(self, s: ast.For, mexpr: ast.Map) -> None:
        """``for ($kv : @m) { }``: the body is a callback of ``bpf_for_each_map_elem``."""
        from pybpf.codegen.foreach import callback

        m = self.script.map_for(mexpr)
        entry, code = callback(self, s, m)
        self.subprogs.append(code)
        self.frame.before_call()
        self.em.ld_map(R1, m.name)
        self.em.ld_func(R2, entry)
        self.em.mov(3, FP)  # the callback context: this frame (outer variables)
        self.em.movi(4, 0)
        self.frame.call(Helper.FOR_EACH_MAP_ELEM)

    def jump(self, s: ast.Jump) -> None:
        """``break`` / ``continue`` / ``return``."""
        if s.kind == "return":
            self.em.ja(self.epilogue)
            return
        if not self.loops:
            raise CodegenError(f"{s.kind} outside a loop", s.span)
        brk, cont = self.loops[-1]
        self.em.ja(brk if s.kind == "break" else cont)


_ = IntType
__all__ = ["ProbeGen", "uses_ctx"]
