"""Shared pytest configuration: `tests/` is on sys.path (see pyproject), so `support` and `oracle` import."""
