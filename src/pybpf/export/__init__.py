"""Exporting a running script's maps to monitoring systems (Prometheus)."""
