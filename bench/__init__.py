"""Reproducible, bounded benchmarks of Postwise (see docs/benchmarks.md)."""
