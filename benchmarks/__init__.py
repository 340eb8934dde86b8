"""Benchmarks of superres_widgets; ``python -m benchmarks`` writes the report (see :mod:`benchmarks.suite`)."""
