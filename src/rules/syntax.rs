//! Serde structs that mirror the rules file format exactly (`rules.toml` and the
//! `[[rules]]` tables of `.leakscan.toml`). Unknown keys are errors, so a typo
//! never silently disables part of a rule. No validation happens here; see
//! `compile` for that.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default = "one")]
    pub version: u32,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub description: String,
    pub regex: String,
    pub keywords: Vec<String>,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub multiline: bool,
    #[serde(default)]
    pub generic: bool,
    /// The reported text is encoded (`"base64"`): the engine decodes it,
    /// reports a known token found inside under that token's rule, and
    /// judges a decoded `user:password` by the password.
    #[serde(default)]
    pub decode: Option<String>,
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Path-scoped rule: it runs only on files whose path (relative,
    /// `/`-separated) matches one of these globs. With no keywords, it runs
    /// on the whole of every such file.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The `[rules.verify]` table: skipped here (the normal load never
    /// needs it); `verify::spec` reads the built-in ones when verifying.
    #[serde(default)]
    pub verify: Option<serde::de::IgnoredAny>,
    /// A public-by-design format (a client-side key such as a Sentry DSN or a
    /// Stripe publishable key): found, but never reported as a new finding;
    /// counted as `public_by_design`.
    #[serde(default)]
    pub public: bool,
    /// How sure a finding of this rule is (`"high"`, `"medium"`, `"low"`);
    /// derived from the rule when absent (see `rules::confidence`).
    #[serde(default)]
    pub confidence: Option<String>,
    /// An offline checksum the token carries (`"github-crc32"`): a token
    /// whose checksum fails is reported with at most medium confidence.
    #[serde(default)]
    pub checksum: Option<String>,
}

/// Allowlist entries, used both per rule and globally in `.leakscan.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// A secret matching any of these regexes is dropped.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// A secret containing any of these (ASCII case-insensitive) is dropped.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Findings in files whose path matches one of these globs are dropped.
    #[serde(default)]
    pub paths: Vec<String>,
}
