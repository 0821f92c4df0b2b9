//! Glob patterns with exactly the semantics of Python 3.11's `fnmatch.fnmatchcase`.
//!
//! `*` matches any run of characters (including `/` and newlines), `?` one character, `[seq]` /
//! `[!seq]` one character in / not in a set. There is no escaping: a backslash is an ordinary
//! character. An unclosed `[` is a literal `[`. Sets follow `fnmatch.translate` to the letter,
//! including its odd corners: a `]` right after `[` or `[!` is literal, a `-` at either edge is
//! literal, and a reversed range such as `z-a` disappears together with both of its end points
//! (so `[z-a]` never matches and `[z-a!]` matches any character). Matching is by code point and
//! case-sensitive.
//!
//! Patterns made only of literal text and stars (`deploy_*`, `*.txt`, `*admin*`, `a*b*c`) match
//! as prefix / substring / suffix checks; the rest run a small backtracking matcher that is
//! linear for fnmatch patterns because every non-star token consumes exactly one character.

use memchr::memmem;
use rustc_hash::FxHashMap;

/// One character set `[...]`: inclusive code point ranges, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CharSet {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl CharSet {
    #[inline]
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// One step of a general pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyChar,
    Set(CharSet),
    /// A set that can never match (`[z-a]`): `(?!)` in `fnmatch.translate`.
    Nothing,
    Star,
}

impl Token {
    #[inline]
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Char(expected) => *expected == c,
            Token::AnyChar => true,
            Token::Set(set) => set.contains(c),
            Token::Nothing | Token::Star => false,
        }
    }
}

/// How a compiled pattern matches.
#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard at all: plain equality.
    Literal(String),
    /// Literal text around at least one star: `prefix*middle[0]*...*suffix`.
    Segments {
        prefix: String,
        middle: Vec<String>,
        /// One prebuilt searcher per middle piece (building it per call costs more than the
        /// search on short names).
        finders: Vec<memmem::Finder<'static>>,
        suffix: String,
    },
    /// Anything with `?` or sets. `prefix`/`suffix` are literal text the name must start/end with
    /// (a cheap pre-check before running the tokens).
    General {
        tokens: Vec<Token>,
        prefix: String,
        suffix: String,
        /// The longest run of literal characters (every match contains it).
        literal: String,
    },
}

/// A compiled glob pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    source: String,
    matcher: Matcher,
}

