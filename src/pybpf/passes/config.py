"""``config = { ... }``: validate keys and values, fill ``ctx.config`` with defaults.

Keys follow bpftrace's config names (``max_strlen``, ``stack_mode`` ...); environment-style
spellings (``BPFTRACE_MAX_STRLEN``) are accepted too.
"""

from __future__ import annotations

from pybpf.lang import ast
from pybpf.passes.context import PassContext

#: name -> (default, kind) where kind is "int", "bool" or a set of allowed words.
DEFAULTS: dict[str, tuple[int | str | bool, object]] = {
    "max_strlen": (1024, "int"),  # current bpftrace (0.17: 64); codegen always used 1024
    "max_map_keys": (4096, "int"),
    "max_probes": (1024, "int"),
    "max_bpf_progs": (1024, "int"),
    "max_type_res_iterations": (0, "int"),
    "log_size": (1_000_000, "int"),
    "perf_rb_pages": (64, "int"),
    "on_stack_limit": (32, "int"),
    "cat_bytes_max": (10240, "int"),
    "stack_mode": ("bpftrace", {"bpftrace", "perf", "raw"}),
    "print_maps_on_exit": (True, "bool"),
    "lazy_symbolication": (False, "bool"),
    "missing_probes": ("error", {"error", "warn", "ignore"}),
    "unstable_map_decl": ("warn", {"enable", "warn", "error"}),
    "unstable_macro": ("warn", {"enable", "warn", "error"}),
    "unstable_import": ("warn", {"enable", "warn", "error"}),
    "unstable_tseries": ("warn", {"enable", "warn", "error"}),
    "license": ("GPL", "str"),
    "str_trunc_trailer": ("..", "str"),
    "show_debug_info": (False, "bool"),
    "cpp_demangle": (True, "bool"),
    "no_user_symbols": (False, "bool"),
    "cache_user_symbols": ("PER_PROGRAM", {"PER_PROGRAM", "PER_PID", "NONE"}),
}


def run(program: ast.Program, ctx: PassContext) -> None:
    """Validate ``config`` items and record the effective configuration."""
    ctx.config.update({k: v for k, (v, _) in DEFAULTS.items()})
    if program.config is None:
        return
    for item in program.config.items:
        key = item.key.lower()
        if key.startswith("bpftrace_"):
            key = key[len("bpftrace_") :]
        if key not in DEFAULTS:
            ctx.diags.error(f"Unrecognized config variable: {item.key}", item.span)
            continue
        kind = DEFAULTS[key][1]
        v = item.value
        if kind == "int":
            if not isinstance(v, ast.Integer) or v.value < 0:
                ctx.diags.error(f"Invalid type for {item.key}. Type: integer", v.span)
                continue
            ctx.config[key] = v.value
        elif kind == "bool":
            if isinstance(v, ast.Boolean):
                ctx.config[key] = v.value
            elif isinstance(v, ast.Integer) and v.value in (0, 1):
                ctx.config[key] = bool(v.value)
            else:
                ctx.diags.error(f"Invalid type for {item.key}. Type: boolean", v.span)
        elif kind == "str":
            if not isinstance(v, ast.String | ast.Identifier):
                ctx.diags.error(f"Invalid type for {item.key}. Type: string", v.span)
                continue
            ctx.config[key] = v.value if isinstance(v, ast.String) else v.name
        else:
            word = v.value if isinstance(v, ast.String) else getattr(v, "name", None)
            assert isinstance(kind, set)
            if word not in kind:
                choices = ", ".join(sorted(kind))
                ctx.diags.error(f"Invalid value for {item.key}: valid values are {choices}", v.span)
                continue
            ctx.config[key] = str(word)
    strlen = ctx.config["max_strlen"]
    if isinstance(strlen, int) and strlen > 1024:
        ctx.diags.error("max_strlen must not exceed 1024", program.config.span)
