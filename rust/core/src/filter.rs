//! Bulk visibility: which of N names (tools, prompts, resource uris) a principal may use.
//!
//! The per-principal, per-method work (candidate rules, the first rule without a target) is done
//! once; each name then costs one target lookup, so a `tools/list` of 10,000 tools stays cheap.
//! The result is by construction the same as one [`Policy::decide`] per name.

use crate::policy::{BoundPrincipal, Policy};

/// Indexes (ascending) of the `names` that `method` with that name as target would allow.
pub fn allowed_indices<S: AsRef<str>>(
    policy: &Policy,
    bound: &BoundPrincipal,
    method: &str,
    names: &[S],
) -> Vec<usize> {
    let resolver = policy.resolver(bound, method);
    names
        .iter()
        .enumerate()
        .filter(|(_, name)| resolver.allows(Some(name.as_ref())))
        .map(|(index, _)| index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_equals_per_name_decisions() {
        let mut rules: Vec<serde_json::Value> = (0..30)
            .map(|i| {
                json!({"methods": ["tools/*"], "tool": format!("*{}?", i % 7),
                       "effect": if i % 3 == 0 { "deny" } else { "allow" },
                       "allow_roles": if i % 5 == 0 { json!(["ops"]) } else { json!([]) }})
            })
            .collect();
        rules.push(json!({"methods": "tools/call", "tool": "[a-c]*", "effect": "allow"}));
        let policy = Policy::from_value(&json!({"rules": rules})).expect("valid");
        let names: Vec<String> = (0..500)
            .map(|i| format!("{}{}x", ["a", "d", "zz"][i % 3], i))
            .collect();
        for bound in [
            policy.anonymous().clone(),
            policy.bind("u", &["ops"], &[], None),
        ] {
            let expected: Vec<usize> = (0..names.len())
                .filter(|&i| policy.decide(&bound, "tools/call", Some(&names[i])).allowed)
                .collect();
            assert_eq!(
                allowed_indices(&policy, &bound, "tools/call", &names),
                expected
            );
            assert!(allowed_indices(&policy, &bound, "prompts/get", &names).is_empty());
        }
    }
}