/// What a [`GlobSet`] can index a pattern by.
enum Shape<'a> {
    Literal(&'a str),
    Prefix(&'a str),
    Suffix(&'a str),
    /// Anything else, with the longest literal text every match must contain.
    Other(&'a str),
}

impl Glob {
    /// Compile `pattern`. Every string is a valid fnmatch pattern, so this cannot fail.
    pub fn new(pattern: &str) -> Glob {
        let tokens = tokenize(pattern);
        Glob {
            source: pattern.to_owned(),
            matcher: build_matcher(tokens),
        }
    }

    /// The pattern text this glob was compiled from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `name` matches, exactly as `fnmatch.fnmatchcase(name, pattern)`.
    #[inline]
    pub fn is_match(&self, name: &str) -> bool {
        match &self.matcher {
            Matcher::Literal(text) => same_bytes(name.as_bytes(), text.as_bytes()),
            Matcher::Segments {
                prefix,
                finders,
                suffix,
                ..
            } => match_segments(name, prefix, finders, suffix),
            Matcher::General {
                tokens,
                prefix,
                suffix,
                ..
            } => {
                name.len() >= prefix.len() + suffix.len()
                    && has_prefix(name, prefix)
                    && has_suffix(name, suffix)
                    && match_tokens(tokens, name)
            }
        }
    }

    /// Whether this pattern matches every string (`*`).
    pub fn matches_everything(&self) -> bool {
        matches!(&self.matcher, Matcher::Segments { prefix, middle, suffix, .. }
            if prefix.is_empty() && middle.is_empty() && suffix.is_empty())
    }

    /// A string this pattern matches, with `fill` where each star is, or `None` when the pattern
    /// matches nothing (`[z-a]`).
    pub fn example(&self, fill: &str) -> Option<String> {
        match &self.matcher {
            Matcher::Literal(text) => Some(text.clone()),
            Matcher::Segments {
                prefix,
                middle,
                suffix,
                ..
            } => Some(format!("{prefix}{fill}{}{fill}{suffix}", middle.join(fill))),
            Matcher::General { tokens, .. } => {
                let mut text = String::new();
                for token in tokens {
                    match token {
                        Token::Char(c) => text.push(*c),
                        Token::AnyChar => text.push('x'),
                        Token::Set(set) => text.push(example_member(set)?),
                        Token::Nothing => return None,
                        Token::Star => text.push_str(fill),
                    }
                }
                Some(text)
            }
        }
    }

    fn shape(&self) -> Shape<'_> {
        match &self.matcher {
            Matcher::Literal(text) => Shape::Literal(text),
            Matcher::Segments {
                prefix,
                middle,
                suffix,
                ..
            } if middle.is_empty() && suffix.is_empty() => Shape::Prefix(prefix),
            Matcher::Segments {
                prefix,
                middle,
                suffix,
                ..
            } if middle.is_empty() && prefix.is_empty() => Shape::Suffix(suffix),
            Matcher::Segments {
                prefix,
                middle,
                suffix,
                ..
            } => Shape::Other(
                std::iter::once(prefix)
                    .chain(middle)
                    .chain(std::iter::once(suffix))
                    .max_by_key(|piece| piece.len())
                    .map_or("", String::as_str),
            ),
            Matcher::General { literal, .. } => Shape::Other(literal),
        }
    }
}

/// Whether `name` matches `pattern` (compiles the pattern each time; keep a [`Glob`] to reuse it).
pub fn fnmatchcase(name: &str, pattern: &str) -> bool {
    Glob::new(pattern).is_match(name)
}

fn example_member(set: &CharSet) -> Option<char> {
    if !set.negated {
        return set.ranges.first().map(|&(lo, _)| lo);
    }
    ['x', 'a', '0', '_', '-', '.', '~', '\u{e000}']
        .into_iter()
        .find(|c| set.contains(*c))
}

/// Port of the tokenizing half of `fnmatch.translate` (Python 3.11).
fn tokenize(pattern: &str) -> Vec<Token> {
    let pat: Vec<char> = pattern.chars().collect();
    let n = pat.len();
    let mut tokens = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let c = pat[i];
        i += 1;
        match c {
            '*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => tokens.push(Token::AnyChar),
            '[' => {
                let mut j = i;
                if j < n && pat[j] == '!' {
                    j += 1;
                }
                if j < n && pat[j] == ']' {
                    j += 1;
                }
                while j < n && pat[j] != ']' {
                    j += 1;
                }
                if j >= n {
                    tokens.push(Token::Char('['));
                } else {
                    tokens.push(set_token(&pat, i, j));
                    i = j + 1;
                }
            }
            other => tokens.push(Token::Char(other)),
        }
    }
    tokens
}

/// The set `pat[start..end]` (between `[` and `]`), following `fnmatch.translate`'s chunking:
/// the text is cut at range hyphens into chunks; the last character of one chunk and the first of
/// the next form a range; reversed ranges are removed together with their end points.
fn set_token(pat: &[char], start: usize, end: usize) -> Token {
    let stuff = &pat[start..end];
    let mut chunks: Vec<Vec<char>> = Vec::new();
    if !stuff.contains(&'-') {
        chunks.push(stuff.to_vec());
    } else {
        let mut chunk_start = start;
        let mut k = if pat[start] == '!' {
            start + 2
        } else {
            start + 1
        };
        while let Some(hyphen) = (k < end)
            .then(|| pat[k..end].iter().position(|&c| c == '-'))
            .flatten()
            .map(|offset| k + offset)
        {
            chunks.push(pat[chunk_start..hyphen].to_vec());
            chunk_start = hyphen + 1;
            k = hyphen + 3;
        }
        let last = &pat[chunk_start..end];
        if last.is_empty() {
            if let Some(previous) = chunks.last_mut() {
                previous.push('-');
            }
        } else {
            chunks.push(last.to_vec());
        }
        for k in (1..chunks.len()).rev() {
            let (left, right) = (chunks[k - 1].last().copied(), chunks[k].first().copied());
            if let (Some(lo), Some(hi)) = (left, right) {
                if lo > hi {
                    let tail: Vec<char> = chunks[k][1..].to_vec();
                    let merged = &mut chunks[k - 1];
                    merged.pop();
                    merged.extend(tail);
                    chunks.remove(k);
                }
            }
        }
    }
    if chunks.iter().all(Vec::is_empty) {
        return Token::Nothing;
    }
    if chunks.len() == 1 && chunks[0] == ['!'] {
        return Token::AnyChar;
    }
    let negated = chunks[0].first() == Some(&'!');
    if negated {
        chunks[0].remove(0);
    }
    let mut ranges = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        // A chunk's first character closes the range opened by the previous chunk's last one.
        let from = usize::from(index > 0);
        let to = if index + 1 < chunks.len() {
            chunk.len().saturating_sub(1)
        } else {
            chunk.len()
        };
        for &c in chunk.iter().take(to).skip(from) {
            ranges.push((c, c));
        }
        if index + 1 < chunks.len() {
            if let (Some(&lo), Some(&hi)) = (chunk.last(), chunks[index + 1].first()) {
                ranges.push((lo, hi));
            }
        }
    }
    if !negated && ranges.len() == 1 && ranges[0].0 == ranges[0].1 {
        return Token::Char(ranges[0].0);
    }
    Token::Set(CharSet { negated, ranges })
}

