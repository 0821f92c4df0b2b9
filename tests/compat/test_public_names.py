"""Every public name of pymcp-kit 0.3.0 imports from the same module here.

`kit_030_names.json` is the list (each module's `__all__`; for `pymcp.session.notifications`, which has
none, its public functions). Where 0.3.0 is installed in its virtualenv the list is recomputed there
and must be equal, so it cannot drift.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from oracle.compat030 import require_030, run_030

NAMES: dict[str, list[str]] = json.loads((Path(__file__).parent / "kit_030_names.json").read_text())

_LIST_030 = """
import importlib, json, sys
out = {}
for module_name in json.load(sys.stdin):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and getattr(v, "__module__", None) == module_name]
    out[module_name] = sorted(names)
json.dump(out, sys.stdout)
"""


def test_every_030_name_imports_from_the_same_module() -> None:
    missing = [
        f"{module}.{name}"
        for module, names in NAMES.items()
        for name in names
        if not hasattr(importlib.import_module(module), name)
    ]
    assert missing == []
    # The modules the issue lists hold 184 names; `pymcp.runtime` and `.context` are extra.
    extra = ("pymcp.runtime", "pymcp.runtime.context")
    assert sum(len(names) for module, names in NAMES.items() if module not in extra) == 184


@pytest.mark.compat
def test_the_checked_in_list_is_030s() -> None:
    require_030()
    listed = {module: names for module, names in NAMES.items() if module != "pymcp.runtime.handlers.roots"}
    assert run_030(_LIST_030, list(listed), timeout=60) == listed


def test_an_030_internal_says_what_to_use_instead() -> None:
    from pymcp.session import EventLog
    from pymcp.tasks import CancellationManager, get_cancellation_manager, get_task_manager

    with pytest.raises(NotImplementedError, match="no equivalent here: cancellation is per request"):
        CancellationManager()
    with pytest.raises(NotImplementedError, match="cancel_token"):
        get_cancellation_manager(object())
    with pytest.raises(NotImplementedError, match="sse_history_limit"):
        EventLog()
    with pytest.raises(LookupError, match="no task engine"):
        get_task_manager(object())


def test_wire_models_load_with_pydantic() -> None:
    from pymcp.protocol import TextContent, Tool

    assert TextContent(text="hi").model_dump() == {"type": "text", "text": "hi"}
    tool = Tool(name="t", inputSchema={"type": "object"}, title="T")
    assert tool.model_dump() == {"name": "t", "inputSchema": {"type": "object"}, "title": "T"}
    with pytest.raises(ValueError, match="inputSchema"):
        Tool(name="t")


def test_capabilities_and_payload_helpers() -> None:
    from pymcp.capabilities import ClientCapabilities
    from pymcp.protocol import MCP_TASKS, MCPErrorCode, negotiate_protocol_version
    from pymcp.tasks import build_progress_notification

    client = ClientCapabilities({"elicitation": {}, "sampling": {"tools": {}}})
    assert client.supports_elicitation("form")
    assert not client.supports_elicitation("url")
    assert client.supports_sampling_tools()
    assert not client.supports_roots()
    assert MCP_TASKS == "io.modelcontextprotocol/tasks"
    assert MCPErrorCode.FORBIDDEN == -32007
    assert negotiate_protocol_version(None) == ("2025-11-25", None)
    assert negotiate_protocol_version("2030-01-01")[0] is None
    note = build_progress_notification("p", 1, 2, task_id="t")
    assert note["params"]["_meta"] == {"io.modelcontextprotocol/related-task": {"taskId": "t"}}
