//! Turns `RuleSpec`s into compiled `Rule`s and one keyword automaton.
//! Every error names the rule and the field that is wrong.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex_automata::{meta, util::syntax};

use super::confidence::{Checksum, Confidence};
use super::keywords::{index_keywords, Hit, KeywordSearch, StaticIndex};
use super::syntax::{AllowlistSpec, RuleSpec, Text, Texts};
use crate::error::{Error, Result};

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: Text,
    pub description: Text,
    pub keywords: Texts,
    pub pattern: Text,
    pub entropy: Option<f64>,
    pub multiline: bool,
    pub generic: bool,
    /// The secret is base64 text to decode (`decode = "base64"`).
    pub decode_base64: bool,
    pub allowlist: Allowlist,
    pub examples: Texts,
    pub negative_examples: Texts,
    /// Path globs of a path-scoped rule (empty: every file).
    pub paths: Texts,
    /// A public-by-design format: found but not reported as new (`public = true`).
    pub public: bool,
    /// The declared confidence (`None`: derived per finding, see `confidence`).
    pub confidence: Option<Confidence>,
    /// The offline checksum the token carries, if any.
    pub checksum: Option<Checksum>,
    /// Where the rule was defined: the built-in file or a config path.
    pub origin: Text,
    regex: OnceLock<std::result::Result<meta::Regex, String>>,
}

impl Rule {
    /// How sure a finding of this rule with this secret is.
    pub fn confidence_of(&self, secret: &[u8]) -> Confidence {
        super::confidence::judge(
            self.confidence,
            (self.generic, self.multiline),
            &self.keywords[..],
            self.checksum,
            secret,
        )
    }

    /// The rule's regex, compiled on first use.
    pub fn regex(&self) -> Result<&meta::Regex> {
        let compiled = self
            .regex
            .get_or_init(|| build_regex(&self.pattern).map_err(|e| e.to_string()));
        compiled.as_ref().map_err(|msg| Error::Rule {
            origin: self.origin.to_string(),
            id: self.id.to_string(),
            msg: format!("regex does not compile: {msg}"),
        })
    }

    /// The capture group holding the secret: `secret` if named, else 1 if
    /// the regex has groups, else the whole match.
    pub fn secret_group(&self) -> Result<usize> {
        let re = self.regex()?;
        let info = re.group_info();
        if let Some(i) = info.to_index(regex_automata::PatternID::ZERO, "secret") {
            return Ok(i);
        }
        Ok(if info.group_len(regex_automata::PatternID::ZERO) > 1 {
            1
        } else {
            0
        })
    }
}

/// Allowlist entries compiled for fast checks. Used per rule and globally.
/// Each part is compiled on first use (the pre-commit hook checks few
/// secrets); a user's entries are validated when the set is built.
#[derive(Debug, Default)]
pub struct Allowlist {
    /// Secret regexes.
    pub regexes: Texts,
    compiled: OnceLock<Vec<meta::Regex>>,
    /// Stopwords as written, and lower-cased.
    stopwords: Texts,
    lowered: OnceLock<Vec<Vec<u8>>>,
    /// Path globs, and their set.
    path_globs: Texts,
    paths: OnceLock<Option<GlobSet>>,
}

impl Allowlist {
    /// `trusted` (the built-in rules, proven by `rules check` in the test
    /// suite) skips validating regex syntax, which costs start-up time.
    pub fn compile(
        spec: &AllowlistSpec,
        origin: &str,
        owner: &str,
        trusted: bool,
    ) -> Result<Allowlist> {
        let err = |msg: String| Error::Rule {
            origin: origin.to_string(),
            id: owner.to_string(),
            msg,
        };
        let list = Allowlist {
            regexes: spec.regexes.clone(),
            compiled: OnceLock::new(),
            stopwords: spec.stopwords.clone(),
            lowered: OnceLock::new(),
            path_globs: spec.paths.clone(),
            paths: OnceLock::new(),
        };
        if !trusted {
            for r in list.regexes.iter() {
                syntax::parse_with(r, &syntax_config())
                    .map_err(|e| err(allowlist_regex_error(r, &e)))?;
            }
            // Built now, so that a bad glob is an error here.
            let set = path_set(&list.path_globs).map_err(err)?;
            let _ = list.paths.set(set);
        }
        Ok(list)
    }

