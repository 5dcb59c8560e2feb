#!/usr/bin/env python3
"""Capture output goldens (NAME.txt, NAME.json) from bpftrace 0.17 for each NAME.bt here.

The programs only fill maps and exit, so a golden is the exit-time map printing. 0.17's
output is converted to current bpftrace's format by ``../tracer/make_expected.py`` (see
its docstring). The unit tests in ``tests/output`` rebuild the same maps as values and
compare the writers' output with these files. Run as root: ``python3 capture.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "make_expected", HERE.parent / "tracer" / "make_expected.py"
)
assert _spec and _spec.loader
make_expected = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_expected)


def main() -> int:
    for path in sorted(HERE.glob("*.bt")):
        json_out = make_expected.run(path, True)
        text = make_expected.fix_text(
            make_expected.run(path, False), make_expected.stats_maps(json_out)
        )
        path.with_suffix(".txt").write_text(text.removeprefix("\n\n"))
        path.with_suffix(".json").write_text(make_expected.fix_json(json_out))
        print(path.stem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
