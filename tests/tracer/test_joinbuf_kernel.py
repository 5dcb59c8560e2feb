"""``join()`` and ``buf()`` on the real kernel, under workloads whose bytes the test knows.

``join`` reads ``execve``'s argv (user memory) while the workload runs a command line it
chose; ``buf`` reads the bytes of ``write`` calls it makes and the ``__u8`` address arrays
of the ``inet_sock_set_state`` tracepoint record. Expected outputs are exact, and follow
what bpftrace prints (checked against Debian's bpftrace 0.17 where the versions agree:
join's 16 strings of up to 1023 bytes, an empty argument ending the list).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator

import pytest
from tests.tracer.helpers import run_tracer

pytestmark = pytest.mark.kernel

EXIT_WITH = "tracepoint:sched:sched_process_exit /pid == $1/ { exit(); }"


@pytest.fixture
def prog() -> Iterator[str]:
    """A short, unique path to /bin/true: the script matches its exec by filename."""
    d = tempfile.mkdtemp(prefix="pbj", dir="/tmp")
    path = os.path.join(d, "t")
    os.symlink("/bin/true", path)
    try:
        yield path
    finally:
        shutil.rmtree(d)


def _execs(path: str, argvs: list[list[str]]) -> str:
    """Workload code: run ``path`` once per argument list (argv[0] is the path itself)."""
    runs = "".join(f"subprocess.run({[path, *a]!r}, check=True)\n" for a in argvs)
    return "import subprocess\n" + runs


def _join_script(path: str) -> str:
    return (
        f'tracepoint:syscalls:sys_enter_execve /str(args.filename) == "{path}"/ '
        '{ join(args.argv); join(args.argv, "--"); }' + EXIT_WITH
    )


def test_join_execve_argv(prog: str) -> None:
    long_arg = "x" * 1500
    many = [f"a{i}" for i in range(20)]
    argvs = [
        ["one", "two words", "tab\there"],
        [],
        ["a", "", "b"],  # an empty argument ends the list, as in bpftrace
        many,  # 21 strings: only the first 16 are read
        [long_arg, "y"],  # each string keeps 1023 bytes
        ["caf\u00e9"],
    ]
    r = run_tracer(_join_script(prog), workload=_execs(prog, argvs))
    assert r.returncode == 0, r.stderr
    first16 = [prog, *many[:15]]
    want = [
        f"{prog} one two words tab\there",
        f"{prog}--one--two words--tab\there",
        prog,
        prog,
        f"{prog} a",
        f"{prog}--a",
        " ".join(first16),
        "--".join(first16),
        f"{prog} {'x' * 1023} y",
        f"{prog}--{'x' * 1023}--y",
        f"{prog} caf\u00e9",
        f"{prog}--caf\u00e9",
    ]
    assert r.stdout == "\n".join(want) + "\n\n\n"


def test_join_json(prog: str) -> None:
    r = run_tracer(_join_script(prog), "-f", "json", workload=_execs(prog, [["-v", 'q"t']]))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(ln) for ln in r.stdout.splitlines() if ln]
    assert lines == [
        {"type": "join", "data": f'{prog} -v q"t'},
        {"type": "join", "data": f'{prog}---v--q"t'},
    ]


def test_join_unreadable_array_prints_an_empty_line() -> None:
    """A bad array pointer reads as NULL: one empty line, no error (bpftrace does the same)."""
    r = run_tracer(
        'tracepoint:syscalls:sys_enter_getppid /pid == $1/ { join((uint64)1); join(0, ","); }'
        + EXIT_WITH,
        workload="import os\nos.getppid()\n",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "\n\n\n\n"


WRITES = (
    "import os\n"
    "fd = os.open('/dev/null', os.O_WRONLY)\n"
    "os.write(fd, b'hello\\x00\\x01\\xff\\x80 world\\n')\n"
    "os.write(fd, b'A' * 2000)\n"
    "os.write(fd, b'A' * 2000)\n"
)
FIRST = b"hello\x00\x01\xff\x80 world\n"


def test_buf_of_write_bytes() -> None:
    """``buf(args.buf, args.count)``: the written bytes (at most 1020), as %r/%rx/%rh."""
    script = (
        "tracepoint:syscalls:sys_enter_write /pid == $1/ {"
        ' printf("%r|%rh|%rx\\n", buf(args.buf, args.count), buf(args.buf, 4),'
        " buf(args.buf, 2));"
        " @first3[buf(args.buf, 3)] = count(); @last = buf(args.buf, args.count); }" + EXIT_WITH
    )
    r = run_tracer(script, workload=WRITES)
    assert r.returncode == 0, r.stderr
    big = "A" * 1020
    assert r.stdout.splitlines() == [
        "hello\\x00\\x01\\xff\\x80 world\\x0a|68 65 6c 6c|\\x68\\x65",
        f"{big}|41 41 41 41|\\x41\\x41",
        f"{big}|41 41 41 41|\\x41\\x41",
        "",
        "",
        "@first3[hel]: 1",
        "@first3[AAA]: 2",
        f"@last: {big}",
    ]


def test_buf_json_values_are_signed_bytes() -> None:
    script = (
        "tracepoint:syscalls:sys_enter_write /pid == $1 && args.count < 100/ {"
        " print(buf(args.buf, args.count)); @v[buf(args.buf, 5)] = buf(args.buf, 9); }" + EXIT_WITH
    )
    r = run_tracer(script, "-f", "json", workload=WRITES)
    assert r.returncode == 0, r.stderr
    signed = [b - 256 if b > 127 else b for b in FIRST]
    assert [json.loads(ln) for ln in r.stdout.splitlines() if ln] == [
        {"type": "value", "data": signed},
        {"type": "map", "data": {"@v": {"hello": signed[:9]}}},
    ]


def test_buf_run_time_length_is_clamped() -> None:
    """A run-time length is used as is when it fits; too large (or negative, i.e. huge
    unsigned, as bpftrace compares it) it is clamped to 1020 bytes."""
    script = (
        "tracepoint:syscalls:sys_enter_write /pid == $1 && args.count > 100/ {"
        ' $n = -1; printf("%r\\n%r\\n", buf(args.buf, args.count - 1990), buf(args.buf, $n)); }'
        + EXIT_WITH
    )
    r = run_tracer(script, workload=WRITES)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:4] == ["A" * 10, "A" * 1020] * 2


def test_buf_of_tracepoint_byte_arrays() -> None:
    """``__u8 daddr[4]`` and ``daddr_v6[16]`` of the record: arrays, so no length needed."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        script = (
            f"tracepoint:sock:inet_sock_set_state /args.dport == {port} && args.newstate == 1"
            " && args.oldstate == 2/ {"
            ' printf("%rh|%rh|%r\\n", buf(args.daddr), buf(args.daddr_v6), buf(args.saddr, 2)); }'
            + EXIT_WITH
        )
        workload = f"import socket\nsocket.create_connection(('127.0.0.1', {port})).close()\n"
        r = run_tracer(script, workload=workload)
    assert r.returncode == 0, r.stderr
    assert (
        r.stdout == "7f 00 00 01|00 00 00 00 00 00 00 00 00 00 ff ff 7f 00 00 01|\\x7f\\x00\n\n\n"
    )


def test_several_joins_in_one_probe(prog: str) -> None:
    """Several joins in one probe (16 unrolled reads each) load and all print."""
    script = (
        f'tracepoint:syscalls:sys_enter_execve /str(args.filename) == "{prog}"/ '
        '{ join(args.argv); join(args.argv, ","); join(args.argv, ""); join(args.argv, " | "); }'
        + EXIT_WITH
    )
    r = run_tracer(script, workload=_execs(prog, [["1", "2"]]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:4] == [
        f"{prog} 1 2",
        f"{prog},1,2",
        f"{prog}12",
        f"{prog} | 1 | 2",
    ]
