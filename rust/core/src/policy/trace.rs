//! Tools for people writing policies: the rules a decision tried and why each did not decide
//! ([`Policy::trace`]), and the rules an earlier rule keeps from ever deciding
//! ([`Policy::shadowed`]). Neither is on the request path.

use super::{BoundPrincipal, Policy, Rule, TargetKind};
use crate::glob::Glob;

/// What one rule did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The rule matched the request and applied to the principal: its effect decided.
    Decided,
    /// None of the rule's `methods` globs matched the method.
    Method,
    /// The method matched, the target (tool, prompt, resource) did not.
    Target,
    /// The rule matched the request but its conditions do not hold for the principal.
    Conditions,
}

impl Outcome {
    /// `"decided"`, `"method"`, `"target"` or `"conditions"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Decided => "decided",
            Outcome::Method => "method",
            Outcome::Target => "target",
            Outcome::Conditions => "conditions",
        }
    }
}

/// One rule tried by [`Policy::trace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The rule's index (0-based, as in the `rules` list).
    pub rule: usize,
    pub outcome: Outcome,
    /// One lowercase sentence saying why.
    pub reason: String,
}

fn quoted<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Tool => "tool",
        TargetKind::Prompt => "prompt",
        TargetKind::Resource => "resource uri",
    }
}

/// Whether every string `narrow` matches is matched by `wide` (sound, not complete: `false`
/// may also mean "cannot tell").
fn covers(wide: &Glob, narrow: &Glob) -> bool {
    let literal = !narrow.as_str().contains(['*', '?', '[']);
    wide.matches_everything()
        || wide.as_str() == narrow.as_str()
        || (literal && wide.is_match(narrow.as_str()))
}

fn same_or_wider(wide: &[String], narrow: &[String]) -> bool {
    narrow.iter().all(|item| wide.contains(item))
}

impl Rule {
    fn why_not_applies(&self, anonymous: bool) -> String {
        if anonymous {
            return "it has conditions and does not set `allow_anonymous`, so it skips anonymous callers"
                .to_owned();
        }
        let mut needs: Vec<String> = Vec::new();
        if !self.subjects.is_empty() {
            needs.push(format!(
                "subject {}",
                quoted(self.subjects.iter().map(String::as_str))
            ));
        }
        if !self.roles.is_empty() {
            needs.push(format!(
                "role {}",
                quoted(self.roles.iter().map(String::as_str))
            ));
        }
        if !self.scopes.is_empty() {
            needs.push(format!(
                "scope {}",
                quoted(self.scopes.iter().map(Glob::as_str))
            ));
        }
        for (name, values) in &self.claims {
            needs.push(format!(
                "claim `{name}` equal to {}",
                quoted(values.iter().map(String::as_str))
            ));
        }
        format!(
            "the principal has none of its conditions ({})",
            needs.join("; ")
        )
    }

    /// Whether this rule applies to every principal `other` applies to.
    fn applies_whenever(&self, other: &Rule) -> bool {
        if !self.has_conditions() {
            return true;
        }
        if !other.has_conditions() || (other.allow_anonymous && !self.allow_anonymous) {
            return false;
        }
        same_or_wider(&self.subjects, &other.subjects)
            && same_or_wider(&self.roles, &other.roles)
            && other
                .scopes
                .iter()
                .all(|narrow| self.scopes.iter().any(|wide| covers(wide, narrow)))
            && other.claims.iter().all(|(name, values)| {
                self.claims
                    .iter()
                    .any(|(own, accepted)| own == name && same_or_wider(accepted, values))
            })
    }

    /// Whether this rule matches every request `other` matches.
    fn matches_whenever(&self, other: &Rule) -> bool {
        let methods = other
            .methods
            .iter()
            .all(|narrow| self.methods.iter().any(|wide| covers(wide, narrow)));
        let target = match (&self.target, &other.target) {
            (None, _) => true,
            (Some((kind, wide)), Some((other_kind, narrow))) => {
                kind == other_kind && covers(wide, narrow)
            }
            (Some(_), None) => false,
        };
        methods && target
    }
}

