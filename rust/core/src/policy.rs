//! The rule-based authorization policy: a JSON config compiled once into an immutable engine.
//!
//! Semantics are those of pymcp-kit 0.3.0's `RuleBasedAuthorizer`, with three deliberate fixes:
//! loading is strict (unknown keys, wrong types, empty `methods`, bad effects, duplicate ids fail
//! with one line naming the rule and the key), rules can target prompts and resources and test
//! claims, and a deny rule only hides the scope hint from the principals it applies to.
//!
//! Evaluation is first match over the rules in order. A rule matches a request when one of its
//! `methods` globs matches the method and, if it has a `tool` / `prompt` / `resource` glob, the
//! request has a target of that kind matching it. It then applies to the principal when it has no
//! conditions, or (for an authenticated principal) when ANY of its conditions holds — subjects,
//! roles, scopes and claims are OR-ed as in 0.3.0 — or (for an anonymous caller) when it says
//! `allow_anonymous`. A rule that does not apply is skipped, not a denial. No match: the default
//! effect decides.
//!
//! Speed comes from binding a principal once ([`Policy::bind`]): every condition is evaluated up
//! front into one bit per rule, so a decision only matches the method and the target.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use rustc_hash::FxHashMap;

use crate::glob::{Glob, GlobSet};

mod trace;
pub use trace::{Outcome, Step};

/// A policy that cannot be loaded: a one-line message naming the rule and the key, plus the same
/// place as data (rule index, rule id, key) for tools that point at the faulty spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    message: String,
    rule_index: Option<usize>,
    rule_id: Option<String>,
    key: Option<String>,
}

impl PolicyError {
    /// An error about the policy as a whole (not JSON, not an object).
    fn new(message: String) -> PolicyError {
        PolicyError {
            message: one_line(&message),
            rule_index: None,
            rule_id: None,
            key: None,
        }
    }

    /// An error about `key` (as named in the message, e.g. `allow_roles[1]`) at `place`.
    fn at(place: &Place, key: Option<&str>, message: String) -> PolicyError {
        let (rule_index, rule_id) = match place {
            Place::Top => (None, None),
            Place::Rule { index, id } => (Some(*index), id.clone()),
        };
        PolicyError {
            rule_index,
            rule_id,
            key: key.map(|name| top_key(name).to_owned()),
            ..PolicyError::new(message)
        }
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 0-based index of the faulty rule, when the error is inside a rule.
    pub fn rule_index(&self) -> Option<usize> {
        self.rule_index
    }

    /// The `id` of the faulty rule, when it has one.
    pub fn rule_id(&self) -> Option<&str> {
        self.rule_id.as_deref()
    }

    /// The faulty key of the policy or rule object (`allow_roles`, not `allow_roles[1]`).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

/// Keeps a message on one line whatever the policy text holds (keys may contain newlines).
fn one_line(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// The known key a composed name starts with (`allow_roles[1]` → `allow_roles`,
/// `groups_to_roles.admins` → `groups_to_roles`); any other name is kept whole.
fn top_key(name: &str) -> &str {
    let known = |key: &str| {
        TOP_KEYS
            .iter()
            .chain(RULE_KEYS)
            .any(|(primary, alias)| *primary == key || *alias == Some(key))
    };
    match name.find(['[', '.']) {
        Some(at) if known(&name[..at]) => &name[..at],
        _ => name,
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

type Result<T> = std::result::Result<T, PolicyError>;

/// What a rule (or the default) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    /// `"allow"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

/// What a rule's target glob is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `params.name` of `tools/call`.
    Tool,
    /// `params.name` of `prompts/get`.
    Prompt,
    /// The uri of `resources/read`, and each uri of `resources/subscribe` / `resources/unsubscribe`.
    Resource,
}

impl TargetKind {
    const ALL: [TargetKind; 3] = [TargetKind::Tool, TargetKind::Prompt, TargetKind::Resource];

    fn index(self) -> usize {
        self as usize
    }

    fn key(self) -> &'static str {
        match self {
            TargetKind::Tool => "tool",
            TargetKind::Prompt => "prompt",
            TargetKind::Resource => "resource",
        }
    }
}

/// The kind of target `method` carries, if any.
pub fn target_kind(method: &str) -> Option<TargetKind> {
    match method {
        "tools/call" => Some(TargetKind::Tool),
        "prompts/get" => Some(TargetKind::Prompt),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            Some(TargetKind::Resource)
        }
        _ => None,
    }
}

/// Methods whose matching rules are computed at load time; others are matched per request.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
    "logging/setLevel",
    "tasks/list",
    "tasks/get",
    "tasks/result",
    "tasks/cancel",
    "tasks/update",
    "server/discover",
    "subscriptions/listen",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
];

/// A fixed-size set of rule indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    words: Vec<u64>,
}

impl RuleSet {
    fn new(rules: usize) -> RuleSet {
        RuleSet {
            words: vec![0; rules.div_ceil(64)],
        }
    }

    fn insert(&mut self, rule: usize) {
        self.words[rule / 64] |= 1 << (rule % 64);
    }

    /// Whether `rule` is in the set.
    #[inline]
    pub fn contains(&self, rule: usize) -> bool {
        self.words
            .get(rule / 64)
            .is_some_and(|word| word & (1 << (rule % 64)) != 0)
    }
}