    fn path_set(&self) -> Option<&GlobSet> {
        self.paths
            .get_or_init(|| {
                // Trusted (built-in) globs, proven by the tests.
                path_set(&self.path_globs).unwrap_or_default()
            })
            .as_ref()
    }

    fn compiled(&self) -> &[meta::Regex] {
        self.compiled.get_or_init(|| {
            // Patterns were validated when the set was built; one that still
            // fails (size limits) is reported by `compile_errors`.
            self.regexes
                .iter()
                .filter_map(|p| build_allowlist_regex(p).ok())
                .collect()
        })
    }

    /// Compiles every regex now; returns the ones that fail, with the reason.
    pub fn compile_errors(&self) -> Vec<String> {
        self.regexes
            .iter()
            .filter_map(|p| {
                build_allowlist_regex(p).err().map(|e| {
                    // Size limits, not syntax (that was checked when built);
                    // the message is regex-automata's, which names no pattern.
                    let e = e.to_string();
                    let kind = e.lines().last().unwrap_or_default().trim();
                    format!(
                        "allowlist regex {} does not compile: {kind}",
                        redacted_pattern(p)
                    )
                })
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty() && self.stopwords.is_empty() && self.path_globs.is_empty()
    }

    /// True if the secret is allowed by a regex or a stopword.
    pub fn allows_secret(&self, secret: &[u8]) -> bool {
        if !self.regexes.is_empty() && self.compiled().iter().any(|r| r.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lowered = self.lowered.get_or_init(|| {
            self.stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect()
        });
        let lower = secret.to_ascii_lowercase();
        lowered
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }

    /// True if the path (relative, `/`-separated) is allowed.
    pub fn allows_path(&self, path: &str) -> bool {
        !self.path_globs.is_empty() && self.path_set().is_some_and(|g| g.is_match(path))
    }
}

/// The set of allowlist path globs (`None`: no globs).
fn path_set(globs: &[Text]) -> std::result::Result<Option<GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in globs {
        let glob = Glob::new(p).map_err(|e| format!("allowlist path glob `{p}`: {e}"))?;
        b.add(glob);
    }
    Ok(Some(
        b.build().map_err(|e| format!("allowlist paths: {e}"))?,
    ))
}

/// An allowlist regex may hold a literal secret, so it is never echoed:
/// only its first four characters and length, and where the error is.
fn allowlist_regex_error(pattern: &str, e: &regex_syntax::Error) -> String {
    let (kind, span) = match e {
        regex_syntax::Error::Parse(a) => (a.kind().to_string(), Some(*a.span())),
        regex_syntax::Error::Translate(t) => (t.kind().to_string(), Some(*t.span())),
        other => (other.to_string(), None),
    };
    let at = span
        .map(|s| {
            format!(
                " at character {}",
                pattern[..s.start.offset].chars().count() + 1
            )
        })
        .unwrap_or_default();
    format!(
        "allowlist regex {} does not compile{at}: {kind}",
        redacted_pattern(pattern)
    )
}

/// `ghp_…(40 chars)`: enough to find the pattern in the file, not enough to
/// give away a secret written into it.
pub fn redacted_pattern(pattern: &str) -> String {
    let n = pattern.chars().count();
    let head: String = pattern
        .chars()
        .take((n / 4).min(4))
        .flat_map(char::escape_default)
        .collect();
    format!("`{head}…` ({n} chars)")
}

/// Compiles a pattern the way every rule regex is compiled: bytes, Unicode off.
///
/// Without a literal prefilter and without a fully built DFA: a rule's regex
/// runs only in the windows its keyword hits opened (a line, at most a few
/// KiB), where a prefilter has little to skip, and building them was most of
/// a regex's compile time (~1 M instructions; a scan pays it for every rule
/// whose keyword occurs, the pre-commit hook for every rule it touches). No
/// one-pass DFA either: it only speeds up reading capture groups out of a
/// match already found (rare), and cost ~9% of a rule regex's compile time.
/// The lazy DFA and the NFA engines find exactly the same matches.
pub fn build_regex(
    pattern: &str,
) -> std::result::Result<meta::Regex, Box<dyn std::error::Error + Send + Sync>> {
    let re = meta::Regex::builder()
        .syntax(syntax_config())
        .configure(regex_config())
        .build(pattern)?;
    Ok(re)
}

/// Compiles an allowlist regex: like a rule's, but it only ever answers
/// "does this secret match" on one secret (tens of bytes), so only the NFA
/// engines are built (PikeVM, bounded backtracker): no reverse NFA, lazy DFA
/// or one-pass DFA, which were most of its compile time (the pre-commit hook
/// compiles the allowlist of every rule that finds something). Same matches.
fn build_allowlist_regex(
    pattern: &str,
) -> std::result::Result<meta::Regex, Box<dyn std::error::Error + Send + Sync>> {
    let re = meta::Regex::builder()
        .syntax(syntax_config())
        .configure(regex_config().hybrid(false))
        .build(pattern)?;
    Ok(re)
}

/// The engines every rule and allowlist regex is built with (see
/// `build_regex`); the allowlist turns the lazy DFA off too.
fn regex_config() -> meta::Config {
    meta::Regex::config()
        .utf8_empty(false)
        .auto_prefilter(false)
        .dfa(false)
        .onepass(false)
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

/// Collects rule specs from several files, then builds the set.
#[derive(Default)]
pub struct RuleSetBuilder {
    specs: Vec<(RuleSpec, Text)>,
    /// Rule id → its slot in `specs`, for the first `ids.len()` specs:
    /// filled on first need (the built-in rules alone never need it).
    ids: HashMap<Text, usize>,
    /// Origins whose rules skip syntax validation at start-up (the built-in file).
    trusted: Vec<Text>,
    disabled: Vec<String>,
    /// The built-in rules were added first ([`Self::add_builtin`]) and no
    /// other rule since: the set can use the keyword index made at build time.
    builtin_only: bool,
}

impl RuleSetBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id index, brought up to date (ids are unique in `specs`, which
    /// only grows at its end).
    fn ids(&mut self) -> &mut HashMap<Text, usize> {
        for i in self.ids.len()..self.specs.len() {
            self.ids.insert(self.specs[i].0.id.clone(), i);
        }
        &mut self.ids
    }

    /// Adds rules; a rule with an id already present replaces it.
    pub fn add(&mut self, specs: Vec<RuleSpec>, origin: &str) -> &mut Self {
        self.builtin_only &= specs.is_empty();
        let origin: Text = if origin == super::DEFAULT_RULES_NAME {
            Cow::Borrowed(super::DEFAULT_RULES_NAME)
        } else {
            Cow::Owned(origin.to_string())
        };
        for spec in specs {
            match self.ids().get(&spec.id) {
                Some(&i) => self.specs[i] = (spec, origin.clone()),
                None => self.specs.push((spec, origin.clone())),
            }
        }
        self
    }

    /// Adds the built-in rules (trusted). Added first and alone (plus
    /// `disable` and entropy overrides), the set uses the keyword index that
    /// `build.rs` made instead of building one.
    pub fn add_builtin(&mut self) -> Result<&mut Self> {
        let first = self.specs.is_empty();
        if first {
            // build.rs refused duplicate ids: no replacement to look for.
            // The specs are copied, their texts stay in the binary.
            let origin = Cow::Borrowed(super::DEFAULT_RULES_NAME);
            self.specs.extend(
                super::builtin_specs()
                    .iter()
                    .map(|s| (s.clone(), origin.clone())),
            );
        } else {
            self.add_file(super::parse_builtin()?, super::DEFAULT_RULES_NAME)?;
        }
        self.trust(super::DEFAULT_RULES_NAME);
        self.builtin_only = first;
        Ok(self)
    }

    /// Adds rules from one file, refusing duplicate ids within that file.
    pub fn add_file(&mut self, specs: Vec<RuleSpec>, origin: &str) -> Result<&mut Self> {
        let mut seen = std::collections::HashSet::new();
        for s in &specs {
            if !seen.insert(&*s.id) {
                return Err(Error::Rule {
                    origin: origin.to_string(),
                    id: s.id.to_string(),
                    msg: "duplicate rule id".into(),
                });
            }
        }
        Ok(self.add(specs, origin))
    }

    /// True if a rule with this id has been added.
    pub fn has(&mut self, id: &str) -> bool {
        self.ids().contains_key(id)
    }

    /// Overrides the minimum entropy of an added rule.
    pub fn set_entropy(&mut self, id: &str, min: f64) -> std::result::Result<(), String> {
        match self.ids().get(id) {
            Some(&i) => {
                self.specs[i].0.entropy = Some(min);
                Ok(())
            }
            None => Err(format!("entropy override names unknown rule `{id}`")),
        }
    }

    /// Marks rules from `origin` as already validated (the embedded file, proven
    /// by `rules check` in the test suite), so start-up does not re-parse them.
    pub fn trust(&mut self, origin: &str) -> &mut Self {
        self.trusted.push(Cow::Owned(origin.to_string()));
        self
    }

    pub fn disable(&mut self, ids: &[String]) -> &mut Self {
        self.disabled.extend(ids.iter().cloned());
        self
    }

    /// Builds the set. The added rules are moved into it (the builder is
    /// left empty).
    pub fn build(&mut self) -> Result<RuleSet> {
        for id in std::mem::take(&mut self.disabled) {
            if !self.has(&id) {
                return Err(Error::Usage(format!(
                    "cannot disable rule `{id}`: no rule has that id"
                )));
            }
            self.disabled.push(id);
        }
        let specs = std::mem::take(&mut self.specs);
        self.ids.clear();
        let mut rules = Vec::with_capacity(specs.len());
        let mut kept = Vec::with_capacity(specs.len());
        for (spec, origin) in specs {
            let keep = !self.disabled.iter().any(|d| *d == spec.id);
            kept.push(keep);
            if keep {
                let trusted = self.trusted.contains(&origin);
                rules.push(validate(spec, origin, trusted)?);
            }
        }
        if std::mem::take(&mut self.builtin_only) {
            Ok(RuleSet::with_index(
                rules,
                &super::builtin::INDEX,
                Some(&kept).filter(|k| k.contains(&false)).map(|k| &k[..]),
            ))
        } else {
            RuleSet::new(rules)
        }
    }
}

/// Checks a rule and makes it a `Rule`. A `trusted` one (the built-in
/// rules, whose every check the tests run: `builtin_rules_pass_validation`)
/// is taken as it is, with no parse of its regex or globs.
fn validate(spec: RuleSpec, origin: Text, trusted: bool) -> Result<Rule> {
    if !trusted {
        check(&spec, &origin)?;
    }
    let allowlist = Allowlist::compile(&spec.allowlist, &origin, &spec.id, trusted)?;
    Ok(Rule {
        confidence: spec.confidence.as_deref().and_then(Confidence::parse),
        checksum: spec.checksum.as_deref().and_then(Checksum::parse),
        id: spec.id,
        description: spec.description,
        keywords: spec.keywords,
        pattern: spec.regex,
        entropy: spec.entropy,
        multiline: spec.multiline,
        generic: spec.generic,
        decode_base64: spec.decode.is_some(),
        allowlist,
        examples: spec.examples,
        negative_examples: spec.negative_examples,
        paths: spec.paths,
        public: spec.public,
        origin,
        regex: OnceLock::new(),
    })
}

/// Every check of a rule spec, each error naming the rule and the field.
fn check(spec: &RuleSpec, origin: &str) -> Result<()> {
    let err = |msg: String| Error::Rule {
        origin: origin.to_string(),
        id: spec.id.to_string(),
        msg,
    };
    if spec.id.is_empty()
        || !spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(err(
            "id must be non-empty lowercase letters, digits, `-` or `_`".into(),
        ));
    }
    if spec.keywords.is_empty() && spec.paths.is_empty() {
        return Err(err(
            "`keywords` must name at least one literal (only a rule with `paths` may have none)"
                .into(),
        ));
    }
    if let Some(d) = &spec.decode {
        if d != "base64" {
            return Err(err(format!(
                "decode = \"{d}\" is not supported (only \"base64\")"
            )));
        }
    }
    if let Some(c) = &spec.confidence {
        Confidence::parse(c).ok_or_else(|| {
            err(format!(
                "confidence = \"{c}\" is not one of \"high\", \"medium\", \"low\""
            ))
        })?;
    }
    if let Some(c) = &spec.checksum {
        Checksum::parse(c).ok_or_else(|| {
            err(format!(
                "checksum = \"{c}\" is not supported (only \"crc32-base62\")"
            ))
        })?;
    }
    if spec.public && spec.generic {
        return Err(err(
            "`public = true` is for a provider's public key format, not a generic rule".into(),
        ));
    }
    for p in spec.paths.iter() {
        path_glob(p).map_err(|e| err(format!("path glob `{p}`: {e}")))?;
    }
    for k in spec.keywords.iter() {
        if k.len() < 3 {
            return Err(err(format!("keyword `{k}` is shorter than 3 bytes")));
        }
    }
    if let Some(e) = spec.entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(err(format!(
                "entropy {e} is outside 0.0..=8.0 bits per byte"
            )));
        }
    }
    syntax::parse_with(&spec.regex, &syntax_config())
        .map_err(|e| err(format!("regex does not compile: {e}")))?;
    Ok(())
}

