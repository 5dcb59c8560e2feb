"""The shipped tools, each run under a workload the test makes itself, output checked.

Every tool runs as ``python -m pybpf tool NAME`` in a subprocess (see ``harness``); the test
waits until its probes are attached, causes the events, Ctrl-Cs it and reads what it
printed: the rows and histograms must show the test's own activity.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import tool
from .output import histograms, rows, scalars

pytestmark = pytest.mark.kernel

ME = os.getpid()
MY_COMM = Path("/proc/self/comm").read_text().strip()
_needs_bpftrace = pytest.mark.skipif(
    shutil.which("bpftrace") is None, reason="Debian's bpftrace (the oracle) is not installed"
)


def runners(reason: str = "") -> pytest.MarkDecorator:
    """Run a test on pybpftrace (a strict xfail naming the tracer gap, when ``reason`` is
    given) and on bpftrace 0.17.

    The bpftrace run is the oracle for the script and for the test: it passes today, so
    both are known to be right, and the pybpftrace run turns into XPASS (a failure) the day
    the gap is closed, when the reason must go.
    """
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.mark.parametrize(
        "runner",
        [
            pytest.param("pybpf", marks=marks),
            pytest.param("bpftrace", marks=_needs_bpftrace),
        ],
    )


def _py(code: str) -> subprocess.Popen[str]:
    """A Python child running ``code``."""
    return subprocess.Popen([sys.executable, "-c", code], text=True, stdout=subprocess.PIPE)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary directory with a short path: bpftrace's str() keeps 63 bytes by default."""
    d = Path(tempfile.mkdtemp(prefix="pbt", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d)


def _finish(child: subprocess.Popen[str]) -> str:
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 0
    return out


# -- file and process syscalls ----------------------------------------------------------------
def test_opensnoop(short_tmp: Path) -> None:
    """Our own open() of an existing and of a missing file, with fd / errno and path."""
    there = short_tmp / "opensnoop-present"
    there.write_text("x")
    missing = short_tmp / "opensnoop-missing"
    with tool("opensnoop") as t:
        fd = os.open(there, os.O_RDONLY)
        os.close(fd)
        with pytest.raises(FileNotFoundError):
            os.open(missing, os.O_RDONLY)
        assert t.wait_for(lambda line: line.endswith(str(missing)))
        out = t.stop()
    assert "PID    COMM               FD ERR PATH" in out.splitlines()
    got = [r for r in rows(out, 5) if r[0] == str(ME)]
    assert [str(ME), MY_COMM[:15], str(fd), "0", str(there)] in got
    assert [str(ME), MY_COMM[:15], "-1", "2", str(missing)] in got


def test_statsnoop(short_tmp: Path) -> None:
    """A stat of a missing path shows ERR 2, of an existing one ERR 0."""
    missing = short_tmp / "statsnoop-missing"
    with tool("statsnoop") as t:
        os.stat(short_tmp)
        with pytest.raises(FileNotFoundError):
            os.stat(missing)
        assert t.wait_for(lambda line: line.endswith(str(missing)))
        out = t.stop()
    got = [r for r in rows(out, 4) if r[0] == str(ME)]
    assert [str(ME), MY_COMM[:15], "2", str(missing)] in got
    assert [str(ME), MY_COMM[:15], "0", str(short_tmp)] in got


def test_syncsnoop(tmp_path: Path) -> None:
    """fsync() and fdatasync() of our own file, named by their probe."""
    with tool("syncsnoop") as t:
        with open(tmp_path / "f", "w") as f:
            f.write("data")
            f.flush()
            os.fsync(f.fileno())
            os.fdatasync(f.fileno())
        assert t.wait_for(lambda line: line.endswith("sys_enter_fdatasync"))
        out = t.stop()
    got = [r[1:] for r in rows(out, 4) if r[1] == str(ME)]
    assert [str(ME), MY_COMM[:15], "tracepoint:syscalls:sys_enter_fsync"] in got
    assert [str(ME), MY_COMM[:15], "tracepoint:syscalls:sys_enter_fdatasync"] in got


def test_killsnoop() -> None:
    """Signals we send: number, target and result (0, or -ESRCH for a pid that cannot exist)."""
    victim = subprocess.Popen(["sleep", "30"])
    nopid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    try:
        with tool("killsnoop") as t:
            os.kill(victim.pid, signal.SIGCONT)
            with pytest.raises(ProcessLookupError):
                os.kill(nopid, 0)
            assert t.wait_for(lambda line: str(nopid) in line)
            out = t.stop()
    finally:
        victim.kill()
        victim.wait()
    got = [r[1:] for r in rows(out, 6) if r[1] == str(ME)]
    assert [str(ME), MY_COMM[:15], "18", str(victim.pid), "0"] in got
    assert [str(ME), MY_COMM[:15], "0", str(nopid), "-3"] in got


def test_setuids() -> None:
    """setresuid and setuid from a child: uid before, arguments and result (EPERM is -1)."""
    code = "import os\nos.setresuid(0, 0, 0)\nos.setuid(65534)\ntry:\n os.setuid(0)\nexcept OSError:\n pass"
    with tool("setuids") as t:
        child = _py(code)
        _finish(child)
        assert t.wait_for(lambda line: line.endswith("uid=0 (-1)"))
        out = t.stop()
    got = [" ".join(r[1:]) for r in rows(out, 6) if r[1] == str(child.pid)]
    comm = Path(sys.executable).name[:15]
    assert got == [
        f"{child.pid} {comm} 0 setresuid ruid=0 euid=0 suid=0 (0)",
        f"{child.pid} {comm} 0 setuid uid=65534 (0)",
        f"{child.pid} {comm} 65534 setuid uid=0 (-1)",
    ]


@runners()
def test_execsnoop(runner: str) -> None:
    """A command we run, with its arguments."""
    with tool("execsnoop", runner) as t:
        child = subprocess.Popen(
            ["/bin/echo", "pybpf-execsnoop", "two words"], stdout=subprocess.DEVNULL
        )
        child.wait()
        t.wait_for(lambda line: "pybpf-execsnoop" in line, timeout=5)
        out = t.stop()
    got = [r[1:] for r in rows(out, 3) if r[1] == str(child.pid)]
    assert [str(child.pid), "/bin/echo pybpf-execsnoop two words"] in got


def test_syscount() -> None:
    """A child renamed to a known comm makes 100000 getppid() calls (syscall 110)."""
    n = 100_000
    code = (
        "import os\nopen('/proc/self/comm', 'w').write('pybpf-syscount')\n"
        f"for _ in range({n}): os.getppid()"
    )
    with tool("syscount") as t:
        _finish(_py(code))
        out = t.stop()
    counts = scalars(out)
    assert n <= counts["@process[pybpf-syscount]"] < n + 1000
    assert counts["@syscall[110]"] >= n
    assert "Top 10 syscalls IDs:" in out and "Top 10 processes:" in out


def test_pidpersec() -> None:
    """Forks we make are counted in the per-second lines."""
    with tool("pidpersec") as t:
        for _ in range(20):
            subprocess.run(["true"], check=True)
        assert t.wait_for(lambda line: "PIDs/sec" in line, timeout=5)
        time.sleep(1.1)  # let the interval probe print the second holding the forks
        out = t.stop()
    per_sec = [int(m.group(1)) for m in re.finditer(r"PIDs/sec: @: (\d+)", out)]
    assert per_sec and sum(per_sec) >= 20, out


@runners()
def test_naptime(runner: str) -> None:
    """A sleep(0.2) child: parent (us), child, and the requested seconds."""
    with tool("naptime", runner) as t:
        child = subprocess.Popen(["sleep", "0.2"])
        child.wait()
        t.wait_for(lambda line: line.endswith("0.200"), timeout=5)
        out = t.stop()
    got = [r[1:] for r in rows(out, 6) if r[3] == str(child.pid)]
    assert [str(ME), MY_COMM[:15], str(child.pid), "sleep", "0.200"] in got


# -- block I/O --------------------------------------------------------------------------------
def _direct_writes(path: Path, count: int = 16) -> None:
    """``count`` 64 KiB writes that bypass the page cache (so each one is block I/O)."""
    subprocess.run(
        [
            "dd",
            "if=/dev/zero",
            f"of={path}",
            "bs=64k",
            f"count={count}",
            "oflag=direct",
            "conv=fsync",
            "status=none",
        ],
        check=True,
    )


def test_bitesize(tmp_path: Path) -> None:
    """dd's 64 KiB direct writes land in dd's [64K, 128K) bucket."""
    with tool("bitesize") as t:
        _direct_writes(tmp_path / "f")
        out = t.stop()
    dd = histograms(out)["@[dd]"]
    assert dd.get("[64K, 128K)", 0) >= 8
    assert sum(dd.values()) >= 16


def test_biolatency(tmp_path: Path) -> None:
    """Our 16 direct writes are among the I/Os in the latency histogram."""
    with tool("biolatency") as t:
        _direct_writes(tmp_path / "f")
        out = t.stop()
    assert sum(histograms(out)["@usecs"].values()) >= 16


def test_biosnoop(tmp_path: Path) -> None:
    """Rows for dd's direct writes on the root disk (vda)."""
    with tool("biosnoop") as t:
        _direct_writes(tmp_path / "f")
        t.wait_for(lambda line: " dd " in line, timeout=5)
        out = t.stop()
    got = [r for r in rows(out, 5) if r[2] == "dd"]
    assert len(got) >= 16 and all(r[1] == "vda" for r in got)


def test_biostacks(tmp_path: Path) -> None:
    """dd's direct writes are histogrammed under their issuing stack (ext4's iomap DIO)."""
    with tool("biostacks") as t:
        _direct_writes(tmp_path / "f")
        out = t.stop()
    dio = [sum(h.values()) for k, h in histograms(out).items() if "iomap_dio_rw" in k]
    assert dio and sum(dio) >= 16
    for key in histograms(out):
        assert key.startswith("@usecs[\n") and key.endswith("\n]")


def test_writeback(tmp_path: Path) -> None:
    """``sync`` after buffered writes: a writeback of our disk with reason sync."""
    f = tmp_path / "dirty"
    with tool("writeback") as t:
        # Under a parallel suite another test's sync may flush our pages first: dirty new
        # ones and sync again, a few times.
        for attempt in range(4):
            f.write_bytes(bytes([attempt + 1]) * (1 << 20))
            subprocess.run(["sync"], check=True)
            if t.wait_for(lambda line: " sync " in line, timeout=5.0):
                break
        out = t.stop()
    st = os.stat(f)
    dev = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    assert any(r[1] == dev and r[3] == "sync" for r in rows(out, 5))


# -- scheduler --------------------------------------------------------------------------------
def _busy(seconds: float = 0.6, n: int = 2) -> None:
    """``n`` processes spinning for ``seconds`` (more runnable tasks than CPUs with us)."""
    spin = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    for child in [_py(spin) for _ in range(n)]:
        _finish(child)


def test_runqlat() -> None:
    """Busy loops make run-queue waits: a non-empty microsecond histogram."""
    with tool("runqlat") as t:
        _busy()
        out = t.stop()
    assert sum(histograms(out)["@usecs"].values()) >= 10


def test_cpuwalk() -> None:
    """Two busy loops on two CPUs: every CPU has samples."""
    with tool("cpuwalk") as t:
        _busy(1.0, os.cpu_count() or 1)
        out = t.stop()
    cpus = histograms(out)["@cpu"]
    for c in range(os.cpu_count() or 1):
        assert cpus.get(f"[{c}]", 0) > 0


@runners()
def test_runqlen(runner: str) -> None:
    """Samples under a busy loop, a queue-length histogram."""
    with tool("runqlen", runner) as t:
        _busy(1.0, 3)
        out = t.stop()
    assert sum(histograms(out)["@runqlen"].values()) > 0


# -- user-space probes ------------------------------------------------------------------------
def test_bashreadline() -> None:
    """A line typed into an interactive bash on a pty."""
    import pty
    import select

    marker = "echo pybpf-readline-marker"
    with tool("bashreadline") as t:
        pid, fd = pty.fork()
        if pid == 0:  # the child: an interactive bash on the pty
            env = dict(os.environ, PS1="$ ")
            os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], env)
        try:
            os.write(fd, f"{marker}\nexit\n".encode())
            end = time.monotonic() + 10
            while time.monotonic() < end:  # keep the pty drained until bash exits
                if select.select([fd], [], [], 0.1)[0]:
                    try:
                        if not os.read(fd, 4096):
                            break
                    except OSError:
                        break
        finally:
            os.close(fd)
            os.waitpid(pid, 0)
        assert t.wait_for(lambda line: line.endswith(marker))
        out = t.stop()
    got = [r[1:] for r in rows(out, 3) if r[1] == str(pid)]
    assert [str(pid), marker] in got


