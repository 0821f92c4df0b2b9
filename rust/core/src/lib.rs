//! Pure-Rust core of pymcp. No Python here: `cargo test` runs without an interpreter.
//!
//! - [`glob`]: patterns with exactly the semantics of Python's `fnmatch.fnmatchcase`.
//! - [`policy`]: the rule-based authorization config compiled into an immutable decision engine.
//! - [`filter`]: bulk visibility of tool (prompt, resource) names under a policy.
//! - [`jsonrpc`]: validation of JSON-RPC 2.0 messages.
//! - [`nesting`]: depth and array-length limits on a request's `params`.
//! - [`tokens`]: static Bearer tokens by SHA-256 digest, compared in constant time.
//! - [`fuzz`]: one never-panics entry point per parser, for `rust/fuzz` and the property test.

pub mod filter;
#[doc(hidden)]
pub mod fuzz;
pub mod glob;
pub mod jsonrpc;
pub mod nesting;
pub mod policy;
pub mod tokens;
