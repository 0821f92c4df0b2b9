"""0.3.0 import path `pymcp.runtime.handlers`."""
