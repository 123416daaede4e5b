"""The benchmark suite: `python -m benchmarks` runs every benchmark and writes `docs/benchmarks.md`."""