/// A rule's path glob: `*` stays within one path component, `**/` spans
/// directories, matched against the relative `/`-separated path.
fn path_glob(p: &str) -> std::result::Result<Glob, globset::Error> {
    globset::GlobBuilder::new(p).literal_separator(true).build()
}

/// All active rules and the keyword search that selects them.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Path globs of the form `**/name` or `**/dir/name` (no wildcard after
    /// `**/`), by file name: (the path suffix with its leading `/`, rule).
    by_name: std::collections::HashMap<Vec<u8>, Vec<(Vec<u8>, u32)>>,
    /// The other path globs, compiled into one set on first use.
    wild_globs: Vec<(Text, u32)>,
    wild_set: OnceLock<GlobSet>,
    /// Per rule: true if it has globs in `wild_globs`.
    has_wild: Vec<bool>,
    /// Path-scoped rules without keywords: they run on the whole file.
    keywordless: Vec<u32>,
    /// Keyword `p` triggers rules
    /// `pattern_rules[pattern_rule_bounds[p]..pattern_rule_bounds[p + 1]]`.
    pattern_rule_bounds: Cow<'static, [u32]>,
    pattern_rules: Cow<'static, [u32]>,
    /// Finds every keyword occurrence (none when there are no keywords).
    keywords: KeywordSearch,
}