/// Rule indexes present in every one of `sets`, ascending.
fn intersection<'a>(sets: &'a [&'a RuleSet]) -> impl Iterator<Item = usize> + 'a {
    let words = sets.iter().map(|set| set.words.len()).min().unwrap_or(0);
    (0..words).flat_map(move |w| {
        let mut word = sets.iter().fold(u64::MAX, |acc, set| acc & set.words[w]);
        std::iter::from_fn(move || {
            (word != 0).then(|| {
                let bit = word.trailing_zeros() as usize;
                word &= word - 1;
                w * 64 + bit
            })
        })
    })
}

#[derive(Debug)]
struct Rule {
    id: Option<String>,
    methods: Vec<Glob>,
    target: Option<(TargetKind, Glob)>,
    effect: Effect,
    allow_anonymous: bool,
    subjects: Vec<String>,
    roles: Vec<String>,
    scopes: Vec<Glob>,
    claims: Vec<(String, Vec<String>)>,
    message: Option<String>,
}

impl Rule {
    fn has_conditions(&self) -> bool {
        !(self.subjects.is_empty()
            && self.roles.is_empty()
            && self.scopes.is_empty()
            && self.claims.is_empty())
    }

    fn matches_method(&self, method: &str) -> bool {
        self.methods.iter().any(|glob| glob.is_match(method))
    }

    /// Whether the rule matches the request, whoever asks.
    fn matches_request(&self, method: &str, target: Option<&str>) -> bool {
        self.matches_method(method)
            && match &self.target {
                None => true,
                Some((kind, glob)) => {
                    target_kind(method) == Some(*kind) && target.is_some_and(|t| glob.is_match(t))
                }
            }
    }
}

/// A principal compiled against one policy: which rules apply to it.
#[derive(Debug, Clone)]
pub struct BoundPrincipal {
    policy: u64,
    applies: RuleSet,
    scopes: Vec<String>,
}

impl BoundPrincipal {
    /// Whether this binding was made by `policy`.
    pub fn is_bound_to(&self, policy: &Policy) -> bool {
        self.policy == policy.serial
    }
}

/// The outcome of one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The deciding rule, or `None` when the default effect decided.
    pub rule: Option<usize>,
}

/// A decision with the reasons a denial gives back to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub allowed: bool,
    pub rule: Option<usize>,
    /// On denial: scopes of the allow rules before the deciding one that would have granted the
    /// request, minus those the principal has. Empty when allowed.
    pub missing_scopes: Vec<String>,
    /// On denial: the deny rule's message, else the message of the first such allow rule.
    pub message: Option<String>,
}

