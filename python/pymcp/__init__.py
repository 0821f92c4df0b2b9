"""pymcp: secure, fast MCP servers."""

__all__: list[str] = []
