"""``pybpf feature`` on this kernel: the answers the team relies on, in text and JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pybpf.bpf.features import Probe
from pybpf.cli.cmd_feature import render_json, render_text


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pybpf", "feature", *args],
                          capture_output=True, text=True)  # fmt: skip


def line_says(text: str, name: str, word: str) -> bool:
    return re.search(rf"^  {re.escape(name)}\s+{word}\b", text, re.M) is not None


@pytest.mark.kernel
def test_feature_text_reports_this_kernel() -> None:
    p = run()
    assert p.returncode == 0, p.stderr
    out = p.stdout
    attach = out.split("attach kinds\n", 1)[1].split("\n\n", 1)[0]
    for name in ("tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "uretprobe",
                 "perf_event", "iter", "watchpoint", "uprobe_multi"):  # fmt: skip
        assert line_says(attach, name, "yes"), name
    for name in ("kprobe", "kretprobe", "fentry", "fexit", "hardware_event"):
        assert line_says(attach, name, "no"), name
    assert "CONFIG_KPROBES is off" in attach
    maps = out.split("map types\n", 1)[1].split("\n\n", 1)[0]
    for name in ("ringbuf", "hash", "percpu_array", "stack_trace", "perf_event_array"):
        assert line_says(maps, name, "yes"), name
    progs = out.split("program types\n", 1)[1].split("\n\n", 1)[0]
    assert line_says(progs, "kprobe", "yes")  # the type loads; attaching is what fails
    assert line_says(progs, "tracing", "yes")
    helpers = out.split("helpers (kprobe/uprobe programs)\n", 1)[1]
    assert line_says(helpers, "ringbuf_output", "yes")
    assert line_says(helpers, "get_stackid", "yes")
    assert line_says(helpers, "probe_write_user", "no")
    assert line_says(helpers, "skb_store_bytes", "no")


@pytest.mark.kernel
def test_feature_json_has_the_same_answers() -> None:
    p = run("--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc) == {"kernel", "attach", "program_types", "map_types", "helpers"}
    assert doc["attach"]["tracepoint"] == {"supported": True}
    assert doc["attach"]["kprobe"]["supported"] is False
    assert "CONFIG_KPROBES" in doc["attach"]["kprobe"]["reason"]
    assert doc["map_types"]["ringbuf"]["supported"] is True
    assert doc["program_types"]["ext"]["supported"] is None


@pytest.mark.kernel
def test_feature_group_filter() -> None:
    p = run("--json", "map_types")
    doc = json.loads(p.stdout)
    assert set(doc) == {"kernel", "map_types"}


def test_feature_bad_group_is_one_line() -> None:
    p = run("frobs")
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        "pybpf: ERROR: unknown group 'frobs' (choose from attach, program_types, map_types, "
        "helpers)"
    ]


def test_render_from_data() -> None:
    results = {"attach": [Probe("kprobe", False, "CONFIG_KPROBES is off"), Probe("iter", True)],
               "program_types": [Probe("ext", None, "needs a target")]}  # fmt: skip
    text = render_text(results)
    assert "\n  kprobe                       no  (CONFIG_KPROBES is off)\n" in text
    assert text.rstrip().endswith("  ext                          n/a  (needs a target)")
    doc = json.loads(render_json(results))
    assert doc["attach"]["iter"] == {"supported": True}
    assert doc["program_types"]["ext"] == {"supported": None, "reason": "needs a target"}


@pytest.mark.kernel
def test_feature_without_privilege_says_so() -> None:
    code = (
        "import os\n"
        "from pybpf.cli.pybpf import main\n"
        "import pybpf.cli.cmd_feature, pybpf.bpf.errs, pybpf.attach.features\n"
        "import locale  # argparse imports it late; once setuid, the stdlib may be unreadable\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "raise SystemExit(main(['feature']))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr.strip() == (
        "pybpf: ERROR: probing the kernel loads BPF programs: run as root, "
        "or with CAP_BPF and CAP_PERFMON"
    )
