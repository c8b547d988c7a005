//! Rules: the embedded `rules.toml` plus user rules, parsed, validated and
//! compiled into a `RuleSet` that the matcher consults. Knows nothing about
//! files, git or reports.
//!
//! A rule's regex is validated (parsed) when the set is built, but compiled to
//! an automaton only the first time one of its keywords occurs: the pre-commit
//! hook pays start-up at every commit and usually touches a handful of rules.
//! For the same reason the built-in rules come as static tables made at build
//! time (`build.rs`), used in place: the rule specs and the keyword index;
//! only user rules are parsed and build an index at run time.

mod compile;
pub mod confidence;
pub mod keywords;
pub mod syntax;
pub mod template;

pub use compile::{Allowlist, Rule, RuleSet, RuleSetBuilder};
pub use confidence::Confidence;
pub use keywords::Hit;

/// The built-in rules (`rules.toml`) as statics of the `syntax` structs,
/// written by `build.rs`: used in place, every text borrowed from the binary,
/// so loading them decodes and allocates nothing.
mod table {
    use super::syntax::{AllowlistSpec, RuleSpec, VerifyTable};
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// The built-in rules' table as `build.rs` wrote it: what names the rule set
/// in digests (sweep results are never mixed across rule sets). Read only
/// there; at start-up its pages are never touched.
pub const DEFAULT_RULES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The built-in rules, in `rules.toml`'s order.
pub fn builtin_specs() -> &'static [syntax::RuleSpec] {
    table::RULES
}

/// The built-in rules' `[rules.verify]` tables as JSON (`{"rules": [{"id",
/// "verify"}]}`), made by `build.rs`; read only by `verify::spec`.
pub const VERIFY_SPECS: &str = include_str!(concat!(env!("OUT_DIR"), "/verify.json"));

/// How the built-in rules file is named in messages.
pub const DEFAULT_RULES_NAME: &str = "rules.toml (built-in)";

/// The built-in rules' keyword index, made by `build.rs`.
mod builtin {
    use super::keywords::{StaticDfa, StaticIndex};
    include!(concat!(env!("OUT_DIR"), "/keyword_index.rs"));
}

/// The built-in rules as owned values (a copy of each spec; its texts stay
/// borrowed).
pub fn parse_builtin() -> crate::error::Result<Vec<syntax::RuleSpec>> {
    Ok(table::RULES.to_vec())
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
            id: r.id.to_string(),
            msg: "a [rules.verify] table is read only from the built-in rules \
                  (verifiers are reviewed with leakscan itself)"
                .into(),
        });
    }
    Ok(file.rules)
}

#[cfg(test)]
mod tests {
    use super::keywords::{index_keywords, KeywordSearch};
    use super::*;

    /// What `build.rs` embedded is what parsing `rules.toml` at run time
    /// gives: the rule table, and the keyword index with its automaton
    /// (compared table by table, through the same writer). Fails if the two
    /// drift, e.g. a field postcard cannot carry. (A build with
    /// `LEAKSCAN_RULES` set embeds another file and fails here by design.)
    #[test]
    fn builtin_table_equals_rules_toml() {
        let text = include_str!("../../rules.toml");
        // Straight through the TOML structs: `parse_rules_file` is for
        // users' files, which may not carry `[rules.verify]` tables.
        let parsed = toml::from_str::<syntax::RulesFile>(text).unwrap().rules;
        let embedded = parse_builtin().unwrap();
        assert!(embedded.len() > 100);
        assert_eq!(embedded, parsed);

        let (patterns, pattern_rules) = index_keywords(parsed.iter().map(|r| &r.keywords[..]));
        let runtime = KeywordSearch::new(&patterns).unwrap();
        let built = include_str!(concat!(env!("OUT_DIR"), "/keyword_index.rs"));
        assert_eq!(runtime.write_rust("INDEX", &pattern_rules), built);
    }

    fn hits_by_rule(set: &RuleSet, hay: &[u8]) -> Vec<(usize, usize, String)> {
        let mut hits = Vec::new();
        set.keyword_hits(hay, &mut hits);
        let mut out = Vec::new();
        for h in hits {
            for &r in set.pattern_rules(h.pattern as usize) {
                out.push((h.start, h.end, set.rules[r as usize].id.to_string()));
            }
        }
        out.sort();
        out
    }

    /// Every built-in keyword, glued together with noise between.
    fn keyword_text() -> Vec<u8> {
        let mut hay = Vec::new();
        for (i, r) in parse_builtin().unwrap().iter().enumerate() {
            for k in r.keywords.iter() {
                hay.extend_from_slice(if i % 2 == 0 { k.as_bytes() } else { b"" });
                hay.extend_from_slice(k.to_ascii_uppercase().as_bytes());
                hay.extend_from_slice(b" x=");
            }
        }
        hay
    }

    /// The set over the build-time index finds what a set built at run time
    /// from the same rules finds, with and without disabled rules.
    #[test]
    fn builtin_index_matches_runtime_index_with_disabled_rules() {
        let hay = keyword_text();
        let specs = parse_builtin().unwrap();
        // Disable every third rule: the index drops them and renumbers.
        let disabled: Vec<String> = specs.iter().step_by(3).map(|s| s.id.to_string()).collect();
        for disable in [vec![], disabled] {
            let mut b = RuleSetBuilder::new();
            b.add_builtin().unwrap().disable(&disable);
            let fast = b.build().unwrap();
            let mut b = RuleSetBuilder::new();
            let kept: Vec<_> = specs
                .iter()
                .filter(|s| !disable.iter().any(|d| *d == s.id))
                .cloned()
                .collect();
            b.add_file(kept, DEFAULT_RULES_NAME).unwrap();
            b.trust(DEFAULT_RULES_NAME);
            let slow = b.build().unwrap();
            assert_eq!(fast.len(), slow.len());
            let got = hits_by_rule(&fast, &hay);
            assert!(got.len() > 1000);
            assert_eq!(got, hits_by_rule(&slow, &hay));
            for id in &disable {
                assert!(got.iter().all(|(_, _, r)| r != id));
            }
        }
    }

    /// A user rule next to the built-in ones gets a run-time index that
    /// holds both its keyword and the built-in ones; one replacing a built-in
    /// rule takes its keywords away.
    #[test]
    fn user_rules_build_their_index_at_run_time() {
        let user = parse_rules_file(
            r#"
            [[rules]]
            id = "acme-key"
            description = "Acme key"
            regex = 'acmekey_[a-z]{8}'
            keywords = ["acmekey_"]

            [[rules]]
            id = "github-pat"
            description = "replaced"
            regex = 'zzqq_[a-z]{8}'
            keywords = ["zzqq_"]
            "#,
            "user.toml",
        )
        .unwrap();
        let mut b = RuleSetBuilder::new();
        b.add_builtin()
            .unwrap()
            .add_file(user, "user.toml")
            .unwrap();
        let set = b.build().unwrap();
        let ids = |hay: &[u8]| -> Vec<String> {
            hits_by_rule(&set, hay).into_iter().map(|h| h.2).collect()
        };
        assert_eq!(ids(b"x acmekey_ y"), ["acme-key"]);
        assert_eq!(ids(b"zzqq_"), ["github-pat"]);
        assert!(!ids(b"ghp_").contains(&"github-pat".to_string()));
        assert!(!ids(b"AKIA").is_empty(), "built-in keywords still found");
    }
}
