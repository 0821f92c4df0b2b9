"""`pymcp.protocol.draft`, the old home of the 2026-07-28 modules, still imports (deprecated)."""

from __future__ import annotations

import importlib
import sys

import pytest

import pymcp.protocol.stateless.input_required as input_required
import pymcp.protocol.stateless.request_state as request_state
from pymcp.protocol.versions import versions_for_mode


def _forget_draft() -> None:
    for name in [name for name in sys.modules if name.startswith("pymcp.protocol.draft")]:
        del sys.modules[name]


def test_old_path_gives_the_same_modules_with_a_deprecation_warning() -> None:
    _forget_draft()
    try:
        with pytest.warns(DeprecationWarning, match=r"pymcp\.protocol\.stateless"):
            old = importlib.import_module("pymcp.protocol.draft.request_state")
        from pymcp.protocol.draft.input_required import elicitation

        assert old is request_state
        assert old.RequestStateCodec is request_state.RequestStateCodec
        assert elicitation is input_required.elicitation
    finally:
        _forget_draft()


def test_protocol_mode_draft_still_names_the_stateless_revision() -> None:
    assert "2026-07-28" in versions_for_mode("draft")
