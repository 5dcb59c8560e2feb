"""Command-line front ends: argument parsing and exit codes only, no logic."""
