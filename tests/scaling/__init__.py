"""Several workers sharing one store: sessions and tasks across processes (Redis)."""