fn build_matcher(tokens: Vec<Token>) -> Matcher {
    let is_text = |token: &Token| matches!(token, Token::Char(_) | Token::Star);
    if tokens.iter().all(is_text) {
        let mut pieces: Vec<String> = vec![String::new()];
        for token in &tokens {
            match token {
                Token::Char(c) => pieces.last_mut().map_or((), |piece| piece.push(*c)),
                _ => pieces.push(String::new()),
            }
        }
        if pieces.len() == 1 {
            return Matcher::Literal(pieces.remove(0));
        }
        let suffix = pieces.pop().unwrap_or_default();
        let prefix = pieces.remove(0);
        return Matcher::Segments {
            prefix,
            finders: pieces
                .iter()
                .map(|piece| memmem::Finder::new(piece).into_owned())
                .collect(),
            middle: pieces,
            suffix,
        };
    }
    let prefix: String = tokens
        .iter()
        .map_while(|token| match token {
            Token::Char(c) => Some(*c),
            _ => None,
        })
        .collect();
    // A literal suffix is only a safe pre-check when a star separates it from the prefix;
    // without stars the two could overlap, and the length check would be wrong.
    let suffix: String = if tokens.contains(&Token::Star) {
        let mut tail: Vec<char> = tokens
            .iter()
            .rev()
            .map_while(|token| match token {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect();
        tail.reverse();
        tail.into_iter().collect()
    } else {
        String::new()
    };
    let mut literal = String::new();
    let mut run = String::new();
    for token in &tokens {
        match token {
            Token::Char(c) => run.push(*c),
            _ => run.clear(),
        }
        if run.len() > literal.len() {
            literal.clone_from(&run);
        }
    }
    Matcher::General {
        tokens,
        prefix,
        suffix,
        literal,
    }
}

// Names and pattern pieces are short: comparing in place beats a call into the C library's
// `memcmp` (measured at most of a GlobSet lookup's time) and `str::find`'s searcher set-up.

/// Whether two byte strings are equal, eight bytes at a time.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut left = a.chunks_exact(8);
    let mut right = b.chunks_exact(8);
    for (x, y) in (&mut left).zip(&mut right) {
        if u64::from_ne_bytes(x.try_into().unwrap_or([0; 8]))
            != u64::from_ne_bytes(y.try_into().unwrap_or([0; 8]))
        {
            return false;
        }
    }
    let (x, y) = (left.remainder(), right.remainder());
    (0..x.len()).all(|i| x[i] == y[i])
}

#[inline]
fn has_prefix(name: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || name
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| same_bytes(head, prefix.as_bytes()))
}

#[inline]
fn has_suffix(name: &str, suffix: &str) -> bool {
    suffix.is_empty()
        || name
            .len()
            .checked_sub(suffix.len())
            .is_some_and(|at| same_bytes(&name.as_bytes()[at..], suffix.as_bytes()))
}

