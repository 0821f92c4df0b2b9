//! Bounded, stable-Rust stand-in for the cargo-fuzz targets in `rust/fuzz`: the same entry points
//! (`pymcp_core::fuzz`) fed with generated inputs that look like what each parser reads.
//! `PYMCP_FUZZ_CASES` sets the number of cases per parser (default 3000); `PYMCP_FUZZ_SEED` the seed.

use pymcp_core::fuzz;

/// xorshift64*: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Text over `alphabet`, with multi-byte characters and the glob metacharacters.
    fn text(&mut self, alphabet: &[&str], max: usize) -> String {
        (0..self.below(max + 1))
            .map(|_| self.pick(alphabet))
            .collect()
    }
}

const GLOB_ALPHABET: &[&str] = &[
    "*", "?", "[", "]", "!", "-", "^", "\\", "a", "b", "z", "_", "/", "é", "😀", "\u{0}", "\n",
    "ab",
];

const JSON_WORDS: &[&str] = &[
    "rules",
    "methods",
    "rpc_method",
    "tool",
    "prompt",
    "resource",
    "effect",
    "allow",
    "deny",
    "allow_roles",
    "allowRoles",
    "allow_subjects",
    "allow_scopes",
    "allow_claims",
    "allow_anonymous",
    "default_effect",
    "defaultEffect",
    "groups_claim",
    "groups_to_roles",
    "hide_unauthorized_tools",
    "id",
    "message",
    "jsonrpc",
    "2.0",
    "method",
    "params",
    "result",
    "error",
    "code",
    "tools/*",
    "*",
    "[a-",
    "é",
    "",
];

fn cases() -> usize {
    std::env::var("PYMCP_FUZZ_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3000)
}

fn rng() -> Rng {
    let seed = std::env::var("PYMCP_FUZZ_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15_u64);
    Rng(seed | 1)
}

/// A random JSON value biased towards policy and JSON-RPC shapes.
fn json(rng: &mut Rng, depth: usize) -> String {
    let choice = if depth == 0 {
        rng.below(6)
    } else {
        rng.below(9)
    };
    match choice {
        0 => "null".into(),
        1 => ["true", "false"][rng.below(2)].into(),
        2 => ["0", "-1", "1.5", "9223372036854775808", "1e400"][rng.below(5)].into(),
        3..=5 => {
            let word = if rng.below(3) == 0 {
                rng.text(GLOB_ALPHABET, 6)
            } else {
                rng.pick(JSON_WORDS).to_owned()
            };
            serde_json::to_string(&word).unwrap_or_default()
        }
        6 => {
            let items: Vec<String> = (0..rng.below(4)).map(|_| json(rng, depth - 1)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let members: Vec<String> = (0..rng.below(5))
                .map(|_| {
                    let key = serde_json::to_string(rng.pick(JSON_WORDS)).unwrap_or_default();
                    format!("{key}:{}", json(rng, depth - 1))
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
    }
}

#[test]
fn glob_never_panics() {
    let mut rng = rng();
    for _ in 0..cases() {
        let parts: Vec<String> = (0..=rng.below(4))
            .map(|_| rng.text(GLOB_ALPHABET, 12))
            .collect();
        fuzz::glob(parts.join("\0").as_bytes());
    }
}

#[test]
fn policy_never_panics() {
    let mut rng = rng();
    for _ in 0..cases() {
        let rules: Vec<String> = (0..rng.below(4)).map(|_| json(&mut rng, 3)).collect();
        let text = match rng.below(4) {
            0 => json(&mut rng, 4),
            _ => format!(
                r#"{{"default_effect":{},"rules":[{}]}}"#,
                json(&mut rng, 0),
                rules.join(",")
            ),
        };
        fuzz::policy(text.as_bytes());
    }
}

#[test]
fn jsonrpc_never_panics() {
    let mut rng = rng();
    for _ in 0..cases() {
        let text = json(&mut rng, 4);
        fuzz::jsonrpc(text.as_bytes());
        // Raw bytes as well: truncated and non-UTF-8 bodies.
        let cut = rng.below(text.len() + 1);
        let mut bytes = text.into_bytes();
        bytes.truncate(cut);
        bytes.push(0xFF);
        fuzz::jsonrpc(&bytes);
        fuzz::policy(&bytes);
        fuzz::glob(&bytes);
    }
}
