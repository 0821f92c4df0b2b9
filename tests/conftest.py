"""Shared pytest configuration: `tests/` is on sys.path (pyproject), so `support` and `oracle` import directly."""
