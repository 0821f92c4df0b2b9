"""HTTP request metadata of revision 2026-07-28: the routing headers and the `=?base64?…?=` value form.

A 2026-07-28 POST mirrors body fields into headers so intermediaries can route without parsing JSON:
`MCP-Protocol-Version` (the `_meta` protocol version), `Mcp-Method` (the method), `Mcp-Name` (the
tool or prompt name, the resource URI, or the task id) and one `Mcp-Param-{Name}` per tool argument
whose schema carries `x-mcp-header`. A value that is not plain visible ASCII without edge whitespace
travels as `=?base64?{standard base64 of its UTF-8}?=`.

Header names are case-insensitive, values case-sensitive. A header that appears twice is rejected:
a proxy reading the first copy and a server reading the last would disagree on where the call goes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.targets import TARGET_KEYS

__all__ = [
    "MCP_METHOD",
    "MCP_NAME",
    "MCP_PARAM_PREFIX",
    "MCP_PROTOCOL_VERSION",
    "NAME_FIELDS",
    "RequestHeaders",
    "decode_header_value",
    "encode_header_value",
    "header_mismatch",
]

MCP_PROTOCOL_VERSION = "mcp-protocol-version"
MCP_METHOD = "mcp-method"
MCP_NAME = "mcp-name"
MCP_PARAM_PREFIX = "mcp-param-"

# Method → the params field that `Mcp-Name` mirrors (the tasks extension adds the task methods).
NAME_FIELDS: Mapping[str, str] = {
    **TARGET_KEYS,
    "tasks/get": "taskId",
    "tasks/update": "taskId",
    "tasks/cancel": "taskId",
}

_SENTINEL = re.compile(r"=\?base64\?(.*)\?=", re.DOTALL)
# RFC 9110 field values: visible ASCII, space and horizontal tab.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")
_PLAIN = re.compile(r"[\x20-\x7e]*")
_ROUTING = frozenset((MCP_PROTOCOL_VERSION, MCP_METHOD, MCP_NAME))


def header_mismatch(message: str) -> MCPError:
    """A `HeaderMismatch` error (-32020), answered with HTTP 400."""
    return MCPError(ErrorCode.HEADER_MISMATCH, message, http_status=400)


def encode_header_value(value: str) -> str:
    """`value` as a header value: as is when plain visible ASCII without edge spaces, else base64-wrapped.

    A plain value that happens to look like the sentinel is wrapped too, so decoding is unambiguous.
    """
    if _PLAIN.fullmatch(value) and value == value.strip(" ") and not _SENTINEL.fullmatch(value):
        return value
    return f"=?base64?{base64.b64encode(value.encode('utf-8')).decode('ascii')}?="


def decode_header_value(value: str) -> str:
    """The original value of a header: the payload of a `=?base64?…?=` value, any other value as is.

    Raises ValueError for a sentinel whose payload is not canonical, padded standard base64 of UTF-8:
    a malformed value must never match a body value by accident.
    """
    if not value.startswith("=?base64?"):  # what nearly every value is, told without the regex
        return value
    match = _SENTINEL.fullmatch(value)
    if match is None:
        return value
    payload = match.group(1)
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise ValueError("its base64 payload is not valid padded base64") from exc
    # b64decode accepts non-zero padding bits; only the canonical spelling round-trips.
    if base64.b64encode(raw).decode("ascii") != payload:
        raise ValueError("its base64 payload is not in canonical form")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("its base64 payload is not UTF-8") from exc


@dataclass(frozen=True, slots=True)
class RequestHeaders:
    """The MCP headers of one POST: raw values with surrounding spaces removed, `None` when absent.

    `params` maps each `Mcp-Param-{Name}` header by its lowercased `{Name}` to its raw value.
    """

    protocol_version: str | None = None
    method: str | None = None
    name: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_asgi(cls, raw_headers: Iterable[tuple[bytes, bytes]]) -> RequestHeaders:
        """Read `scope["headers"]`; raises `HeaderMismatch` when an MCP header repeats or has bad bytes."""
        # Every MCP header starts with `mcp-` (MCP-Protocol-Version too): skip the others before decoding,
        # since this runs on every POST.
        return cls.from_pairs(
            [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in raw_headers
                if name[:4].lower() == b"mcp-"
            ]
        )

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> RequestHeaders:
        """Read `(name, value)` pairs in any letter case (duplicates are visible only here)."""
        found: dict[str, str] = {}
        params: dict[str, str] = {}
        for raw_name, raw_value in pairs:
            name = raw_name.lower()
            if name in _ROUTING:
                target, key = found, name
            elif name.startswith(MCP_PARAM_PREFIX):
                target, key = params, name[len(MCP_PARAM_PREFIX) :]
            else:
                continue
            if key in target:
                raise header_mismatch(f"header `{raw_name}` appears more than once")
            # printable ASCII is the common case, and cheaper to check than the pattern
            if not (raw_value.isascii() and raw_value.isprintable()) and not _FIELD_VALUE.fullmatch(
                raw_value
            ):
                raise header_mismatch(f"header `{raw_name}` contains characters outside visible ASCII")
            # RFC 9110 §5.5: optional whitespace around a field value is not part of it.
            target[key] = raw_value.strip(" \t")
        return cls(
            protocol_version=found.get(MCP_PROTOCOL_VERSION),
            method=found.get(MCP_METHOD),
            name=found.get(MCP_NAME),
            params=MappingProxyType(params),  # read-only: `read` hands one instance to many requests
        )

    @classmethod
    def read(cls, pairs: Sequence[tuple[str, str]]) -> RequestHeaders:
        """`from_pairs`, remembered for the last 256 header sets (a client repeats the same few on
        every request); refusals are not remembered."""
        return _read(tuple(pairs))


@functools.lru_cache(maxsize=256)
def _read(pairs: tuple[tuple[str, str], ...]) -> RequestHeaders:
    return RequestHeaders.from_pairs(pairs)
