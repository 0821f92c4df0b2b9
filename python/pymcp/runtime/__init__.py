"""0.3.0 import path `pymcp.runtime` (only `pymcp.runtime.handlers.roots.on_roots_changed` lives on)."""
