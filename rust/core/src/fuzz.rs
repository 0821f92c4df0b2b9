//! One entry point per parser for the fuzz targets (`rust/fuzz`) and the bounded stable-Rust
//! property test (`tests/never_panics.rs`): each takes arbitrary bytes, must never panic, and
//! asserts the invariants that hold for every input.

use serde_json::Value;

use crate::glob::{fnmatchcase, Glob, GlobSet};
use crate::jsonrpc::{classify_body, Body, Message};
use crate::policy::Policy;

/// `pattern \0 name \0 name ...`: compile the pattern, match the names, and check that an
/// example built from the pattern matches it and that a [`GlobSet`] agrees with one-by-one matching.
pub fn glob(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let pattern = parts.next().unwrap_or_default();
    let names: Vec<&str> = parts.collect();
    let glob = Glob::new(pattern);
    for fill in ["", "é", "\u{1}"] {
        if let Some(example) = glob.example(fill) {
            assert!(
                glob.is_match(&example),
                "{pattern:?} must match {example:?}"
            );
        }
    }
    let mut patterns: Vec<&str> = vec![pattern];
    patterns.extend(names.iter().copied());
    let set = GlobSet::new(&patterns);
    for name in std::iter::once(pattern).chain(names.iter().copied()) {
        let one_by_one: Vec<usize> = (0..patterns.len())
            .filter(|&index| fnmatchcase(name, patterns[index]))
            .collect();
        assert_eq!(set.matches(name), one_by_one, "{patterns:?} on {name:?}");
    }
}

/// A policy as JSON text: it loads or fails with a one-line message; a loaded policy binds a
/// principal and decides (and explains) requests without panicking.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = match Policy::from_json(text) {
        Ok(policy) => policy,
        Err(error) => {
            assert!(!error.message().is_empty());
            assert!(!error.message().contains('\n'), "{error:?}");
            return;
        }
    };
    let claims = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|value| value.as_object().cloned());
    let bound = policy.bind("alice", &["admin", "é"], &["tools:*"], claims.as_ref());
    for principal in [&bound, policy.anonymous()] {
        for (method, target) in [
            ("tools/call", Some("deploy_prod")),
            ("tools/list", None),
            ("resources/read", Some("file:///é")),
            ("", Some("")),
        ] {
            let decision = policy.decide(principal, method, target);
            let explanation = policy.explain(principal, method, target);
            assert_eq!(decision.allowed, explanation.allowed);
        }
    }
}

/// A JSON-RPC body: classified into messages or invalid entries, one per batch element.
pub fn jsonrpc(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let elements = |value: &Value| -> usize { value.as_array().map_or(0, Vec::len) };
    let count = elements(&value);
    match classify_body(&value, |value| {
        value
            .as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    }) {
        Body::Batch(messages) => assert_eq!(messages.len(), count),
        Body::Single(Message::Invalid { message, .. }) => assert!(!message.is_empty()),
        Body::Single(_) => assert!(value.is_object()),
    }
}
