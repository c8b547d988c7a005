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
                rule: rule.id.clone(),
                msg,
            })
        };
        if rule.examples.is_empty() {
            problem("has no examples".into());
        }
        for (i, ex) in rule.examples.iter().enumerate() {
            let text = expand_example(&rule.id, i, ex);
            let lower = text.to_ascii_lowercase();
            if !rule
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
            if !matcher.scan(text.as_bytes()).iter().any(|m| m.rule == ri) {
                problem(format!(
                    "example {} is not reported: {ex:?} (expanded: {text:?})",
                    i + 1
                ));
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            let text = expand_example(&rule.id, 1000 + i, ex);
            if let Some(m) = matcher.scan(text.as_bytes()).iter().find(|m| m.rule == ri) {
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
