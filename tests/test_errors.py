"""The error tree: one base, old names kept, one conversion to a JSON-RPC error."""

from __future__ import annotations

import pytest

from pymcp import errors
from pymcp.registry.signature import InvalidArgument
from pymcp.security.authz import AuthenticationError, AuthorizationError
from pymcp.server.session import SessionStoreError
from pymcp.tasks import CancelledError


@pytest.mark.parametrize(
    "error",
    [
        errors.MCPError,
        errors.AuthenticationError,
        errors.AuthorizationError,
        errors.PolicyError,
        errors.InvalidArgument,
        errors.StoreUnavailable,
        errors.TaskCancelled,
    ],
)
def test_every_error_is_a_pymcp_error(error: type[Exception]) -> None:
    assert issubclass(error, errors.PymcpError)


def test_old_names_are_the_same_classes() -> None:
    assert errors.ProtocolError is errors.MCPError
    assert AuthenticationError is errors.AuthenticationError
    assert AuthorizationError is errors.AuthorizationError
    assert SessionStoreError is errors.StoreUnavailable
    assert InvalidArgument is errors.InvalidArgument
    assert CancelledError is errors.TaskCancelled
    assert issubclass(errors.PolicyError, ValueError)


def test_a_protocol_error_is_answered_as_it_is() -> None:
    error = errors.MCPError(errors.ErrorCode.INVALID_PARAMS, "bad `x`", {"field": "x"})
    assert errors.jsonrpc_error(error) is error


def test_anything_else_is_an_internal_error_without_details() -> None:
    converted = errors.jsonrpc_error(RuntimeError("secret detail"), internal="tool `t` failed")
    assert converted.to_error() == {"code": -32603, "message": "tool `t` failed"}
    assert errors.jsonrpc_error(KeyError("x")).message == "internal error"