def test_gethostlatency() -> None:
    """getaddrinfo("localhost") from a child: its pid, comm and the host name."""
    with tool("gethostlatency") as t:
        child = _py("import socket\nsocket.getaddrinfo('localhost', 80)")
        _finish(child)
        assert t.wait_for(lambda line: line.endswith("localhost"))
        out = t.stop()
    got = [r for r in rows(out, 5) if r[1] == str(child.pid)]
    assert got and got[0][2] == Path(sys.executable).name[:15]
    assert got[0][4] == "localhost" and int(got[0][3]) >= 0


def _thread_child() -> subprocess.Popen[str]:
    # The child lingers: a tool resolves usym() from the live process's mappings when it
    # reads the event, which under a loaded test run can take well over half a second.
    return _py(
        "import threading, time\nt = threading.Thread(target=print)\nt.start()\nt.join()\n"
        "time.sleep(2)"
    )


@pytest.mark.parametrize(
    "runner", ["pybpf", pytest.param("bpftrace", marks=_needs_bpftrace)]
)  # pybpftrace gap closed on branch procs (uprobe func/usym)
def test_threadsnoop(runner: str) -> None:
    """A Python thread start is a pthread_create() in that process."""
    with tool("threadsnoop", runner) as t:
        child = _thread_child()
        _finish(child)
        assert t.wait_for(lambda line: f" {child.pid} " in line)
        out = t.stop()
    got = [r for r in rows(out, 4) if r[1] == str(child.pid)]
    assert len(got) == 1 and got[0][2] == Path(sys.executable).name[:15]


