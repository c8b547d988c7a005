//! Rules: the embedded `rules.toml` plus user rules, parsed, validated and
//! compiled into a `RuleSet` that the matcher consults. Knows nothing about
//! files, git or reports.
//!
//! A rule's regex is validated (parsed) when the set is built, but compiled to
//! an automaton only the first time one of its keywords occurs: the pre-commit
//! hook pays start-up at every commit and usually touches a handful of rules.

mod compile;
pub mod confidence;
pub mod keywords;
pub mod syntax;
pub mod template;

pub use compile::{Allowlist, Rule, RuleSet, RuleSetBuilder};
pub use confidence::Confidence;
pub use keywords::Hit;

/// The built-in rules (`rules.toml`), embedded in the binary. `build.rs`
/// converts the file to JSON, which parses about ten times faster than TOML.
pub const DEFAULT_RULES: &str = include_str!(concat!(env!("OUT_DIR"), "/rules.json"));

/// How the built-in rules file is named in messages.
pub const DEFAULT_RULES_NAME: &str = "rules.toml (built-in)";

/// Parses the built-in rules (JSON made from `rules.toml` by `build.rs`).
pub fn parse_builtin() -> crate::error::Result<Vec<syntax::RuleSpec>> {
    let file: syntax::RulesFile =
        serde_json::from_str(DEFAULT_RULES).map_err(|e| crate::error::Error::Rule {
            origin: DEFAULT_RULES_NAME.into(),
            id: String::new(),
            msg: format!("invalid built-in rules: {e}"),
        })?;
    Ok(file.rules)
}

/// Parses a rules file (a user's, in TOML) into rule specs.
/// `name` is used in error messages, with line and column.
pub fn parse_rules_file(text: &str, name: &str) -> crate::error::Result<Vec<syntax::RuleSpec>> {
    let file: syntax::RulesFile =
        toml::from_str(text).map_err(|e| crate::error::Error::from_toml(name, text, &e))?;
    if file.version != 1 {
        return Err(crate::error::Error::config_at(
            name,
            text,
            text.find("version").unwrap_or(0),
            format!(
                "unsupported rules file version {} (this leakscan reads version 1)",
                file.version
            ),
        ));
    }
    if let Some(r) = file.rules.iter().find(|r| r.verify.is_some()) {
        return Err(crate::error::Error::Rule {
            origin: name.into(),
            id: r.id.clone(),
            msg: "a [rules.verify] table is read only from the built-in rules \
                  (verifiers are reviewed with leakscan itself)"
                .into(),
        });
    }
    Ok(file.rules)
}
