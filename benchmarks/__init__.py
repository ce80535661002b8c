"""Benchmarks: ``python -m benchmarks.NAME`` prints figures, the last line one JSON object."""