/// A compiled policy. Immutable; share it freely.
#[derive(Debug)]
pub struct Policy {
    serial: u64,
    default_effect: Effect,
    hide_unauthorized_capabilities: bool,
    hide_unauthorized_tools: bool,
    groups_claim: String,
    groups_to_roles: Vec<(Glob, String)>,
    rules: Vec<Rule>,
    claim_names: Vec<String>,
    known_methods: FxHashMap<String, RuleSet>,
    untargeted: RuleSet,
    targeted: [RuleSet; 3],
    targets: [GlobSet; 3],
    target_rules: [Vec<usize>; 3],
    anonymous: BoundPrincipal,
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// Targeted candidates up to this many are matched one by one; more go through the [`GlobSet`].
const FEW_TARGETED: usize = 6;

impl Policy {
    /// Parse and compile a policy from JSON text.
    pub fn from_json(text: &str) -> Result<Policy> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| PolicyError::new(format!("policy is not valid JSON: {error}")))?;
        Policy::from_value(&value)
    }

    /// Compile a policy from a parsed JSON value.
    pub fn from_value(config: &Value) -> Result<Policy> {
        let config = config
            .as_object()
            .ok_or_else(|| PolicyError::new("policy must be a JSON object".into()))?;
        let top = Place::Top;
        check_keys(config, TOP_KEYS, &top)?;
        let default_effect = match lookup(config, "default_effect", Some("defaultEffect"), &top)? {
            Some((key, value)) => parse_effect(key, value, &top)?,
            None => Effect::Deny,
        };
        let hide_caps = lookup_bool(
            config,
            "hide_unauthorized_capabilities",
            Some("hideUnauthorizedCapabilities"),
            &top,
        )?;
        let hide_tools = lookup_bool(
            config,
            "hide_unauthorized_tools",
            Some("hideUnauthorizedTools"),
            &top,
        )?;
        let groups_claim = match lookup(config, "groups_claim", Some("groupsClaim"), &top)? {
            Some((key, value)) => non_empty_string(key, value, &top)?.to_owned(),
            None => "groups".to_owned(),
        };
        let groups_to_roles = match lookup(config, "groups_to_roles", Some("groupsToRoles"), &top)?
        {
            Some((key, value)) => parse_groups_to_roles(key, value)?,
            None => Vec::new(),
        };
        let rules = match config.get("rules") {
            None => Vec::new(),
            Some(Value::Array(items)) => parse_rules(items)?,
            Some(_) => {
                return Err(PolicyError::at(
                    &Place::Top,
                    Some("rules"),
                    "`rules` must be a list of rule objects".into(),
                ))
            }
        };

        let count = rules.len();
        let mut claim_names: Vec<String> = Vec::new();
        if !groups_to_roles.is_empty() {
            claim_names.push(groups_claim.clone());
        }
        for rule in &rules {
            for (name, _) in &rule.claims {
                if !claim_names.contains(name) {
                    claim_names.push(name.clone());
                }
            }
        }
        let mut untargeted = RuleSet::new(count);
        let mut targeted = [0; 3].map(|_| RuleSet::new(count));
        let mut target_globs: [Vec<Glob>; 3] = Default::default();
        let mut target_rules: [Vec<usize>; 3] = Default::default();
        for (index, rule) in rules.iter().enumerate() {
            match &rule.target {
                None => untargeted.insert(index),
                Some((kind, glob)) => {
                    targeted[kind.index()].insert(index);
                    target_globs[kind.index()].push(glob.clone());
                    target_rules[kind.index()].push(index);
                }
            }
        }
        let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
        let mut anonymous = RuleSet::new(count);
        for (index, rule) in rules.iter().enumerate() {
            if rule.allow_anonymous || !rule.has_conditions() {
                anonymous.insert(index);
            }
        }
        let mut policy = Policy {
            serial,
            default_effect,
            hide_unauthorized_capabilities: hide_caps,
            hide_unauthorized_tools: hide_tools,
            groups_claim,
            groups_to_roles,
            rules,
            claim_names,
            known_methods: FxHashMap::default(),
            untargeted,
            targeted,
            targets: target_globs.map(GlobSet::from_globs),
            target_rules,
            anonymous: BoundPrincipal {
                policy: serial,
                applies: anonymous,
                scopes: Vec::new(),
            },
        };
        policy.known_methods = KNOWN_METHODS
            .iter()
            .map(|&method| (method.to_owned(), policy.compute_method_rules(method)))
            .collect();
        Ok(policy)
    }

    /// The effect when no rule matches.
    pub fn default_effect(&self) -> Effect {
        self.default_effect
    }

    /// Whether `initialize` should hide capabilities the principal can use nothing of.
    pub fn hide_unauthorized_capabilities(&self) -> bool {
        self.hide_unauthorized_capabilities
    }

    /// Whether lists should hide what the principal may not call.
    pub fn hide_unauthorized_tools(&self) -> bool {
        self.hide_unauthorized_tools
    }

    /// The claim holding the principal's groups.
    pub fn groups_claim(&self) -> &str {
        &self.groups_claim
    }

    /// Claims that [`Policy::bind`] reads (the groups claim when groups map to roles, and every
    /// claim named in an `allow_claims`); callers need to pass only these.
    pub fn claim_names(&self) -> &[String] {
        &self.claim_names
    }

    /// Number of rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The `id` of rule `index`.
    pub fn rule_id(&self, index: usize) -> Option<&str> {
        self.rules.get(index).and_then(|rule| rule.id.as_deref())
    }

    /// The effect of rule `index`.
    pub fn rule_effect(&self, index: usize) -> Option<Effect> {
        self.rules.get(index).map(|rule| rule.effect)
    }

    /// The binding of an anonymous caller.
    pub fn anonymous(&self) -> &BoundPrincipal {
        &self.anonymous
    }

    /// Bind an authenticated principal: evaluate every rule's conditions once.
    ///
    /// `claims` needs to hold only [`Policy::claim_names`]. Groups come from the groups claim: a
    /// string, an integer, or a list of those (empty strings, booleans and other values are not
    /// groups). A claim condition holds when the claim (a string, number or boolean, compared by
    /// its JSON text, or any such element of a list) equals one of the listed values.
    pub fn bind<S: AsRef<str>>(
        &self,
        subject: &str,
        roles: &[S],
        scopes: &[S],
        claims: Option<&Map<String, Value>>,
    ) -> BoundPrincipal {
        let mut all_roles: HashSet<&str> = roles.iter().map(AsRef::as_ref).collect();
        let groups = claims
            .and_then(|claims| claims.get(&self.groups_claim))
            .map(group_names)
            .unwrap_or_default();
        for group in &groups {
            for (glob, role) in &self.groups_to_roles {
                if glob.is_match(group) {
                    all_roles.insert(role);
                }
            }
        }
        let mut applies = RuleSet::new(self.rules.len());
        for (index, rule) in self.rules.iter().enumerate() {
            let holds = !rule.has_conditions()
                || rule.subjects.iter().any(|s| s == subject)
                || rule.roles.iter().any(|r| all_roles.contains(r.as_str()))
                || rule
                    .scopes
                    .iter()
                    .any(|glob| scopes.iter().any(|s| glob.is_match(s.as_ref())))
                || rule.claims.iter().any(|(name, accepted)| {
                    claims.and_then(|c| c.get(name)).is_some_and(|value| {
                        claim_texts(value)
                            .iter()
                            .any(|text| accepted.iter().any(|a| a == text))
                    })
                });
            if holds {
                applies.insert(index);
            }
        }
        BoundPrincipal {
            policy: self.serial,
            applies,
            scopes: scopes.iter().map(|s| s.as_ref().to_owned()).collect(),
        }
    }

    fn compute_method_rules(&self, method: &str) -> RuleSet {
        let kind = target_kind(method);
        let mut set = RuleSet::new(self.rules.len());
        for (index, rule) in self.rules.iter().enumerate() {
            let kind_fits = rule.target.as_ref().map_or(true, |(k, _)| Some(*k) == kind);
            if kind_fits && rule.matches_method(method) {
                set.insert(index);
            }
        }
        set
    }

    /// Prepare decisions for one principal and method (reused by [`crate::filter`]).
    pub fn resolver<'p>(&'p self, bound: &'p BoundPrincipal, method: &str) -> Resolver<'p> {
        let methods = match self.known_methods.get(method) {
            Some(set) => Cow::Borrowed(set),
            None => Cow::Owned(self.compute_method_rules(method)),
        };
        let first_untargeted = intersection(&[&bound.applies, &methods, &self.untargeted]).next();
        let limit = first_untargeted.unwrap_or(self.rules.len());
        let kind = target_kind(method);
        let targeted_before = kind.map_or(0, |kind| {
            intersection(&[&bound.applies, &methods, &self.targeted[kind.index()]])
                .take_while(|&rule| rule < limit)
                .take(FEW_TARGETED + 1)
                .count()
        });
        Resolver {
            policy: self,
            applies: &bound.applies,
            methods,
            kind,
            first_untargeted,
            targeted_before,
        }
    }

    /// Decide one request. `target` is the tool / prompt name or resource uri (ignored for
    /// methods without one).
    pub fn decide(&self, bound: &BoundPrincipal, method: &str, target: Option<&str>) -> Decision {
        let rule = self.resolver(bound, method).resolve(target);
        self.decision(rule)
    }

    fn decision(&self, rule: Option<usize>) -> Decision {
        let effect = rule.map_or(self.default_effect, |index| self.rules[index].effect);
        Decision {
            allowed: effect == Effect::Allow,
            rule,
        }
    }

    /// Decide one request and say why, with the scope hint and message for a denial.
    pub fn explain(
        &self,
        bound: &BoundPrincipal,
        method: &str,
        target: Option<&str>,
    ) -> Explanation {
        let decision = self.decide(bound, method, target);
        if decision.allowed {
            return Explanation {
                allowed: true,
                rule: decision.rule,
                missing_scopes: Vec::new(),
                message: None,
            };
        }
        let mut missing_scopes: Vec<String> = Vec::new();
        let mut scope_message: Option<&str> = None;
        let end = decision.rule.unwrap_or(self.rules.len());
        for rule in &self.rules[..end] {
            if rule.effect != Effect::Allow
                || rule.scopes.is_empty()
                || !rule.matches_request(method, target)
            {
                continue;
            }
            let mut lacks_all = true;
            for glob in &rule.scopes {
                if bound.scopes.iter().any(|granted| glob.is_match(granted)) {
                    lacks_all = false;
                } else if !missing_scopes.iter().any(|s| s == glob.as_str()) {
                    missing_scopes.push(glob.as_str().to_owned());
                }
            }
            if lacks_all && scope_message.is_none() {
                scope_message = rule.message.as_deref();
            }
        }
        let rule_message = decision
            .rule
            .and_then(|index| self.rules[index].message.as_deref());
        Explanation {
            allowed: false,
            rule: decision.rule,
            missing_scopes,
            message: rule_message.or(scope_message).map(str::to_owned),
        }
    }

    /// Whether the principal may use `method` at all: for methods with a target, whether some
    /// target would be allowed. For those it decides a few example names (for each allow glob
    /// the principal may use, two strings it matches; and one unlikely name): a "yes" is always
    /// true, a "no" is wrong only if earlier deny globs happen to catch every example but not
    /// every name of the allow glob.
    pub fn allows_any(&self, bound: &BoundPrincipal, method: &str) -> bool {
        let resolver = self.resolver(bound, method);
        let Some(kind) = resolver.kind else {
            return self.decision(resolver.resolve(None)).allowed;
        };
        // A name unlikely to be caught by a narrow deny glob stands in for "any other target".
        let mut witnesses = vec!["\u{1}".to_owned()];
        let candidates = [
            &bound.applies,
            &*resolver.methods,
            &self.targeted[kind.index()],
        ];
        for index in intersection(&candidates) {
            let rule = &self.rules[index];
            if rule.effect == Effect::Allow {
                if let Some((_, glob)) = &rule.target {
                    witnesses.extend(glob.example(""));
                    witnesses.extend(glob.example("\u{1}"));
                }
            }
        }
        witnesses
            .iter()
            .any(|name| self.decision(resolver.resolve(Some(name))).allowed)
    }
}

