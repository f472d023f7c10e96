"""Benchmarks, run from the project root as modules (`python -m bench.ingest --quick`), so that
`bench/calendar.py` never shadows the standard library's `calendar`."""
