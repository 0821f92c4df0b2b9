"""OAuthProtectedResourceConfig: 0.3.0's fields and validation, the RFC 9728 document and metadata URLs."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import HTTPConnection

from pymcp.security import OAuthProtectedResourceConfig

AUTH = ["https://auth.test"]


def connection(host: str = "mcp.test:8443", scheme: str = "https") -> HTTPConnection:
    return HTTPConnection(
        {
            "type": "http",
            "scheme": scheme,
            "server": ("mcp.test", 8443),
            "path": "/mcp",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", host.encode())],
        }
    )


def test_minimal_document() -> None:
    config = OAuthProtectedResourceConfig(authorization_servers=AUTH)
    assert config.metadata(resource="https://mcp.test/mcp") == {
        "resource": "https://mcp.test/mcp",
        "authorization_servers": AUTH,
        "bearer_methods_supported": ["header"],
    }


def test_full_document_with_extra_metadata_last() -> None:
    config = OAuthProtectedResourceConfig(
        authorization_servers=AUTH,
        resource="https://mcp.test/mcp",
        scopes_supported=["tools:read"],
        resource_name="Demo",
        documentation_uri="https://docs.test/mcp",
        extra_metadata={"resource_signing_alg_values_supported": ["RS256"], "resource_name": "Override"},
    )
    assert config.metadata(resource="ignored") == {
        "resource": "https://mcp.test/mcp",
        "authorization_servers": AUTH,
        "scopes_supported": ["tools:read"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Override",
        "resource_documentation": "https://docs.test/mcp",
        "resource_signing_alg_values_supported": ["RS256"],
    }


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"resource_metadata_url": "https://meta.test/prm"}, "https://meta.test/prm"),
        ({"resource": "https://mcp.test/mcp"}, "https://mcp.test/.well-known/oauth-protected-resource/mcp"),
        ({"resource": "https://mcp.test/"}, "https://mcp.test/.well-known/oauth-protected-resource"),
        ({}, "https://mcp.test:8443/.well-known/oauth-protected-resource"),
    ],
)
def test_resolved_metadata_url(options: dict[str, Any], expected: str) -> None:
    config = OAuthProtectedResourceConfig(authorization_servers=AUTH, **options)
    assert config.resolved_metadata_url(connection()) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"authorization_servers": []}, "`authorization_servers` must not be empty"),
        ({"authorization_servers": "https://auth.test"}, "`authorization_servers` must be a list of strings"),
        ({"authorization_servers": ["auth.test"]}, "`authorization_servers` must be an absolute URL"),
        ({"authorization_servers": AUTH, "resource": "/mcp"}, "`resource` must be an absolute URL"),
        (
            {"authorization_servers": AUTH, "resource": "https://m.test/mcp#x"},
            "`resource` must not contain a fragment",
        ),
        (
            {"authorization_servers": AUTH, "resource_metadata_url": "prm"},
            "`resource_metadata_url` must be an absolute",
        ),
        (
            {"authorization_servers": AUTH, "documentation_uri": 3},
            "`documentation_uri` must be an absolute URL",
        ),
        (
            {"authorization_servers": AUTH, "scopes_supported": "a b"},
            "`scopes_supported` must be a list of strings",
        ),
        (
            {"authorization_servers": AUTH, "bearer_methods_supported": ["query"]},
            "bearer method `query` is not supported",
        ),
        ({"authorization_servers": AUTH, "resource_name": 1}, "`resource_name` must be a string"),
        ({"authorization_servers": AUTH, "extra_metadata": []}, "`extra_metadata` must be a mapping"),
    ],
)
def test_validation(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OAuthProtectedResourceConfig(**options)


def test_config_is_frozen_and_normalised() -> None:
    config = OAuthProtectedResourceConfig(authorization_servers=AUTH, scopes_supported=["a"])
    assert config.authorization_servers == ("https://auth.test",)
    with pytest.raises(AttributeError):
        config.resource = "https://x"  # type: ignore[misc]
