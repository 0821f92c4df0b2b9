"""The names `pymcp.protocol.schema` held before schemas from type hints moved to
`pymcp.registry.signature` (a registry concern); kept so existing imports work."""

from pymcp.registry.signature import (
    INJECTED_PARAMETERS,
    ArgumentChecker,
    CompiledSignature,
    InvalidArgument,
    compile_signature,
    compile_user_schema,
    schema_for_type,
)

__all__ = [
    "INJECTED_PARAMETERS",
    "ArgumentChecker",
    "CompiledSignature",
    "InvalidArgument",
    "compile_signature",
    "compile_user_schema",
    "schema_for_type",
]