#[inline]
fn match_segments(
    name: &str,
    prefix: &str,
    middle: &[memmem::Finder<'static>],
    suffix: &str,
) -> bool {
    if name.len() < prefix.len() + suffix.len()
        || !has_prefix(name, prefix)
        || !has_suffix(name, suffix)
    {
        return false;
    }
    // Both ends are literal, so the leftmost occurrence of each middle piece is always safe.
    // Bytes, not `str` slices: nothing here can land inside a character and panic.
    let mut rest = &name.as_bytes()[prefix.len()..name.len() - suffix.len()];
    for piece in middle {
        match piece.find(rest) {
            Some(at) => rest = &rest[at + piece.needle().len()..],
            None => return false,
        }
    }
    true
}

#[inline]
fn char_at(name: &str, at: usize) -> Option<char> {
    name[at..].chars().next()
}

/// Backtracking to the last star only: every other token consumes exactly one character, so the
/// leftmost match of each star-free run is always the right one (the same reason
/// `fnmatch.translate` can use atomic groups).
fn match_tokens(tokens: &[Token], name: &str) -> bool {
    let (mut token, mut at) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    loop {
        if let Some(current) = tokens.get(token) {
            if *current == Token::Star {
                resume = Some((token + 1, at));
                token += 1;
                continue;
            }
            if let Some(c) = char_at(name, at) {
                if current.matches(c) {
                    token += 1;
                    at += c.len_utf8();
                    continue;
                }
            }
        } else if at == name.len() {
            return true;
        }
        match resume {
            Some((after_star, star_at)) => match char_at(name, star_at) {
                Some(c) => {
                    let next = star_at + c.len_utf8();
                    resume = Some((after_star, next));
                    token = after_star;
                    at = next;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

/// Many patterns compiled into one matcher that answers "which patterns match this name".
///
/// Literal patterns live in a hash map, `prefix*` and `*suffix` patterns in hash maps keyed by
/// text and probed once per distinct length. The rest (infix, multi-star, `?`, sets) are indexed
/// by the first three bytes of the longest literal text they require: sliding a three-byte window
/// over the name finds the few worth running. Patterns without such text are tried one by one.
#[derive(Debug, Clone, Default)]
pub struct GlobSet {
    globs: Vec<Glob>,
    literals: FxHashMap<String, Vec<usize>>,
    prefixes: FxHashMap<String, Vec<usize>>,
    prefix_lengths: Vec<usize>,
    suffixes: FxHashMap<String, Vec<usize>>,
    suffix_lengths: Vec<usize>,
    by_window: FxHashMap<u32, Vec<usize>>,
    window_filter: WindowFilter,
    others: Vec<usize>,
}

/// One bit per hashed window key: most windows of a name index nothing, and this answers that
/// without a hash map probe.
#[derive(Debug, Clone, Default)]
struct WindowFilter {
    bits: Vec<u64>,
}

impl WindowFilter {
    const BITS: u32 = 16;

    #[inline]
    fn slot(key: u32) -> usize {
        (key.wrapping_mul(0x9E37_79B1) >> (32 - Self::BITS)) as usize
    }

    fn insert(&mut self, key: u32) {
        if self.bits.is_empty() {
            self.bits = vec![0; (1 << Self::BITS) / 64];
        }
        let slot = Self::slot(key);
        self.bits[slot / 64] |= 1 << (slot % 64);
    }

    #[inline]
    fn might_hold(&self, key: u32) -> bool {
        let slot = Self::slot(key);
        self.bits
            .get(slot / 64)
            .is_some_and(|word| word & (1 << (slot % 64)) != 0)
    }
}

const WINDOW: usize = 3;

#[inline]
fn window_key(bytes: &[u8]) -> u32 {
    u32::from(bytes[0]) | (u32::from(bytes[1]) << 8) | (u32::from(bytes[2]) << 16)
}

impl GlobSet {
    /// Compile `patterns`; match results are indexes into this list.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> GlobSet {
        let globs: Vec<Glob> = patterns.iter().map(|p| Glob::new(p.as_ref())).collect();
        GlobSet::from_globs(globs)
    }

    /// Index already compiled globs.
    pub fn from_globs(globs: Vec<Glob>) -> GlobSet {
        let mut set = GlobSet::default();
        // How many patterns' literal text holds each window: each pattern is filed under its
        // rarest window, so patterns sharing a stem (`*mid1*`, `*mid2*`) land in different buckets.
        let mut window_counts: FxHashMap<u32, usize> = FxHashMap::default();
        for glob in &globs {
            if let Shape::Other(literal) = glob.shape() {
                let mut keys: Vec<u32> =
                    literal.as_bytes().windows(WINDOW).map(window_key).collect();
                keys.sort_unstable();
                keys.dedup();
                for key in keys {
                    *window_counts.entry(key).or_default() += 1;
                }
            }
        }
        for (index, glob) in globs.iter().enumerate() {
            match glob.shape() {
                Shape::Literal(text) => set.literals.entry(text.into()).or_default().push(index),
                Shape::Prefix(text) => {
                    set.prefixes.entry(text.into()).or_default().push(index);
                    set.prefix_lengths.push(text.len());
                }
                Shape::Suffix(text) => {
                    set.suffixes.entry(text.into()).or_default().push(index);
                    set.suffix_lengths.push(text.len());
                }
                Shape::Other(literal) => {
                    let rarest = literal
                        .as_bytes()
                        .windows(WINDOW)
                        .map(window_key)
                        .min_by_key(|key| window_counts.get(key).copied().unwrap_or(0));
                    match rarest {
                        Some(key) => {
                            set.by_window.entry(key).or_default().push(index);
                            set.window_filter.insert(key);
                        }
                        None => set.others.push(index),
                    }
                }
            }
        }
        for lengths in [&mut set.prefix_lengths, &mut set.suffix_lengths] {
            lengths.sort_unstable();
            lengths.dedup();
        }
        set.globs = globs;
        set
    }

    /// The compiled patterns, in the order given.
    pub fn globs(&self) -> &[Glob] {
        &self.globs
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.globs.len()
    }

    /// Whether the set holds no pattern.
    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// Call `found` with the index of every pattern matching `name`, in no particular order and
    /// possibly more than once (when the text a pattern is indexed by occurs twice in `name`).
    #[inline]
    pub fn for_each_match(&self, name: &str, mut found: impl FnMut(usize)) {
        let mut report = |indexes: Option<&Vec<usize>>| {
            indexes
                .into_iter()
                .flatten()
                .for_each(|&index| found(index));
        };
        if !self.literals.is_empty() {
            report(self.literals.get(name));
        }
        for &length in self.prefix_lengths.iter().take_while(|&&l| l <= name.len()) {
            if let Some(head) = name.get(..length) {
                report(self.prefixes.get(head));
            }
        }
        for &length in self.suffix_lengths.iter().take_while(|&&l| l <= name.len()) {
            if let Some(tail) = name.get(name.len() - length..) {
                report(self.suffixes.get(tail));
            }
        }
        if !self.by_window.is_empty() {
            for window in name.as_bytes().windows(WINDOW) {
                let key = window_key(window);
                if !self.window_filter.might_hold(key) {
                    continue;
                }
                for &index in self.by_window.get(&key).into_iter().flatten() {
                    if self.globs[index].is_match(name) {
                        found(index);
                    }
                }
            }
        }
        for &index in &self.others {
            if self.globs[index].is_match(name) {
                found(index);
            }
        }
    }

    /// Indexes of the patterns matching `name`, ascending.
    pub fn matches(&self, name: &str) -> Vec<usize> {
        let mut found = Vec::new();
        self.for_each_match(name, |index| found.push(index));
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Whether any pattern matches `name`.
    pub fn is_match(&self, name: &str) -> bool {
        if self.literals.contains_key(name) {
            return true;
        }
        let mut any = false;
        self.for_each_match(name, |_| any = true);
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, yes: &[&str], no: &[&str]) {
        let glob = Glob::new(pattern);
        for name in yes {
            assert!(glob.is_match(name), "{pattern:?} should match {name:?}");
        }
        for name in no {
            assert!(
                !glob.is_match(name),
                "{pattern:?} should not match {name:?}"
            );
        }
    }

    #[test]
    fn literal_and_stars() {
        check("abc", &["abc"], &["ab", "abcd", "ABC"]);
        check("", &[""], &["a"]);
        check("*", &["", "a/b", "x\ny"], &[]);
        check(
            "deploy_*",
            &["deploy_", "deploy_prod"],
            &["deplo", "xdeploy_"],
        );
        check("*.txt", &[".txt", "a/b.txt"], &["a.txt.gz"]);
        check("*adm*", &["adm", "xadmx"], &["ad"]);
        check("a*b*c", &["abc", "aXbYc", "abbc"], &["ab", "acb"]);
        check("a**b", &["ab", "axxb"], &["a"]);
        check("aa*aa", &["aaaa", "aaxaa"], &["aaa"]);
    }

    #[test]
    fn question_mark_and_unicode() {
        check("?", &["a", "é", "😀", "\n"], &["", "ab"]);
        check("é?*", &["éa", "é😀x"], &["é"]);
        check("*?é", &["xé", "ééé"], &["é"]);
    }

    #[test]
    fn sets() {
        check("[abc]", &["a", "c"], &["d", ""]);
        check("[!abc]", &["d", "é"], &["a"]);
        check("[a-c]x", &["bx"], &["dx"]);
        check("[]a]", &["]", "a"], &["b"]);
        check("[!]a]", &["b"], &["]", "a"]);
        check("[a-]", &["a", "-"], &["b"]);
        check("[-a]", &["a", "-"], &["b"]);
        check("[!-a]", &["b"], &["-", "a"]);
        check("[\\-a]", &["\\", "]", "a"], &["b"]);
        check("[\\]", &["\\"], &["]"]);
        check("[a-b-c]", &["a", "b", "-", "c"], &["d"]);
        check("[--a]", &["-", "a", "["], &["b"]);
    }

    #[test]
    fn reversed_and_empty_ranges() {
        check("[z-a]", &[], &["a", "z", "m", ""]);
        check("[!z-a]", &["a", "!"], &[""]);
        check("[z-a!]", &["q", "!"], &[""]);
        check("[z-a!b]", &["q"], &["b"]);
        check("[a--]", &[], &["a", "-"]);
        check("[c-b-a]", &["-", "a"], &["b", "c"]);
    }

    #[test]
    fn unclosed_brackets_are_literal() {
        check("[", &["["], &[""]);
        check("[abc", &["[abc"], &["a"]);
        check("[!]", &["[!]"], &["!"]);
        check("[]", &["[]"], &[""]);
        check("x[]y]", &["x]", "xy"], &["x[]y]"]);
    }

    #[test]
    fn examples_match_their_pattern() {
        for pattern in [
            "a*b", "[!a]?x", "[z-a]", "?*[0-9]", "lit", "*", "*a*b*", "x*",
        ] {
            let glob = Glob::new(pattern);
            for fill in ["", "\u{1}", "é"] {
                match glob.example(fill) {
                    Some(example) => assert!(glob.is_match(&example), "{pattern}: {example}"),
                    None => assert_eq!(pattern, "[z-a]"),
                }
            }
        }
    }

    /// What a GlobSet must answer: each pattern tried on its own.
    fn one_by_one(patterns: &[&str], name: &str) -> Vec<usize> {
        (0..patterns.len())
            .filter(|&i| fnmatchcase(name, patterns[i]))
            .collect()
    }

    #[test]
    fn glob_set_reports_every_match() {
        let patterns = ["a", "a*", "*a", "*", "?", "[ab]*", "*x*", "ab"];
        let set = GlobSet::new(&patterns);
        for name in ["a", "ab", "ba", "x", "", "é", "aa", "axa"] {
            let expected = one_by_one(&patterns, name);
            assert_eq!(set.matches(name), expected, "{name:?}");
            assert_eq!(set.is_match(name), !expected.is_empty());
        }
    }

    #[test]
    fn glob_set_window_index_finds_required_text_anywhere() {
        let patterns = ["*mid*", "[ab]12_[xyz]*", "t12_??", "*mid*mid*", "a?"];
        let set = GlobSet::new(&patterns);
        for name in [
            "xmidmidx", "a12_x", "t12_ab", "t12_a", "mi", "ab", "b12_zz", "éméd",
        ] {
            let expected = one_by_one(&patterns, name);
            assert_eq!(set.matches(name), expected, "{name:?}");
        }
    }

    #[test]
    fn glob_set_prefix_probe_respects_char_boundaries() {
        let set = GlobSet::new(&["é*", "*é"]);
        assert_eq!(set.matches("éa"), vec![0]);
        assert_eq!(set.matches("aé"), vec![1]);
        assert_eq!(set.matches("\u{e9}"), vec![0, 1]);
    }
}