impl Policy {
    /// The rules tried for one request, in order, up to and including the deciding one (all of
    /// them when the default effect decided), each with why it did or did not decide. `bound` is
    /// anonymous when it is this policy's own [`Policy::anonymous`].
    pub fn trace(&self, bound: &BoundPrincipal, method: &str, target: Option<&str>) -> Vec<Step> {
        let anonymous = std::ptr::eq(bound, &self.anonymous);
        let request_kind = super::target_kind(method);
        let mut steps = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let (outcome, reason) = if !rule.matches_method(method) {
                let globs = quoted(rule.methods.iter().map(Glob::as_str));
                (
                    Outcome::Method,
                    format!("method `{method}` matches none of its methods ({globs})"),
                )
            } else if let Some((kind, glob)) = &rule.target {
                let noun = kind_name(*kind);
                match (request_kind == Some(*kind), target) {
                    (false, _) => (
                        Outcome::Target,
                        format!("it is about a {noun} and `{method}` has none"),
                    ),
                    (true, None) => (
                        Outcome::Target,
                        format!("it is about a {noun} and the request names none"),
                    ),
                    (true, Some(name)) if !glob.is_match(name) => (
                        Outcome::Target,
                        format!("{noun} `{name}` does not match `{}`", glob.as_str()),
                    ),
                    (true, Some(_)) => self.applies_or_not(bound, rule, index, anonymous),
                }
            } else {
                self.applies_or_not(bound, rule, index, anonymous)
            };
            steps.push(Step {
                rule: index,
                outcome,
                reason,
            });
            if outcome == Outcome::Decided {
                break;
            }
        }
        steps
    }

    fn applies_or_not(
        &self,
        bound: &BoundPrincipal,
        rule: &Rule,
        index: usize,
        anonymous: bool,
    ) -> (Outcome, String) {
        if bound.applies.contains(index) {
            let whom = if rule.has_conditions() {
                "the principal meets one of its conditions"
            } else {
                "it has no conditions"
            };
            (
                Outcome::Decided,
                format!(
                    "it matches the request and {whom}: {}",
                    rule.effect.as_str()
                ),
            )
        } else {
            (Outcome::Conditions, rule.why_not_applies(anonymous))
        }
    }

    /// Rules that can never decide because an earlier rule matches every request they match, for
    /// every principal they apply to: `(shadowed rule, the earlier rule)`, by index. Sound, not
    /// complete: a pair reported is always right, overlaps of unrelated globs are not found.
    pub fn shadowed(&self) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for (later, rule) in self.rules.iter().enumerate() {
            let earlier = self.rules[..later]
                .iter()
                .position(|first| first.matches_whenever(rule) && first.applies_whenever(rule));
            if let Some(earlier) = earlier {
                found.push((later, earlier));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(config: serde_json::Value) -> Policy {
        Policy::from_value(&config).expect("valid policy")
    }

    #[test]
    fn trace_stops_at_the_deciding_rule() {
        let policy = policy(json!({"rules": [
            {"methods": ["tools/list"]},
            {"methods": ["tools/call"], "tool": "deploy_*", "allow_roles": ["ops"]},
            {"methods": ["tools/call"], "tool": "read_*", "allow_roles": ["dev"]},
            {"methods": ["tools/call"], "allow_subjects": ["alice"], "effect": "deny"},
            {"methods": ["*"]},
        ]}));
        let bound = policy.bind::<&str>("bob", &["dev"], &[], None);
        let steps = policy.trace(&bound, "tools/call", Some("deploy_prod"));
        let outcomes: Vec<_> = steps.iter().map(|s| s.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Method,
                Outcome::Conditions,
                Outcome::Target,
                Outcome::Conditions,
                Outcome::Decided
            ]
        );
        assert_eq!(
            steps[1].reason,
            "the principal has none of its conditions (role `ops`)"
        );
        assert_eq!(
            steps[2].reason,
            "tool `deploy_prod` does not match `read_*`"
        );
        let decided = policy
            .decide(&bound, "tools/call", Some("deploy_prod"))
            .rule;
        assert_eq!(decided, Some(steps.last().unwrap().rule));
    }

    #[test]
    fn trace_without_a_deciding_rule_lists_every_rule() {
        let policy = policy(json!({"rules": [
            {"methods": ["tools/*"], "tool": "x", "allow_roles": ["ops"]},
            {"methods": ["prompts/get"], "prompt": "p"},
        ]}));
        let steps = policy.trace(policy.anonymous(), "tools/list", None);
        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps[0].reason,
            "it is about a tool and `tools/list` has none"
        );
    }

    #[test]
    fn shadowed_rules_are_found_soundly() {
        let policy = policy(json!({"rules": [
            {"methods": ["tools/*"], "allow_roles": ["ops", "dev"]},
            {"methods": ["tools/call"], "tool": "deploy", "allow_roles": ["ops"], "effect": "deny"},
            {"methods": ["tools/call"], "allow_roles": ["admin"]},
            {"methods": ["tools/call"], "allow_scopes": ["a:*"]},
            {"methods": ["tools/call"], "allow_scopes": ["a:read"]},
            {"methods": ["tools/call"], "allow_scopes": ["b:*"]},
            {"methods": ["*"]},
            {"methods": ["ping"], "allow_anonymous": true},
        ]}));
        assert_eq!(policy.shadowed(), [(1, 0), (4, 3), (7, 6)]);
    }
}
