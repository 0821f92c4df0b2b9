"""The reference policy (the oracle for `rust/core/src/policy.rs`) ships in the package, where
`pymcp bench authz --compare` uses it too: this module only gives it its test-side name."""

from __future__ import annotations

from pymcp.security.reference import Outcome, target_kind
from pymcp.security.reference import ReferencePolicy as OraclePolicy

__all__ = ["OraclePolicy", "Outcome", "target_kind"]