/// Decisions for one principal and method, with the per-request work done once.
pub struct Resolver<'p> {
    policy: &'p Policy,
    applies: &'p RuleSet,
    methods: Cow<'p, RuleSet>,
    kind: Option<TargetKind>,
    first_untargeted: Option<usize>,
    /// Targeted candidate rules before `first_untargeted`, counted up to `FEW_TARGETED + 1`.
    targeted_before: usize,
}

impl Resolver<'_> {
    /// The deciding rule for `target`, or `None` for the default effect.
    #[inline]
    pub fn resolve(&self, target: Option<&str>) -> Option<usize> {
        let (Some(kind), Some(target)) = (self.kind, target) else {
            return self.first_untargeted;
        };
        if self.targeted_before == 0 {
            return self.first_untargeted;
        }
        let policy = self.policy;
        let limit = self.first_untargeted.unwrap_or(policy.rules.len());
        if self.targeted_before <= FEW_TARGETED {
            let candidates = [self.applies, &*self.methods, &policy.targeted[kind.index()]];
            let hit = intersection(&candidates)
                .take_while(|&rule| rule < limit)
                .find(|&rule| {
                    policy.rules[rule]
                        .target
                        .as_ref()
                        .is_some_and(|(_, glob)| glob.is_match(target))
                });
            return hit.or(self.first_untargeted);
        }
        let rule_of = &policy.target_rules[kind.index()];
        let mut best = limit;
        policy.targets[kind.index()].for_each_match(target, |pattern| {
            let rule = rule_of[pattern];
            if rule < best && self.applies.contains(rule) && self.methods.contains(rule) {
                best = rule;
            }
        });
        if best < limit {
            Some(best)
        } else {
            self.first_untargeted
        }
    }

    /// Whether the rule found by [`Resolver::resolve`] allows.
    #[inline]
    pub fn allows(&self, target: Option<&str>) -> bool {
        self.policy.decision(self.resolve(target)).allowed
    }
}