@pytest.mark.parametrize(
    "runner", ["pybpf", pytest.param("bpftrace", marks=_needs_bpftrace)]
)  # pybpftrace gap closed on branch procs (uprobe func/usym)
def test_threadsnoop_symbol(runner: str) -> None:
    """The FUNC column names CPython's thread start routine."""
    with tool("threadsnoop", runner) as t:
        child = _thread_child()
        _finish(child)
        t.wait_for(lambda line: f" {child.pid} " in line)
        out = t.stop()
    got = [r for r in rows(out, 4) if r[1] == str(child.pid)]
    assert got and got[0][3] == "pythread_wrapper"


# -- TCP --------------------------------------------------------------------------------------
def _tcp_session(tx: int, rx: int) -> tuple[int, int]:
    """A loopback connection: the client sends ``tx`` bytes, gets ``rx``; (cport, sport)."""
    srv = socket.create_server(("127.0.0.1", 0))
    sport = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            got = 0
            while got < tx:
                got += len(conn.recv(65536))
            conn.sendall(b"s" * rx)

    th = threading.Thread(target=serve)
    th.start()
    with srv, socket.create_connection(("127.0.0.1", sport)) as c:
        cport = c.getsockname()[1]
        c.sendall(b"c" * tx)
        got = 0
        while got < rx:
            got += len(c.recv(65536))
    th.join()
    return cport, sport


