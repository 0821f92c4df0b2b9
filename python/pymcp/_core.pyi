# Hand-written stubs for the Rust extension `pymcp._core` (checked by `python -m mypy.stubtest pymcp._core`).
# Each section belongs to one binding module in rust/py/src/; edit only your own section.

__version__: str

# --- policy: glob, policy, filter (rust/py/src/policy.rs) ---------------------------------------------

# --- end policy ---

# --- jsonrpc: message parsing and validation (rust/py/src/jsonrpc.rs) ----------------------------------

# --- end jsonrpc ---
