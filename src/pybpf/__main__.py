"""``python -m pybpf`` runs the toolkit CLI."""

from pybpf.cli.pybpf import main

raise SystemExit(main())