fn group_names(value: &Value) -> Vec<String> {
    fn one(value: &Value) -> Option<String> {
        match value {
            Value::String(text) if !text.is_empty() => Some(text.clone()),
            Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
            _ => None,
        }
    }
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

fn claim_texts(value: &Value) -> Vec<Cow<'_, str>> {
    fn one(value: &Value) -> Option<Cow<'_, str>> {
        match value {
            Value::String(text) => Some(Cow::Borrowed(text)),
            Value::Number(number) => Some(Cow::Owned(number.to_string())),
            Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
            _ => None,
        }
    }
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

// ---- strict loading ------------------------------------------------------------------------

/// Where a key lives, for error messages (rule indexes are 0-based, as in the JSON array).
enum Place {
    Top,
    Rule { index: usize, id: Option<String> },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Top => f.write_str("the policy"),
            Place::Rule { index, id: None } => write!(f, "rule {index}"),
            Place::Rule {
                index,
                id: Some(id),
            } => write!(f, "rule {index} `{id}`"),
        }
    }
}

/// Allowed keys: (key, camelCase alias).
const TOP_KEYS: &[(&str, Option<&str>)] = &[
    ("$schema", None),
    ("description", None),
    ("comment", None),
    ("default_effect", Some("defaultEffect")),
    (
        "hide_unauthorized_capabilities",
        Some("hideUnauthorizedCapabilities"),
    ),
    ("hide_unauthorized_tools", Some("hideUnauthorizedTools")),
    ("groups_claim", Some("groupsClaim")),
    ("groups_to_roles", Some("groupsToRoles")),
    ("rules", None),
];

const RULE_KEYS: &[(&str, Option<&str>)] = &[
    ("id", None),
    ("description", None),
    ("comment", None),
    ("methods", None),
    ("rpc_method", None),
    ("tool", None),
    ("prompt", None),
    ("resource", None),
    ("effect", None),
    ("allow_anonymous", Some("allowAnonymous")),
    ("allow_subjects", Some("allowSubjects")),
    ("allow_roles", Some("allowRoles")),
    ("allow_scopes", Some("allowScopes")),
    ("allow_claims", Some("allowClaims")),
    ("message", None),
];

fn check_keys(
    object: &Map<String, Value>,
    allowed: &[(&str, Option<&str>)],
    place: &Place,
) -> Result<()> {
    let names = || {
        allowed
            .iter()
            .flat_map(|(key, alias)| std::iter::once(*key).chain(*alias))
    };
    for key in object.keys() {
        if !names().any(|name| name == key) {
            let hint = suggest(key, names())
                .map(|near| format!(" (did you mean `{near}`?)"))
                .unwrap_or_default();
            return Err(PolicyError::at(
                place,
                Some(key),
                format!("unknown key `{key}` in {place}{hint}"),
            ));
        }
    }
    Ok(())
}

/// The closest known key: same letters ignoring case and `_`, or at most two edits away.
fn suggest<'a>(key: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let squash = |text: &str| -> String {
        text.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = squash(key);
    // Closest ignoring case and `_` first; among equals, the spelling closest as written
    // (`allowSubject` suggests `allowSubjects`, `allow_subject` suggests `allow_subjects`).
    let mut best: Option<((usize, usize), &str)> = None;
    for name in names {
        let score = (
            edit_distance(&wanted, &squash(name)),
            edit_distance(key, name),
        );
        if score.0 <= 2 && best.map_or(true, |(b, _)| score < b) {
            best = Some((score, name));
        }
    }
    best.map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The value of `key` or its camelCase `alias`; both at once is an error (0.3.0 silently fell
/// through from an empty snake_case value to the camelCase one).
fn lookup<'v>(
    object: &'v Map<String, Value>,
    key: &'static str,
    alias: Option<&'static str>,
    place: &Place,
) -> Result<Option<(&'static str, &'v Value)>> {
    let primary = object.get(key).map(|value| (key, value));
    let secondary = alias.and_then(|alias| object.get(alias).map(|value| (alias, value)));
    match (primary, secondary) {
        (Some(_), Some(_)) => Err(PolicyError::at(
            place,
            Some(key),
            format!(
                "both `{key}` and `{}` in {place}; keep one",
                alias.unwrap_or_default()
            ),
        )),
        (found, None) | (None, found) => Ok(found),
    }
}

fn lookup_bool(
    object: &Map<String, Value>,
    key: &'static str,
    alias: Option<&'static str>,
    place: &Place,
) -> Result<bool> {
    match lookup(object, key, alias, place)? {
        None => Ok(false),
        Some((_, Value::Bool(flag))) => Ok(*flag),
        Some((name, _)) => Err(PolicyError::at(
            place,
            Some(name),
            format!("`{name}` in {place} must be true or false"),
        )),
    }
}