@runners()
def test_tcplife(runner: str) -> None:
    """Our loopback session: ports, and KB sent / received."""
    with tool("tcplife", runner) as t:
        cport, sport = _tcp_session(3 * 1024, 5 * 1024)
        # The client's row (local port cport), not the server's, which names cport as its
        # remote port and may come first: stopping at that one lost the row checked below.
        t.wait_for(lambda line: line.split()[3:4] == [str(cport)], timeout=15)
        out = t.stop()
    got = [r for r in rows(out, 9) if r[3] == str(cport)]
    assert got and got[0][2:8] == ["127.0.0.1", str(cport), "127.0.0.1", str(sport), "3", "5"]


def _syn_retransmit() -> int:
    """A SYN dropped by a full accept queue is retransmitted (SYN_SENT); its local port."""
    srv = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = srv.getsockname()[1]
    socks = []
    with srv:
        for _ in range(3):  # backlog 0 queues one; the later SYNs are dropped
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            socks.append(c)
        time.sleep(1.3)  # the first SYN retransmission timer is one second
    ports: list[int] = [c.getsockname()[1] for c in socks]
    for c in socks:
        c.close()
    return ports[-1]


@runners()
def test_tcpretrans(runner: str) -> None:
    """A SYN dropped by a full accept queue: its retransmission in state SYN_SENT."""
    with tool("tcpretrans", runner) as t:
        lport = _syn_retransmit()
        t.wait_for(lambda line: f":{lport} " in line, timeout=5)
        out = t.stop()
    assert any(
        f"127.0.0.1:{lport} " in line and line.endswith("SYN_SENT") for line in out.splitlines()
    )


