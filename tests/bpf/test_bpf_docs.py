"""The runnable example in docs/kernel.md really runs and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "kernel.md"


@pytest.mark.kernel
def test_kernel_doc_example_counts_1000() -> None:
    match = re.search(r"```python\n(import ctypes.*?)```", DOC.read_text(), re.S)
    assert match, "the complete example is missing from docs/kernel.md"
    out = subprocess.run([sys.executable, "-c", match.group(1)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1000"