impl RuleSet {
    /// Builds the set and its keyword index (user rules: at run time).
    pub fn new(rules: Vec<Rule>) -> Result<RuleSet> {
        let (patterns, pattern_rules) = index_keywords(rules.iter().map(|r| &r.keywords[..]));
        let keywords = KeywordSearch::new(&patterns)
            .map_err(|e| Error::Usage(format!("cannot build the keyword automaton: {e}")))?;
        let mut bounds = vec![0u32];
        for list in &pattern_rules {
            bounds.push(bounds[bounds.len() - 1] + list.len() as u32);
        }
        let list = pattern_rules.into_iter().flatten().collect();
        Ok(Self::assemble(
            rules,
            keywords,
            Cow::Owned(bounds),
            Cow::Owned(list),
        ))
    }

    /// The set over a keyword index made at build time for `rules`' specs
    /// (the built-in rules): used in place. `kept` (one flag per rule of the
    /// index; `rules` holds the kept ones) drops disabled rules from it.
    fn with_index(rules: Vec<Rule>, index: &'static StaticIndex, kept: Option<&[bool]>) -> RuleSet {
        let keywords = KeywordSearch::from_static(index);
        let (bounds, list) = match kept {
            None => (Cow::Borrowed(index.rule_bounds), Cow::Borrowed(index.rules)),
            Some(kept) => {
                let mut new_id = Vec::with_capacity(kept.len());
                let mut n = 0u32;
                for &k in kept {
                    new_id.push(k.then_some(n));
                    n += u32::from(k);
                }
                let mut bounds = vec![0u32];
                let mut list = Vec::new();
                for w in index.rule_bounds.windows(2) {
                    let old = &index.rules[w[0] as usize..w[1] as usize];
                    list.extend(old.iter().filter_map(|&r| new_id[r as usize]));
                    bounds.push(list.len() as u32);
                }
                (Cow::Owned(bounds), Cow::Owned(list))
            }
        };
        Self::assemble(rules, keywords, bounds, list)
    }