def _filtered_receive() -> tuple[int, int, socket.socket, socket.socket]:
    """An established loopback connection whose client drops what the server sends.

    A classic BPF socket filter returning 0 on the client makes its TCP stack discard the
    segment (drop reason SOCKET_FILTER) with the client socket as the tracepoint's rx_sk.
    Returns (client port, server port, client, server); the caller closes both.
    """
    import ctypes
    import struct

    with socket.create_server(("127.0.0.1", 0)) as srv:
        client = socket.create_connection(srv.getsockname())
        server, _ = srv.accept()
    drop_all = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))  # ret #0
    fprog = struct.pack("HxxxxxxQ", 1, ctypes.addressof(drop_all))
    client.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
    server.send(b"dropped")
    return client.getsockname()[1], server.getsockname()[1], client, server


@runners()
def test_tcpdrop(runner: str) -> None:
    """A segment our socket filter refuses: its addresses, state and kernel stack."""
    import struct

    with tool("tcpdrop", runner) as t:
        header = ["TIME", "PID", "COMM", "SADDR:SPORT", "DADDR:DPORT", "STATE"]
        assert t.wait_for(lambda line: line.split() == header, timeout=10), t.lines
        cport, sport, client, server = _filtered_receive()
        try:
            mine = f"127.0.0.1:{cport} "
            assert t.wait_for(lambda line: mine in line, timeout=10), t.lines
        finally:
            # An RST (linger 0) ends the server's retransmissions of the dropped segment.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            server.close()
        out = t.stop()
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if f"127.0.0.1:{cport} " in line)
    cols = lines[i].split()
    assert cols[-3:] == [f"127.0.0.1:{cport}", f"127.0.0.1:{sport}", "ESTABLISHED"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", cols[0]) and cols[1].isdigit()
    # The kernel stack follows: the TCP receive path that discarded the segment.
    stack = []
    for line in lines[i + 2 :]:
        if not line.startswith("        "):
            break
        stack.append(line.strip())
    assert any(f.startswith("tcp_v4_rcv+") for f in stack), stack


# -- OpenSSL ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away EC key and self-signed certificate for s_server."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(d / "k.pem"),
            "-out",
            str(d / "c.pem"),
            "-days",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    return d


def _tls_exchange(d: Path) -> None:
    """``openssl s_client`` fetches s_server's status page over TLS on loopback."""
    with socket.socket() as s:  # a free port for s_server
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            "openssl",
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(d / "c.pem"),
            "-key",
            str(d / "k.pem"),
            "-www",
            "-naccept",
            "1",
            "-quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reply = b""
        for _ in range(50):  # until s_server listens
            client = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet", "-ign_eof"],
                input=b"GET / HTTP/1.0\r\n\r\n",
                capture_output=True,
                timeout=20,
            )
            reply = client.stdout
            if reply:
                break
            time.sleep(0.1)
        assert b"HTTP/1.0 200" in reply
        server.wait(20)
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize(
    "runner", ["pybpf", pytest.param("bpftrace", marks=_needs_bpftrace)]
)  # pybpftrace gap closed on branch procs (uprobe func/usym)
def test_sslsnoop(tls_pair: Path, runner: str) -> None:
    """openssl's TLS calls are seen, with latencies and at least one successful return."""
    with tool("sslsnoop", runner) as t:
        _tls_exchange(tls_pair)
        out = t.stop()
    got = [r for r in rows(out, 6) if r[2] == "openssl"]
    assert got
    assert any(int(r[4]) > 0 for r in got) and all(int(r[3]) >= 0 for r in got)


def test_sslsnoop_names(tls_pair: Path) -> None:
    """The FUNC column names the OpenSSL functions."""
    with tool("sslsnoop") as t:
        _tls_exchange(tls_pair)
        out = t.stop()
    funcs = {r[5] for r in rows(out, 6) if r[2] == "openssl"}
    assert {"SSL_read", "SSL_write"} <= funcs


def test_ssllatency(tls_pair: Path) -> None:
    """Latency histograms and stats keyed by function, for successes and failures."""
    with tool("ssllatency") as t:
        _tls_exchange(tls_pair)
        out = t.stop()
    hists = histograms(out)
    stats = {
        m.group(1): int(m.group(2))
        for m in re.finditer(
            r"^(@statF?\[.*\]): \{ \.count = (\d+), \.average = \d+, "
            r"\.total = \d+ \}$",
            out,
            re.M,
        )
    }
    # Every call lands in a histogram and in the stats of the same key: the counts agree.
    counts = {k.replace("@hist", "@stat"): sum(h.values()) for k, h in hists.items()}
    assert counts == stats
    assert sum(counts.values()) >= 3