fn non_empty_string<'v>(key: &str, value: &'v Value, place: &Place) -> Result<&'v str> {
    match value {
        Value::String(text) if !text.is_empty() => Ok(text),
        Value::String(_) => Err(PolicyError::at(
            place,
            Some(key),
            format!("`{key}` in {place} must not be empty"),
        )),
        _ => Err(PolicyError::at(
            place,
            Some(key),
            format!("`{key}` in {place} must be a string"),
        )),
    }
}

fn parse_effect(key: &str, value: &Value, place: &Place) -> Result<Effect> {
    let text = non_empty_string(key, value, place)?;
    match text.to_ascii_lowercase().as_str() {
        "allow" => Ok(Effect::Allow),
        "deny" => Ok(Effect::Deny),
        _ => Err(PolicyError::at(
            place,
            Some(key),
            format!("`{key}` in {place} must be `allow` or `deny`, not `{text}`"),
        )),
    }
}

/// A string, or a list of non-empty strings (`allow_empty_list`: whether `[]` is accepted).
fn string_list(
    key: &str,
    value: &Value,
    place: &Place,
    allow_empty_list: bool,
) -> Result<Vec<String>> {
    match value {
        Value::String(_) => Ok(vec![non_empty_string(key, value, place)?.to_owned()]),
        Value::Array(items) => {
            if items.is_empty() && !allow_empty_list {
                return Err(PolicyError::at(
                    place,
                    Some(key),
                    format!("`{key}` in {place} must not be empty"),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    Ok(non_empty_string(&format!("{key}[{i}]"), item, place)?.to_owned())
                })
                .collect()
        }
        _ => Err(PolicyError::at(
            place,
            Some(key),
            format!("`{key}` in {place} must be a string or a list of strings"),
        )),
    }
}

fn parse_groups_to_roles(key: &str, value: &Value) -> Result<Vec<(Glob, String)>> {
    let Value::Object(map) = value else {
        return Err(PolicyError::at(
            &Place::Top,
            Some(key),
            format!("`{key}` in the policy must be an object mapping group globs to role names"),
        ));
    };
    map.iter()
        .map(|(group, role)| {
            if group.is_empty() {
                return Err(PolicyError::at(
                    &Place::Top,
                    Some(key),
                    format!("`{key}` in the policy has an empty group glob"),
                ));
            }
            let role = non_empty_string(&format!("{key}.{group}"), role, &Place::Top)?;
            Ok((Glob::new(group), role.to_owned()))
        })
        .collect()
}

fn parse_rules(items: &[Value]) -> Result<Vec<Rule>> {
    let mut seen_ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut rules = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::Object(object) = item else {
            return Err(PolicyError::at(
                &Place::Rule { index, id: None },
                None,
                format!("rule {index} must be an object"),
            ));
        };
        let id = object.get("id").and_then(Value::as_str).map(str::to_owned);
        let place = Place::Rule { index, id };
        check_keys(object, RULE_KEYS, &place)?;
        if let Some(value) = object.get("id") {
            let id = non_empty_string("id", value, &place)?;
            if let Some(first) = seen_ids.insert(id, index) {
                return Err(PolicyError::at(
                    &place,
                    Some("id"),
                    format!("duplicate id `{id}` in rule {index} (already used by rule {first})"),
                ));
            }
        }
        rules.push(parse_rule(object, &place)?);
    }
    Ok(rules)
}

