"""Broken scripts and the exact diagnostics each gets (message and position).

Wording follows bpftrace (0.17 checked with the installed binary; 0.26 where it differs).
"""

CASES: list[tuple[str, list[str]]] = [
    ('BEGIN { prinf("x"); }', ["stdin:1:9-14: ERROR: Unknown function: 'prinf'"]),
    ("BEGIN { print($y); }", ["stdin:1:15-17: ERROR: Undefined or undeclared variable: $y"]),
    (
        "BEGIN { @a = count() + 1; }",
        ["stdin:1:14-21: ERROR: count() should be directly assigned to a map"],
    ),
    (
        'BEGIN { @x = 1; @x = "a"; }',
        [
            "stdin:1:17-19: ERROR: Type mismatch for @x: trying to assign value of type 'string[2]' when map already contains a value of type 'int64'"
        ],
    ),
    (
        'BEGIN { printf("%d\\n", "s"); }',
        [
            "stdin:1:9-28: ERROR: printf: %d specifier expects a value of type integer (string supplied)"
        ],
    ),
    (
        'BEGIN { printf("%r\\n", 1); }',
        [
            "stdin:1:9-26: ERROR: printf: %r specifier expects a value of type buffer (integer supplied)"
        ],
    ),
    (
        'BEGIN { printf("%d %d\\n", 1); }',
        [
            "stdin:1:9-29: ERROR: printf: Not enough arguments for format string (1 supplied, 2 expected)"
        ],
    ),
    (
        'BEGIN { printf("%d\\n", 1, 2); }',
        [
            "stdin:1:9-29: ERROR: printf: Too many arguments for format string (2 supplied, 1 expected)"
        ],
    ),
    (
        "BEGIN { printf(1); }",
        ["stdin:1:9-18: ERROR: printf() expects a string literal (integer provided)"],
    ),
    (
        "BEGIN { printf(); }",
        ["stdin:1:9-17: ERROR: printf() requires at least one argument (0 provided)"],
    ),
    ("BEGIN { 1 +; }", ["stdin:1:12-13: ERROR: syntax error, unexpected ;"]),
    ("BEGIN { $x = 1 }}", ["stdin:1:17-18: ERROR: syntax error, unexpected }"]),
    (
        "BEGIN { @x[1] = 1; @x[1, 2] = 2; }",
        [
            "stdin:1:20-28: ERROR: Argument mismatch for @x: trying to access with arguments: [int64, int64] when map expects arguments: [int64]"
        ],
    ),
    (
        # String literals are typed string[max_strlen] (bpftrace 0.17 prints its 64 here;
        # max_strlen is current bpftrace's 1024; bpftrace >= 0.20 sizes literals exactly).
        'BEGIN { @x[1] = 1; @x["a"] = 2; }',
        [
            "stdin:1:20-27: ERROR: Argument mismatch for @x: trying to access with arguments: [string[1024]] when map expects arguments: [int64]"
        ],
    ),
    (
        "BEGIN { @x = hist(); }",
        ["stdin:1:14-20: ERROR: hist() requires at least one argument (0 provided)"],
    ),
    (
        "BEGIN { @x = lhist(1, 0, 10); }",
        ["stdin:1:14-29: ERROR: lhist() requires 4 arguments (3 provided)"],
    ),
    (
        "BEGIN { @x = lhist(1, 10, 0, 1); }",
        ["stdin:1:14-32: ERROR: lhist() min must be less than max (provided min 10 and max 0)"],
    ),
    (
        "BEGIN { @x = lhist(1, 0, 10, 0); }",
        ["stdin:1:14-32: ERROR: lhist() step must be >= 1 (0 provided)"],
    ),
    (
        "BEGIN { @x = count(1); }",
        ["stdin:1:14-22: ERROR: count() requires no arguments (1 provided)"],
    ),
    ("BEGIN { @x = sum(); }", ["stdin:1:14-19: ERROR: sum() requires one argument (0 provided)"]),
    (
        'BEGIN { @x = sum("a"); }',
        ["stdin:1:14-22: ERROR: sum() only supports integer arguments (string provided)"],
    ),
    ("BEGIN { exit(1, 2); }", ["stdin:1:9-19: ERROR: exit() takes up to 1 argument (2 provided)"]),
    (
        'BEGIN { $x = "a" + 1; }',
        ["stdin:1:14-21: ERROR: Type mismatch for '+': comparing 'string[2]' with 'int64'"],
    ),
    (
        'BEGIN { $x = 1; $x = "a"; }',
        [
            "stdin:1:22-25: ERROR: Type mismatch for $x: trying to assign value of type 'string[2]' when variable already contains a value of type 'int64'"
        ],
    ),
    (
        "BEGIN { @x = count(); @x = 1; }",
        [
            "stdin:1:23-25: ERROR: Type mismatch for @x: trying to assign value of type 'int64' when map already contains a value of type 'count'"
        ],
    ),
    ("BEGIN { delete(@x); }", ["stdin:1:16-18: ERROR: Undefined map: @x"]),
    ("BEGIN { delete(1); }", ["stdin:1:9-18: ERROR: delete() expects a map to be provided"]),
    ("BEGIN { clear(1); }", ["stdin:1:9-17: ERROR: clear() expects a map to be provided"]),
    (
        "BEGIN { print(); }",
        ["stdin:1:9-16: ERROR: print() requires at least one argument (0 provided)"],
    ),
    (
        "BEGIN { str(); }",
        ["stdin:1:9-14: ERROR: str() requires at least one argument (0 provided)"],
    ),
    (
        "BEGIN { @ = retval; }",
        [
            "stdin:1:13-19: ERROR: The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'fexit' probes"
        ],
    ),
    (
        "BEGIN { @ = arg0; }",
        [
            "stdin:1:13-17: ERROR: The arg0 builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes"
        ],
    ),
    (
        "BEGIN { @ = args; }",
        [
            "stdin:1:13-17: ERROR: The args builtin can only be used with tracepoint, rawtracepoint, fentry/fexit and uprobe probes (BEGIN used here)"
        ],
    ),
    (
        "BEGIN { $x = 1; $x.foo; }",
        ["stdin:1:17-23: ERROR: Can not access field 'foo' on expression of type 'int64'"],
    ),
    (
        "BEGIN { @x = (1, 2); @y = @x.5; }",
        ["stdin:1:27-31: ERROR: Invalid tuple index: 5. Found 2 elements in tuple."],
    ),
    ('BEGIN { if ("a") { } }', ["stdin:1:13-16: ERROR: Invalid condition in if(): string"]),
    (
        'BEGIN { $x = !"a"; }',
        ["stdin:1:14-18: ERROR: The ! operator can not be used on expressions of type 'string[2]'"],
    ),
    (
        'BEGIN { $x = -"a"; }',
        ["stdin:1:14-18: ERROR: The - operator can not be used on expressions of type 'string[2]'"],
    ),
    (
        'BEGIN { $x = ~"a"; }',
        ["stdin:1:14-18: ERROR: The ~ operator can not be used on expressions of type 'string[2]'"],
    ),
    ("BEGIN { @x = kstack(foo); }", ["stdin:1:21-24: ERROR: Unknown stack mode: 'foo'"]),
    (
        "BEGIN { @x = kstack(perf, 2000); }",
        ["stdin:1:14-32: ERROR: kstack([int limit]): limit shouldn't exceed 1024, 2000 given"],
    ),
    (
        "BEGIN { @x = ustack(1, 2, 3); }",
        ["stdin:1:14-29: ERROR: ustack() takes up to 2 arguments (3 provided)"],
    ),
    (
        'BEGIN { $x = (uint8)"a"; }',
        ['stdin:1:14-24: ERROR: Casts are not supported for type: "string[2]"'],
    ),
    (
        "BEGIN { $x = (struct nonexistent_xyz *)1; }",
        ["stdin:1:15-39: ERROR: Unknown struct/union: 'struct nonexistent_xyz'"],
    ),
    (
        'BEGIN { system("ls"); }',
        ["stdin:1:9-21: ERROR: system() is an unsafe function being used in safe mode"],
    ),
    ("BEGIN { unroll(200) {} }", ["stdin:1:9-19: ERROR: unroll maximum value is 100"]),
    ("BEGIN { unroll(0) {} }", ["stdin:1:9-17: ERROR: unroll minimum value is 1"]),
    ("BEGIN { break; }", ["stdin:1:9-14: ERROR: break used outside of a loop"]),
    ("BEGIN { continue; }", ["stdin:1:9-17: ERROR: continue used outside of a loop"]),
    (
        "BEGIN { @x = 1; @y = @x[1]; }",
        [
            "stdin:1:22-27: ERROR: Argument mismatch for @x: trying to access with arguments: [int64] when map expects arguments: []"
        ],
    ),
    (
        "BEGIN { @x[1] = 1; @y = @x; }",
        [
            "stdin:1:25-27: ERROR: Argument mismatch for @x: trying to access with arguments: [] when map expects arguments: [int64]"
        ],
    ),
    (
        'BEGIN { $x = "a" == 1; }',
        ["stdin:1:14-22: ERROR: Type mismatch for '==': comparing 'string[2]' with 'int64'"],
    ),
    (
        'BEGIN { $x = "a" < "b"; }',
        [
            "stdin:1:14-23: ERROR: The < operator can not be used on expressions of types string[2], string[2]"
        ],
    ),
    ('BEGIN { @x = buf("a", -1); }', ["stdin:1:14-26: ERROR: buf cannot use negative length (-1)"]),
    # buf()/join() argument checks: bpftrace 0.17 prints the same lines (checked), except
    # that its join() message lacks the function name ("() only supports ...").
    (
        "BEGIN { @x = buf(1); }",
        ["stdin:1:14-20: ERROR: buf() expects a length argument for non-array type integer"],
    ),
    (
        'BEGIN { @x = buf("abc"); }',
        ["stdin:1:14-24: ERROR: buf() expects a length argument for non-array type string"],
    ),
    (
        "BEGIN { $t = (1, 2); @x = buf($t, 2); }",
        ["stdin:1:27-37: ERROR: buf() expects an integer, string, or array argument but saw tuple"],
    ),
    (
        'BEGIN { @x = buf("a", "b"); }',
        ["stdin:1:14-27: ERROR: buf() only supports integer arguments (string provided)"],
    ),
    (
        'BEGIN { @x = buf("a", 1, 2); }',
        ["stdin:1:14-28: ERROR: buf() takes up to 2 arguments (3 provided)"],
    ),
    (
        'BEGIN { printf("%d\\n", buf("abc", 3)); }',
        [
            "stdin:1:9-38: ERROR: printf: %d specifier expects a value of type integer"
            " (buffer supplied)"
        ],
    ),
    (
        'BEGIN { join("abc"); }',
        ["stdin:1:9-20: ERROR: join() only supports int or pointer arguments (string provided)"],
    ),
    (
        "BEGIN { join(0, 1); }",
        ["stdin:1:9-19: ERROR: join() expects a string literal (integer provided)"],
    ),
    (
        "BEGIN { join(); }",
        ["stdin:1:9-15: ERROR: join() requires at least one argument (0 provided)"],
    ),
    (
        'BEGIN { @x = str(1, "a"); }',
        ["stdin:1:14-25: ERROR: str() only supports integer arguments (string provided)"],
    ),
    (
        "BEGIN { cat(); }",
        ["stdin:1:9-14: ERROR: cat() requires at least one argument (0 provided)"],
    ),
    (
        "BEGIN { time(1); }",
        ["stdin:1:9-16: ERROR: time() expects a string literal (integer provided)"],
    ),
    (
        "BEGIN { strftime(1, 2); }",
        ["stdin:1:9-23: ERROR: strftime() expects a string literal (integer provided)"],
    ),
    (
        "BEGIN { @x = avg(1); @y = @x + 1; }",
        ["stdin:1:27-33: ERROR: Type mismatch for '+': comparing 'avg' with 'int64'"],
    ),
    (
        'BEGIN { printf("%z\\n", 1); }',
        [
            "stdin:1:9-26: ERROR: printf: Too many arguments for format string (1 supplied, 0 expected)"
        ],
    ),
    ("BEGIN { @x = ksym(); }", ["stdin:1:14-20: ERROR: ksym() requires one argument (0 provided)"]),
    ("BEGIN { zero(1); }", ["stdin:1:9-16: ERROR: zero() expects a map to be provided"]),
    ("BEGIN { print(@x); }", ["stdin:1:15-17: ERROR: Undefined map: @x"]),
    (
        'BEGIN { @x = 1; print(@x, "a"); }',
        ["stdin:1:17-31: ERROR: print() expects an integer literal (string provided)"],
    ),
    (
        'BEGIN { exit("a"); }',
        ["stdin:1:9-18: ERROR: exit() only supports integer arguments (string provided)"],
    ),
    (
        "BEGIN { @x = kaddr(1); }",
        ["stdin:1:14-22: ERROR: kaddr() expects a string literal (integer provided)"],
    ),
    (
        "BEGIN { @x = cgroupid(1); }",
        ["stdin:1:14-25: ERROR: cgroupid() expects a string literal (integer provided)"],
    ),
    (
        "BEGIN { $x = sizeof(struct nonexistent_xyz); }",
        ["stdin:1:21-43: ERROR: Unknown struct/union: 'struct nonexistent_xyz'"],
    ),
    (
        "BEGIN { $x = 1; $x++; $y++; }",
        ["stdin:1:23-25: ERROR: Undefined or undeclared variable: $y"],
    ),
    (
        'BEGIN { @x = "a"; @x++; }',
        [
            "stdin:1:19-23: ERROR: The ++ operator can not be used on expressions of type 'string[2]'"
        ],
    ),
    (
        'BEGIN { @x = 1; @x += "a"; }',
        ["stdin:1:17-26: ERROR: Type mismatch for '+': comparing 'int64' with 'string[2]'"],
    ),
    (
        'BEGIN { $t = (1, "a"); $t = (1, 2); }',
        ["stdin:1:29-35: ERROR: Tuple type mismatch: (int64,string[2]) != (int64,int64)."],
    ),
    (
        'BEGIN { $x = pid ? 1 : "a"; }',
        [
            "stdin:1:14-27: ERROR: Ternary operator must return the same type: have 'integer' and 'string'"
        ],
    ),
    (
        "BEGIN { $x = comm ? 1 : 2; }",
        ["stdin:1:14-26: ERROR: Invalid condition in ternary: string"],
    ),
    (
        'BEGIN { signal("FOO"); }',
        ["stdin:1:9-22: ERROR: signal() is an unsafe function being used in safe mode"],
    ),
    ("BEGIN { $x = $y + 1; }", ["stdin:1:14-16: ERROR: Undefined or undeclared variable: $y"]),
    (
        'BEGIN { @x = strncmp("a", "b"); }',
        ["stdin:1:14-31: ERROR: strncmp() requires 3 arguments (2 provided)"],
    ),
    (
        'BEGIN { @x = strncmp("a", "b", -1); }',
        ["stdin:1:14-35: ERROR: Builtin strncmp requires a non-negative size"],
    ),
    (
        'BEGIN { @x = strcontains(1, "a"); }',
        ["stdin:1:14-33: ERROR: strcontains() only supports string arguments (integer provided)"],
    ),
    (
        "BEGIN { @x = stats(); }",
        ["stdin:1:14-21: ERROR: stats() requires one argument (0 provided)"],
    ),
    (
        'BEGIN { @x = min("a"); }',
        ["stdin:1:14-22: ERROR: min() only supports integer arguments (string provided)"],
    ),
    (
        "BEGIN { @x = hist(1, 20); }",
        ["stdin:1:14-25: ERROR: hist() bits must be between 0 and 5 (20 provided)"],
    ),
    (
        "BEGIN { @x = sum(1); @x = count(); }",
        [
            "stdin:1:22-24: ERROR: Type mismatch for @x: trying to assign value of type 'count' when map already contains a value of type 'sum'"
        ],
    ),
    ("foo:bar { }", ["stdin:1:1-8: ERROR: Invalid probe type: foo"]),
    ("tracepoint:foo { }", ["stdin:1:1-15: ERROR: tracepoint probe type requires 2 arguments"]),
    (
        "tracepoint:syscalls:nonexistent_xyz { }",
        ["stdin:1:1-36: ERROR: tracepoint not found: syscalls:nonexistent_xyz"],
    ),
    ("kprobe { }", ["stdin:1:1-7: ERROR: kprobe probe type requires 1 or 2 arguments"]),
    ("interval:foo:1 { }", ["stdin:1:1-15: ERROR: foo is not an accepted unit of time"]),
    ("interval { }", ["stdin:1:1-9: ERROR: interval probe type requires 1 or 2 arguments"]),
    ("profile:hz:abc { }", ["stdin:1:1-15: ERROR: Invalid rate: abc"]),
    ("software:nonsense:1 { }", ["stdin:1:1-20: ERROR: nonsense is not a software probe"]),
    ("hardware:foo { }", ["stdin:1:1-13: ERROR: foo is not a hardware probe"]),
    ("uprobe:/bin/bash { }", ["stdin:1:1-17: ERROR: uprobe probe type requires 2 or 3 arguments"]),
    (
        "watchpoint:0x1000:3:rw { }",
        ["stdin:1:1-23: ERROR: watchpoint length must be one of (1,2,4,8)"],
    ),
    ("watchpoint:0x1000:8:rwx { }", ["stdin:1:1-24: ERROR: invalid watchpoint mode: rwx"]),
    ("usdt { }", ["stdin:1:1-5: ERROR: usdt probe type requires 2 or 3 arguments"]),
    ("BEGIN:foo { }", ["stdin:1:1-10: ERROR: BEGIN probe type requires 0 arguments"]),
    (
        "tracepoint:syscalls:sys_enter_read { @ = args->nonexistent_field; }",
        [
            "stdin:1:42-65: ERROR: Struct/union of type 'struct _tracepoint_syscalls_sys_enter_read' does not contain a field named 'nonexistent_field'"
        ],
    ),
    (
        "tracepoint:syscalls:sys_enter_read { @ = arg0; }",
        [
            "stdin:1:42-46: ERROR: The arg0 builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes"
        ],
    ),
    (
        "tracepoint:syscalls:sys_enter_read { @ = retval; }",
        [
            "stdin:1:42-48: ERROR: The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'fexit' probes (try to use args->ret instead)"
        ],
    ),
    (
        "BEGIN { $x = curtask->nonexistent_field; }",
        [
            "stdin:1:14-40: ERROR: Struct/union of type 'struct task_struct' does not contain a field named 'nonexistent_field'"
        ],
    ),
    (
        "BEGIN { $x = (int32 *)1; $y = $x.pid; }",
        [
            "stdin:1:31-37: ERROR: Can not access field 'pid' on type 'int32 *'. Try dereferencing it first, or using '->'"
        ],
    ),
    (
        "BEGIN { $x = 1; $x->foo; }",
        ["stdin:1:17-24: ERROR: Can not access field 'foo' on expression of type 'int64'"],
    ),
    (
        "BEGIN { @x[pid] = count(); @x = count(); }",
        [
            "stdin:1:28-30: ERROR: Argument mismatch for @x: trying to access with arguments: [] when map expects arguments: [uint32]"
        ],
    ),
    (
        "BEGIN { @x = count(); @y = hist(@x); }",
        ["stdin:1:28-36: ERROR: hist() only supports integer arguments (count provided)"],
    ),
    (
        'BEGIN { printf("%s %s\\n", comm); }',
        [
            "stdin:1:9-32: ERROR: printf: Not enough arguments for format string (1 supplied, 2 expected)"
        ],
    ),
    (
        'BEGIN { printf("%d\\n", comm); }',
        [
            "stdin:1:9-29: ERROR: printf: %d specifier expects a value of type integer (string supplied)"
        ],
    ),
    (
        "BEGIN { $x = 1; let $x = 2; }",
        [
            "stdin:1:17-23: ERROR: Variable $x was already declared. Variable shadowing is not "
            "allowed.",
            "stdin:1:9-15: ERROR: This is the initial assignment.",
        ],
    ),
    # Block scopes (bpftrace 0.26). Reads after the block that assigned them (0.17 style)
    # are accepted with a warning: tests/passes/test_block_scopes.py.
    (
        "BEGIN { let $x = 1; if (1) { let $x = 2; } }",
        [
            "stdin:1:30-36: ERROR: Variable $x was already declared. Variable shadowing is not "
            "allowed.",
            "stdin:1:9-15: ERROR: This is the initial declaration.",
        ],
    ),
    (
        "BEGIN { let $i = 5; for ($i : 0..3) { print($i); } }",
        [
            "stdin:1:26-28: ERROR: Loop declaration shadows existing variable: $i",
            "stdin:1:9-15: ERROR: This is the initial declaration.",
        ],
    ),
    (
        "BEGIN { let $x; print($x); $y = $nope; }",
        [
            "stdin:1:23-25: WARNING: Variable used before it was assigned: $x",
            "stdin:1:33-38: ERROR: Undefined or undeclared variable: $nope",
            "stdin:1:9-15: WARNING: Variable $x was never assigned to.",
        ],
    ),
    (
        "BEGIN { if (1) { let $v = 1; } print($v); }",
        ["stdin:1:38-40: ERROR: Undefined or undeclared variable: $v"],
    ),
    (
        "BEGIN { @x = count(); @x += 1; }",
        ["stdin:1:23-30: ERROR: Type mismatch for '+': comparing 'count' with 'int64'"],
    ),
    (
        'BEGIN { $x = "abc"; $x++; }',
        [
            "stdin:1:21-25: ERROR: The ++ operator can not be used on expressions of type 'string[4]'"
        ],
    ),
    (
        'config = { max_strlen = "a" } BEGIN { }',
        ["stdin:1:25-28: ERROR: Invalid type for max_strlen. Type: integer"],
    ),
    (
        "config = { nonsense_key = 1 } BEGIN { }",
        ["stdin:1:12-28: ERROR: Unrecognized config variable: nonsense_key"],
    ),
    (
        "config = { stack_mode = wrong } BEGIN { }",
        [
            "stdin:1:25-30: ERROR: Invalid value for stack_mode: valid values are bpftrace, perf, raw"
        ],
    ),
    (
        "macro add1(x) { x + 1 } BEGIN { @ = add1(1, 2); }",
        ["stdin:1:37-47: ERROR: Macro 'add1' expects 1 argument(s) (2 provided)"],
    ),
    (
        "BEGIN { @x = lhist(1, 0, 100000000, 1); }",
        [
            "stdin:1:14-39: ERROR: lhist() too many buckets, will exceed 10000 (provided min 0, max 100000000, step 1)"
        ],
    ),
    (
        "BEGIN { $x = (1, 2); $y = $x.2; }",
        ["stdin:1:27-31: ERROR: Invalid tuple index: 2. Found 2 elements in tuple."],
    ),
    (
        "BEGIN { $r = (a = 1, b = 2); $z = $r.c; }",
        ["stdin:1:35-39: ERROR: Record does not contain a field named 'c'"],
    ),
    (
        "BEGIN { @x = 1; @x = (1, 2); }",
        [
            "stdin:1:17-19: ERROR: Type mismatch for @x: trying to assign value of type '(int64,int64)' when map already contains a value of type 'int64'"
        ],
    ),
    (
        "BEGIN { for ($kv : 1) { } }",
        ["stdin:1:20-21: ERROR: Loop expression must be a map or a range"],
    ),
    (
        'BEGIN { for ($i : 0.."a") { } }',
        ["stdin:1:22-25: ERROR: Loop range requires an integer, got string[2]"],
    ),
    (
        'BEGIN { $x = 1 && "a"; }',
        [
            "stdin:1:19-22: ERROR: The && operator can not be used on expressions of type 'string[2]'"
        ],
    ),
    (
        "BEGIN { $y = foo_undefined_ident; }",
        ["stdin:1:14-33: ERROR: Unknown identifier: 'foo_undefined_ident'"],
    ),
    (
        "fn f($a: int64): int64 { return $a; } BEGIN { @ = f(1, 2); }",
        ["stdin:1:51-58: ERROR: Function f requires 1 arguments (2 provided)"],
    ),
    (
        'fn g($a: int64): int64 { return "s"; } BEGIN { @ = g(1); }',
        ["stdin:1:33-36: ERROR: Function g is of type int64, cannot return string[2]"],
    ),
    (
        'BEGIN { @x = hist("a"); }',
        ["stdin:1:14-23: ERROR: hist() only supports integer arguments (string provided)"],
    ),
    (
        'BEGIN { printf("%d\\n", count()); }',
        ["stdin:1:24-31: ERROR: count() should be directly assigned to a map"],
    ),
    ("interval:s:0 { }", ["stdin:1:1-13: ERROR: interval rate must be a positive integer"]),
    (
        "iter:nonexistent_iter_xyz { }",
        ["stdin:1:1-26: ERROR: iter nonexistent_iter_xyz not available for your kernel version."],
    ),
    ("BEGIN { $a[1] = 2; }", ["stdin:1:15-16: ERROR: syntax error, unexpected ="]),
    (
        "BEGIN { @x = func; }",
        ["stdin:1:14-18: ERROR: The func builtin can not be used with 'BEGIN' probes"],
    ),
    (
        'BEGIN { "abc"; @x = 1 /* unterminated',
        [
            "stdin:1:23-38: ERROR: unterminated comment",
            "stdin:1:38-39: ERROR: syntax error, unexpected end of file, expecting ;",
        ],
    ),
    (
        'BEGIN { $s = "abc',
        [
            "stdin:1:14-18: ERROR: unterminated string",
            "stdin:1:18-19: ERROR: syntax error, unexpected end of file, expecting ;",
        ],
    ),
    ("BEGIN { @x = 0xZZ; }", ["stdin:1:14-18: ERROR: invalid integer literal: 0xZZ"]),
    ("BEGIN { @x = 'ab'; }", ["stdin:1:14-18: ERROR: invalid character literal"]),
    ('BEGIN { printf("\\q"); }', ["stdin:1:17-19: ERROR: invalid escape character '\\q'"]),
    ("BEGIN { @x = (1 + ; }", ["stdin:1:19-20: ERROR: syntax error, unexpected ;"]),
    ("BEGIN { if 1 { } else }", ["stdin:1:23-24: ERROR: syntax error, unexpected }, expecting {"]),
    (
        "BEGIN { @x[1] = 1 } END { @y = @x[1, 2]; }",
        [
            "stdin:1:32-40: ERROR: Argument mismatch for @x: trying to access with arguments: [int64, int64] when map expects arguments: [int64]"
        ],
    ),
]
