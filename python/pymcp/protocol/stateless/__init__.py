"""Protocol revision 2026-07-28 (stateless): the self-contained pieces the dispatcher and transport wire in.

- `headers`: `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` / `Mcp-Param-*` and the `=?base64?…?=` form;
- `envelope`: per-request `_meta` validation, era routing, removed methods, client capabilities;
- `results`: `resultType`, `ttlMs` / `cacheScope`, `serverInfo`, `server/discover`, deterministic order;
- `request_state`: the signed, expiring, caller-bound `requestState` token;
- `input_required`: `InputRequiredResult` builders and the `inputResponses` reader;
- `mrtr`: `RoundTrip`, asking the client from a handler by replaying it once per round;
- `subscriptions`: the `subscriptions/listen` filter, acknowledgement and tagging;
- `param_headers`: `x-mcp-header` annotations and their `Mcp-Param-*` headers;
- `tasks`: the tasks extension's result shapes built from the engine's task objects.

docs/design/2026-07-28.md explains the wire rules and how these hook into the server.
"""

from __future__ import annotations

__all__: list[str] = []
