//! Serde structs that mirror the rules file format exactly (`rules.toml` and the
//! `[[rules]]` tables of `.leakscan.toml`). Unknown keys are errors, so a typo
//! never silently disables part of a rule. No validation happens here; see
//! `compile` for that.
//!
//! `build.rs` compiles this same file: it reads `rules.toml` through these
//! structs and writes them out as Rust statics (`builtin_rules.rs`), which
//! the binary uses in place: no decoding and no allocation at start-up. Text
//! is therefore `Cow<'static, str>` (borrowed from the binary for the
//! built-in rules, owned for a user's), lists `Cow<'static, [..]>`. A new
//! rule field needs a field here (with `#[serde(default)]` if optional) and
//! a line in `build.rs`'s writer (the test `builtin_table_equals_rules_toml`
//! catches a missing one).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Text of a rule: borrowed from the binary (built-in rules) or owned.
pub type Text = Cow<'static, str>;
/// A list of texts, likewise borrowed or owned.
pub type Texts = Cow<'static, [Text]>;

#[derive(Debug, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Text,
    pub description: Text,
    pub regex: Text,
    pub keywords: Texts,
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
    pub decode: Option<Text>,
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    #[serde(default)]
    pub examples: Texts,
    #[serde(default)]
    pub negative_examples: Texts,
    /// Path-scoped rule: it runs only on files whose path (relative,
    /// `/`-separated) matches one of these globs. With no keywords, it runs
    /// on the whole of every such file.
    #[serde(default)]
    pub paths: Texts,
    /// The `[rules.verify]` table: skipped here (the normal load never
    /// needs it); `verify::spec` reads the built-in ones when verifying.
    #[serde(default)]
    pub verify: Option<VerifyTable>,
    /// A public-by-design format (a client-side key such as a Sentry DSN or a
    /// Stripe publishable key): found, but never reported as a new finding;
    /// counted as `public_by_design`.
    #[serde(default)]
    pub public: bool,
    /// How sure a finding of this rule is (`"high"`, `"medium"`, `"low"`);
    /// derived from the rule when absent (see `rules::confidence`).
    #[serde(default)]
    pub confidence: Option<Text>,
    /// An offline checksum the token carries (`"github-crc32"`): a token
    /// whose checksum fails is reported with at most medium confidence.
    #[serde(default)]
    pub checksum: Option<Text>,
}

/// Allowlist entries, used both per rule and globally in `.leakscan.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// A secret matching any of these regexes is dropped.
    #[serde(default)]
    pub regexes: Texts,
    /// A secret containing any of these (ASCII case-insensitive) is dropped.
    #[serde(default)]
    pub stopwords: Texts,
    /// Findings in files whose path matches one of these globs are dropped.
    #[serde(default)]
    pub paths: Texts,
}

/// A rule's `[rules.verify]` table, as the rule load sees it: present or not.
/// Its contents are `verify::spec`'s, read from their own copy (`build.rs`
/// writes the built-in ones to `verify.json`), so the table is skipped when
/// read from TOML.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VerifyTable;

impl Serialize for VerifyTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for VerifyTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(VerifyTable)
    }
}
