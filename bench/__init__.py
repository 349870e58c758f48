"""The benchmark harness: `nox -s bench`, or `python -m bench.run --help`."""