    fn assemble(
        rules: Vec<Rule>,
        keywords: KeywordSearch,
        pattern_rule_bounds: Cow<'static, [u32]>,
        pattern_rules: Cow<'static, [u32]>,
    ) -> RuleSet {
        let mut by_name: std::collections::HashMap<Vec<u8>, Vec<(Vec<u8>, u32)>> =
            Default::default();
        let mut wild_globs = Vec::new();
        let mut has_wild = vec![false; rules.len()];
        let mut keywordless = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for p in r.paths.iter() {
                let literal = p
                    .strip_prefix("**/")
                    .filter(|rest| !rest.contains(['*', '?', '[', ']', '{', '}', '\\']));
                match literal {
                    Some(rest) => {
                        let name = rest.rsplit('/').next().unwrap_or(rest);
                        by_name
                            .entry(name.as_bytes().to_vec())
                            .or_default()
                            .push((format!("/{rest}").into_bytes(), i as u32));
                    }
                    None => {
                        wild_globs.push((p.clone(), i as u32));
                        has_wild[i] = true;
                    }
                }
            }
            if r.keywords.is_empty() {
                keywordless.push(i as u32);
            }
        }
        RuleSet {
            rules,
            by_name,
            wild_globs,
            wild_set: OnceLock::new(),
            has_wild,
            keywordless,
            pattern_rule_bounds,
            pattern_rules,
            keywords,
        }
    }

    /// Every keyword occurrence in `hay` (overlapping, ASCII case-insensitive),
    /// in order of end offset.
    pub fn keyword_hits(&self, hay: &[u8], out: &mut Vec<Hit>) {
        self.keywords.find_all(hay, out);
    }

    /// The path-scoped rules whose `**/name` globs match `path` (relative,
    /// `/`-separated; a file-name lookup), sorted, into `out`.
    pub fn path_rules_by_name(&self, path: &[u8], out: &mut Vec<u32>) {
        out.clear();
        if self.by_name.is_empty() {
            return;
        }
        let path = path.strip_prefix(b"./").unwrap_or(path);
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        if let Some(list) = self.by_name.get(name) {
            for (suffix, r) in list {
                if path.ends_with(suffix) || path == &suffix[1..] {
                    out.push(*r);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// True if rule `r` has globs with wildcards past `**/`.
    pub fn has_wild_globs(&self, r: usize) -> bool {
        self.has_wild[r]
    }

    /// Adds to `out` (kept sorted) the rules whose wildcard globs match
    /// `path`; the glob set is compiled on first use.
    pub fn path_rules_by_glob(&self, path: &[u8], out: &mut Vec<u32>) {
        if self.wild_globs.is_empty() {
            return;
        }
        let set = self.wild_set.get_or_init(|| {
            let mut b = GlobSetBuilder::new();
            for (p, _) in &self.wild_globs {
                // Validated when the rule was built.
                if let Ok(g) = path_glob(p) {
                    b.add(g);
                }
            }
            b.build().unwrap_or_else(|_| GlobSet::empty())
        });
        let path = String::from_utf8_lossy(path);
        let path = path.strip_prefix("./").unwrap_or(&path);
        for g in set.matches(path) {
            out.push(self.wild_globs[g].1);
        }
        out.sort_unstable();
        out.dedup();
    }

    /// The path-scoped rules matching `path`, by name and by glob.
    pub fn path_rules_matching(&self, path: &[u8], out: &mut Vec<u32>) {
        self.path_rules_by_name(path, out);
        self.path_rules_by_glob(path, out);
    }

    /// Path-scoped rules that have no keywords (they run on whole files).
    pub fn keywordless_rules(&self) -> &[u32] {
        &self.keywordless
    }

    pub fn pattern_rules(&self, pattern: usize) -> &[u32] {
        let b = &self.pattern_rule_bounds;
        &self.pattern_rules[b[pattern] as usize..b[pattern + 1] as usize]
    }

    /// The keyword search (tests compare the built-in one with a run-time build).
    pub fn keyword_search(&self) -> &KeywordSearch {
        &self.keywords
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Compiles every regex now (for `rules check` and benchmarks).
    pub fn compile_all(&self) -> Vec<Error> {
        let mut errors: Vec<Error> = self.rules.iter().filter_map(|r| r.regex().err()).collect();
        for r in &self.rules {
            for msg in r.allowlist.compile_errors() {
                errors.push(Error::Rule {
                    origin: r.origin.to_string(),
                    id: r.id.to_string(),
                    msg,
                });
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in rules skip every check at start-up (trusted): each one
    /// passes them all here, its allowlist's regexes and globs included.
    #[test]
    fn builtin_rules_pass_validation() {
        let specs = super::super::builtin_specs();
        assert!(specs.len() > 100);
        for spec in specs {
            check(spec, super::super::DEFAULT_RULES_NAME).unwrap();
            Allowlist::compile(&spec.allowlist, "built-in", &spec.id, false).unwrap();
        }
    }

    /// A trusted allowlist (the built-in rules') is compiled on first use:
    /// its regexes, its stopwords (case-insensitive) and its path globs
    /// still suppress; an untrusted one with a bad glob fails when built.
    #[test]
    fn lazily_built_allowlist_still_suppresses() {
        let spec = AllowlistSpec {
            regexes: vec![Text::from("^EXAMPLE[0-9]+$")].into(),
            stopwords: vec![Text::from("DummyValue")].into(),
            paths: vec![Text::from("**/fixtures/**")].into(),
        };
        let list = Allowlist::compile(&spec, "built-in", "r", true).unwrap();
        assert!(list.compiled.get().is_none() && list.paths.get().is_none());
        assert!(list.allows_secret(b"EXAMPLE123"));
        assert!(list.allows_secret(b"xx-dummyvalue-xx"));
        assert!(!list.allows_secret(b"AKIAREALLOOKING"));
        assert!(list.allows_path("a/fixtures/key.pem"));
        assert!(!list.allows_path("src/key.pem"));

        let bad = AllowlistSpec {
            paths: vec![Text::from("a[")].into(),
            ..AllowlistSpec::default()
        };
        let e = Allowlist::compile(&bad, "user.toml", "r", false).unwrap_err();
        assert!(e.to_string().contains("allowlist path glob `a[`"), "{e}");
    }
}
