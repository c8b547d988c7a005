//! Proves every rule against its own examples: each expanded positive example
//! must be reported by the rule (and contain one of its keywords, or the
//! keyword prefilter would hide it), and no negative example may be reported
//! by it. Powers `leakscan rules check` and a unit test over the built-in set.

use std::sync::Arc;

use super::Matcher;
use crate::rules::template::{expand, Rng};
use crate::rules::RuleSet;

/// One failed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub rule: String,
    pub msg: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule `{}`: {}", self.rule, self.msg)
    }
}

/// The text of example `index` of `rule_id`, expanded reproducibly.
pub fn expand_example(rule_id: &str, index: usize, template: &str) -> String {
    expand(
        template,
        &mut Rng::from_str_seed(&format!("{rule_id}#{index}")),
    )
}

/// A path that a path-scoped rule's first glob matches (`**/` and `*`
/// filled in), used to prove its examples; `None` for other rules.
pub fn example_path(rule: &crate::rules::Rule) -> Option<String> {
    let glob = rule.paths.first()?;
    Some(
        glob.replace("**/", "")
            .replace("**", "x")
            .replace(['*', '?'], "x"),
    )
}

/// A path no built-in path-scoped rule matches.
const UNRELATED_PATH: &str = "leakscan-selftest/unrelated.txt";

pub fn check(rules: &Arc<RuleSet>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for e in rules.compile_all() {
        problems.push(Problem {
            rule: match &e {
                crate::error::Error::Rule { id, .. } => id.clone(),
                _ => String::new(),
            },
            msg: e.to_string(),
        });
    }
    let mut matcher = Matcher::new(rules.clone());
    for (ri, rule) in rules.rules.iter().enumerate() {
        let mut problem = |msg: String| {
            problems.push(Problem {
                rule: rule.id.to_string(),
                msg,
            })
        };
        if rule.examples.is_empty() {
            problem("has no examples".into());
        }
        let path = example_path(rule);
        let scan = |m: &mut Matcher, text: &str| match &path {
            Some(p) => m.scan_path(text.as_bytes(), p.as_bytes()),
            None => m.scan(text.as_bytes()),
        };
        if let (Some(p), Some(ex)) = (&path, rule.examples.first()) {
            let text = expand_example(&rule.id, 0, ex);
            let mut probe = |path: &str| {
                matcher
                    .scan_path(text.as_bytes(), path.as_bytes())
                    .iter()
                    .any(|m| m.rule == ri)
            };
            if !probe(p) {
                problem(format!(
                    "example 1 is not reported in a file named {p:?} (its first path glob)"
                ));
            } else if probe(UNRELATED_PATH) {
                problem(format!(
                    "example 1 is reported in {UNRELATED_PATH:?}, which none of its paths match"
                ));
            }
        }
        for (i, ex) in rule.examples.iter().enumerate() {
            let text = expand_example(&rule.id, i, ex);
            let lower = text.to_ascii_lowercase();
            if !rule.keywords.is_empty()
                && !rule
                    .keywords
                    .iter()
                    .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                problem(format!(
                    "example {} contains none of the keywords {:?}: {ex:?}",
                    i + 1,
                    rule.keywords
                ));
                continue;
            }
            let found = scan(&mut matcher, &text);
            match found.iter().find(|m| m.rule == ri) {
                None => problem(format!(
                    "example {} is not reported: {ex:?} (expanded: {text:?})",
                    i + 1
                )),
                // A checksummed format's examples must carry a valid
                // checksum (`{crc32b62}`), or they prove only the shape.
                Some(m)
                    if rule
                        .checksum
                        .is_some_and(|c| !c.holds(&text.as_bytes()[m.start..m.end])) =>
                {
                    problem(format!(
                        "example {} fails the rule's checksum (end it with {{crc32b62}}): {ex:?}",
                        i + 1
                    ))
                }
                Some(_) => {}
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            let text = expand_example(&rule.id, 1000 + i, ex);
            if let Some(m) = scan(&mut matcher, &text).iter().find(|m| m.rule == ri) {
                problem(format!(
                    "negative example {} is reported (secret {:?}): {ex:?}",
                    i + 1,
                    String::from_utf8_lossy(&text.as_bytes()[m.start..m.end])
                ));
            }
        }
    }
    problems
}