fn parse_rule(object: &Map<String, Value>, place: &Place) -> Result<Rule> {
    let methods = match (object.get("methods"), object.get("rpc_method")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::at(
                place,
                Some("methods"),
                format!("both `methods` and `rpc_method` in {place}; keep one"),
            ))
        }
        (Some(value), None) => string_list("methods", value, place, false)?,
        (None, Some(value)) => string_list("rpc_method", value, place, false)?,
        (None, None) => {
            return Err(PolicyError::at(
                place,
                Some("methods"),
                format!("missing `methods` in {place}"),
            ))
        }
    };
    let mut target: Option<(TargetKind, Glob)> = None;
    for kind in TargetKind::ALL {
        if let Some(value) = object.get(kind.key()) {
            if let Some((other, _)) = &target {
                return Err(PolicyError::at(
                    place,
                    Some(kind.key()),
                    format!(
                        "both `{}` and `{}` in {place}; a rule targets one kind",
                        other.key(),
                        kind.key()
                    ),
                ));
            }
            target = Some((kind, Glob::new(non_empty_string(kind.key(), value, place)?)));
        }
    }
    let effect = match object.get("effect") {
        Some(value) => parse_effect("effect", value, place)?,
        None => Effect::Allow,
    };
    let list = |key: &'static str, alias: &'static str| -> Result<Vec<String>> {
        match lookup(object, key, Some(alias), place)? {
            Some((name, value)) => string_list(name, value, place, true),
            None => Ok(Vec::new()),
        }
    };
    let claims = match lookup(object, "allow_claims", Some("allowClaims"), place)? {
        None => Vec::new(),
        Some((name, Value::Object(map))) => map
            .iter()
            .map(|(claim, accepted)| {
                Ok((
                    claim.clone(),
                    string_list(&format!("{name}.{claim}"), accepted, place, false)?,
                ))
            })
            .collect::<Result<_>>()?,
        Some((name, _)) => {
            return Err(PolicyError::at(
                place,
                Some(name),
                format!(
                    "`{name}` in {place} must be an object mapping claim names to accepted values"
                ),
            ))
        }
    };
    let message = match object.get("message") {
        None => None,
        Some(Value::String(text)) => (!text.is_empty()).then(|| text.clone()),
        Some(_) => {
            return Err(PolicyError::at(
                place,
                Some("message"),
                format!("`message` in {place} must be a string"),
            ))
        }
    };
    let id = match place {
        Place::Rule { id, .. } => id.clone(),
        Place::Top => None,
    };
    Ok(Rule {
        id,
        methods: methods.iter().map(|m| Glob::new(m)).collect(),
        target,
        effect,
        allow_anonymous: lookup_bool(object, "allow_anonymous", Some("allowAnonymous"), place)?,
        subjects: list("allow_subjects", "allowSubjects")?,
        roles: list("allow_roles", "allowRoles")?,
        scopes: list("allow_scopes", "allowScopes")?
            .iter()
            .map(|s| Glob::new(s))
            .collect(),
        claims,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(config: Value) -> Policy {
        Policy::from_value(&config).expect("valid policy")
    }

    fn error(config: Value) -> String {
        Policy::from_value(&config)
            .expect_err("invalid policy")
            .message()
            .to_owned()
    }

    fn seed() -> Policy {
        policy(json!({
            "default_effect": "deny",
            "hide_unauthorized_capabilities": true,
            "hide_unauthorized_tools": true,
            "rules": [
                {"methods": ["initialize", "ping", "tools/list", "tasks/list", "tasks/get", "tasks/result"],
                 "allow_subjects": ["alice"], "effect": "allow"},
                {"methods": ["tools/call"], "tool": "deploy_*", "allow_roles": ["ops"], "effect": "allow"}
            ]
        }))
    }

    #[test]
    fn seed_policy_decisions() {
        let policy = seed();
        let alice = policy.bind("alice", &["ops"], &["tools:*"], None);
        let bob = policy.bind("bob", &[] as &[&str], &[], None);
        assert_eq!(
            policy.decide(&alice, "tools/list", None),
            Decision {
                allowed: true,
                rule: Some(0)
            }
        );
        assert!(
            policy
                .decide(&alice, "tools/call", Some("deploy_prod"))
                .allowed
        );
        assert!(!policy.decide(&alice, "tools/call", Some("other")).allowed);
        assert!(!policy.decide(&alice, "tools/call", None).allowed);
        assert_eq!(
            policy.decide(&bob, "tools/list", None),
            Decision {
                allowed: false,
                rule: None
            }
        );
        assert!(!policy.decide(policy.anonymous(), "ping", None).allowed);
        assert!(policy.allows_any(&alice, "tools/call"));
        assert!(!policy.allows_any(&bob, "tools/call"));
    }

    #[test]
    fn conditions_are_or_ed_and_failing_falls_through() {
        let policy = policy(json!({"default_effect": "allow", "rules": [
            {"methods": "x", "effect": "deny", "allow_subjects": ["bob"], "allow_claims": {"tenant": ["evil", "7"]}},
            {"methods": "x", "effect": "allow", "allow_scopes": ["files:*"]},
        ]}));
        let bob = policy.bind("bob", &[] as &[&str], &[], None);
        assert_eq!(policy.decide(&bob, "x", None).rule, Some(0));
        let claims = json!({"tenant": [7, "acme"]});
        let carol = policy.bind("carol", &[] as &[&str], &[], claims.as_object());
        assert_eq!(policy.decide(&carol, "x", None).rule, Some(0));
        let dave = policy.bind("dave", &[] as &[&str], &["files:read"], None);
        assert_eq!(
            policy.decide(&dave, "x", None),
            Decision {
                allowed: true,
                rule: Some(1)
            }
        );
        let erin = policy.bind("erin", &[] as &[&str], &["files"], None);
        assert_eq!(
            policy.decide(&erin, "x", None),
            Decision {
                allowed: true,
                rule: None
            }
        );
    }

    #[test]
    fn groups_map_to_roles() {
        let policy = policy(
            json!({"groupsClaim": "grp", "groups_to_roles": {"eng-*": "dev"}, "rules": [
                {"methods": "*", "allow_roles": "dev"}
            ]}),
        );
        assert_eq!(policy.claim_names(), ["grp"]);
        let claims = json!({"grp": ["eng-core", 3]});
        let p = policy.bind("p", &[] as &[&str], &[], claims.as_object());
        assert!(policy.decide(&p, "ping", None).allowed);
        let claims = json!({"grp": "sales"});
        let q = policy.bind("q", &[] as &[&str], &[], claims.as_object());
        assert!(!policy.decide(&q, "ping", None).allowed);
    }

    #[test]
    fn scope_hint_ignores_deny_rules_for_others() {
        let policy = policy(json!({"rules": [
            {"methods": "tools/call", "effect": "deny", "allow_subjects": ["bob"], "message": "no bob"},
            {"methods": "tools/call", "allow_scopes": ["tools:call"], "message": "need tools:call"},
        ]}));
        let dave = policy.bind("dave", &[] as &[&str], &[], None);
        let why = policy.explain(&dave, "tools/call", Some("t"));
        assert_eq!(why.missing_scopes, ["tools:call"]);
        assert_eq!(why.message.as_deref(), Some("need tools:call"));
        let bob = policy.bind("bob", &[] as &[&str], &[], None);
        let why = policy.explain(&bob, "tools/call", Some("t"));
        assert_eq!((why.rule, why.missing_scopes.len()), (Some(0), 0));
        assert_eq!(why.message.as_deref(), Some("no bob"));
    }

    #[test]
    fn targets_need_the_right_kind() {
        let policy = policy(json!({"rules": [
            {"methods": "*", "prompt": "greet*"},
            {"methods": "resources/*", "resource": "file:///pub/*"},
        ]}));
        let anyone = policy.anonymous();
        assert!(
            policy
                .decide(anyone, "prompts/get", Some("greeting"))
                .allowed
        );
        assert!(
            !policy
                .decide(anyone, "tools/call", Some("greeting"))
                .allowed
        );
        assert!(
            policy
                .decide(anyone, "resources/subscribe", Some("file:///pub/a"))
                .allowed
        );
        assert!(!policy.decide(anyone, "resources/list", None).allowed);
        assert!(policy.allows_any(anyone, "resources/read"));
    }

    #[test]
    fn many_targeted_rules_use_the_glob_set() {
        let mut rules: Vec<Value> = (0..40)
            .map(|i| json!({"methods": "tools/call", "tool": format!("t{i}_*"), "effect": if i % 2 == 0 {"allow"} else {"deny"}}))
            .collect();
        rules.push(json!({"methods": "tools/call", "tool": "*", "effect": "deny"}));
        let policy = policy(json!({"default_effect": "allow", "rules": rules}));
        let anyone = policy.anonymous();
        assert_eq!(
            policy.decide(anyone, "tools/call", Some("t38_x")).rule,
            Some(38)
        );
        assert_eq!(
            policy.decide(anyone, "tools/call", Some("t39_x")).rule,
            Some(39)
        );
        assert_eq!(
            policy.decide(anyone, "tools/call", Some("zzz")).rule,
            Some(40)
        );
        assert_eq!(policy.decide(anyone, "tools/call", None).rule, None);
    }

    #[test]
    fn strict_loading_names_rule_and_key() {
        assert_eq!(
            error(
                json!({"rules": [{"methods": "a"}, {"methods": "a"}, {"methods": "a", "allow_role": ["x"]}]})
            ),
            "unknown key `allow_role` in rule 2 (did you mean `allow_roles`?)"
        );
        assert_eq!(
            error(json!({"rules": [{"id": "ops", "methods": "a", "efect": "deny"}]})),
            "unknown key `efect` in rule 0 `ops` (did you mean `effect`?)"
        );
        assert_eq!(
            error(json!({"defaultEffect": "permit"})),
            "`defaultEffect` in the policy must be `allow` or `deny`, not `permit`"
        );
        assert_eq!(
            error(json!({"rules": {}})),
            "`rules` must be a list of rule objects"
        );
        assert_eq!(
            error(json!({"rules": [{"methods": []}]})),
            "`methods` in rule 0 must not be empty"
        );
        assert_eq!(
            error(json!({"rules": [{"methods": ["a", 3]}]})),
            "`methods[1]` in rule 0 must be a string"
        );
        assert_eq!(
            error(json!({"rules": [{"id": "a", "methods": "x"}, {"id": "a", "methods": "y"}]})),
            "duplicate id `a` in rule 1 (already used by rule 0)"
        );
        assert_eq!(
            error(json!({"rules": [{"methods": "x", "allow_roles": ["a"], "allowRoles": ["b"]}]})),
            "both `allow_roles` and `allowRoles` in rule 0; keep one"
        );
        assert_eq!(error(json!({"rules": [{}]})), "missing `methods` in rule 0");
        assert_eq!(error(json!([])), "policy must be a JSON object");
        assert!(Policy::from_json("{").is_err());
        assert_eq!(
            error(json!({"hide_unauthorised_tools": true})),
            "unknown key `hide_unauthorised_tools` in the policy (did you mean `hide_unauthorized_tools`?)"
        );
    }

    #[test]
    fn load_errors_carry_their_place() {
        let place = |config: Value| {
            let error = Policy::from_value(&config).expect_err("invalid policy");
            (
                error.rule_index(),
                error.rule_id().map(str::to_owned),
                error.key().map(str::to_owned),
            )
        };
        let rules = |rules: Value| json!({ "rules": rules });
        assert_eq!(
            place(rules(
                json!([{"methods": "a"}, {"id": "ops", "methods": ["a", 3]}])
            )),
            (Some(1), Some("ops".into()), Some("methods".into()))
        );
        assert_eq!(
            place(rules(json!([{"methods": "a", "allow_role": "x"}]))),
            (Some(0), None, Some("allow_role".into()))
        );
        assert_eq!(
            place(rules(
                json!([{"methods": "a", "allow_claims": {"team": 3}}])
            )),
            (Some(0), None, Some("allow_claims".into()))
        );
        assert_eq!(
            place(rules(
                json!([{"id": "a", "methods": "x"}, {"id": "a", "methods": "y"}])
            )),
            (Some(1), Some("a".into()), Some("id".into()))
        );
        assert_eq!(place(rules(json!([3]))), (Some(0), None, None));
        assert_eq!(
            place(json!({"default_effect": "permit"})),
            (None, None, Some("default_effect".into()))
        );
        assert_eq!(
            place(json!({"rules": {}})),
            (None, None, Some("rules".into()))
        );
        assert_eq!(place(json!([])), (None, None, None));
    }
}
