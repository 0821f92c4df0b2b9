//! Pure-Rust core of pymcp. No Python here: `cargo test` runs without an interpreter.
//!
//! - [`glob`]: patterns with exactly the semantics of Python's `fnmatch.fnmatchcase`.
//! - [`policy`]: the rule-based authorization config compiled into an immutable decision engine.
//! - [`filter`]: bulk visibility of tool (prompt, resource) names under a policy.
//! - [`jsonrpc`]: validation of JSON-RPC 2.0 messages.

pub mod filter;
pub mod glob;
pub mod jsonrpc;
pub mod policy;
