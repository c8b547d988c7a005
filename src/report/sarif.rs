//! SARIF 2.1.0 output, in the shape GitHub code scanning accepts: driver rules
//! with ids and descriptions, results with a region and partialFingerprints.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{rotation, Report};
use crate::rules::Confidence;

/// The tool's home page for the driver's `informationUri`: Cargo.toml's
/// `homepage`, else its `repository`; omitted while neither is set.
fn information_uri() -> &'static str {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("")
}

/// One `reportingDescriptor`: ids, descriptions, help (what the secret is,
/// how to revoke it), the provider's page, and GitHub's `security-severity`.
fn rule_value(rule: &crate::rules::Rule) -> Value {
    let help = rotation::help(rule);
    json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": format!("{} (leakscan rule `{}`)", rule.description, rule.id)},
        "help": {"text": help.text, "markdown": help.markdown},
        "helpUri": help.url,
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret"],
            "precision": if rule.generic { "medium" } else { "high" },
            "problem.severity": "error",
            // GitHub reads a string holding a number from 0.0 to 10.0.
            "security-severity": format!("{:.1}", help.severity),
        },
    })
}

fn driver_value(rules: Vec<Value>, information_uri: &str) -> Value {
    let mut driver = json!({
        "name": "leakscan",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if !information_uri.is_empty() {
        driver["informationUri"] = json!(information_uri);
    }
    driver
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    // Only the rules that fired, as GitHub recommends (every rule's help
    // made a two-result file 1.3 MB), in the rule set's order.
    let fired: std::collections::HashSet<&str> = r
        .findings
        .iter()
        .filter(|j| j.suppressed.is_none())
        .map(|j| j.finding.rule.as_str())
        .collect();
    let listed: Vec<&crate::rules::Rule> = r
        .rules
        .rules
        .iter()
        .filter(|x| fired.contains(&*x.id))
        .collect();
    let rules: Vec<Value> = listed.iter().map(|x| rule_value(x)).collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .filter(|j| j.suppressed.is_none())
        .map(|j| {
            let f = &j.finding;
            let index = listed.iter().position(|x| x.id == f.rule);
            let mut region = json!({
                "startLine": f.line,
                "startColumn": f.column,
                "endLine": f.end_line,
                "endColumn": f.end_column,
            });
            if r.show_secrets {
                region["snippet"] = json!({"text": String::from_utf8_lossy(f.secret.expose())});
            }
            // Inside an archive, the location is the archive itself (the
            // file in the repository); the line is in the file inside it.
            let message = match &f.archive {
                None => format!("{}: {}", f.description, r.secret_text(f)),
                Some(_) => format!(
                    "{}: {} (in {}:{}:{})",
                    f.description,
                    r.secret_text(f),
                    r.path(&f.location()).as_str_lossy(),
                    f.line,
                    f.column
                ),
            };
            let mut physical = json!({"artifactLocation": {"uri": uri(&r.path(&f.path).0)}});
            if f.archive.is_none() {
                physical["region"] = region;
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.confidence),
                "rank": rank(f.confidence),
                "message": {"text": message},
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {"leakscan/v1": f.fingerprint()},
            });
            if let Some(i) = index {
                result["ruleIndex"] = json!(i);
            }
            if let Some(c) = f.commit.as_ref().map(|c| r.commit(c)) {
                result["properties"] = json!({"commit": c.id, "author": c.author, "date": c.date});
            }
            if let Some(a) = &f.archive {
                let chain: Vec<String> = std::iter::once(&f.path)
                    .chain(&a.inner)
                    .map(|p| r.path(p).as_str_lossy().into_owned())
                    .collect();
                result["properties"]["archive"] = json!(chain);
                if let Some(l) = &a.layer {
                    result["properties"]["layer"] = json!(l);
                }
            }
            if let Some(v) = &j.verification {
                // Live stays an error; a secret shown dead is a note, an
                // unanswered check a warning.
                use crate::verify::Status;
                result["level"] = json!(match v.status {
                    Status::Live => "error",
                    Status::Invalid => "note",
                    Status::Unknown | Status::Skipped => "warning",
                });
                if !result["properties"].is_object() {
                    result["properties"] = json!({});
                }
                result["properties"]["verification"] = super::json::verification_value(v);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver_value(rules, information_uri())},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Percent-encodes what a URI reference may not hold literally; every byte
/// of a name that is not UTF-8 survives as its escape.
fn uri(path: &[u8]) -> String {
    let mut s = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// A finding's SARIF level by its confidence: a provider format is an
/// error, a provider name next to a value a warning, a generic match a note.
fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// A finding's SARIF rank (0–100, how likely it is a real problem).
fn rank(c: Confidence) -> f64 {
    match c {
        Confidence::High => 90.0,
        Confidence::Medium => 60.0,
        Confidence::Low => 30.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_has_information_uri_when_known() {
        let d = driver_value(Vec::new(), "https://example.org/leakscan");
        assert_eq!(d["informationUri"], "https://example.org/leakscan");
        assert_eq!(d["version"], env!("CARGO_PKG_VERSION"));
        assert!(driver_value(Vec::new(), "").get("informationUri").is_none());
    }

    /// Every built-in rule's descriptor carries help (what it is, how to
    /// fix it, the provider's page) and a severity, whichever rules fire.
    #[test]
    fn every_rule_descriptor_has_help_and_severity() {
        let rules = crate::rules::RuleSetBuilder::new()
            .add_builtin()
            .unwrap()
            .build()
            .unwrap();
        assert!(rules.rules.len() > 100);
        for rule in &rules.rules {
            let v = rule_value(rule);
            let id = &rule.id;
            let text = v["help"]["text"].as_str().unwrap();
            let uri = v["helpUri"].as_str().unwrap();
            assert!(uri.starts_with("https://"), "{id}: {uri}");
            assert!(
                text.contains("How to fix") && text.len() > 150,
                "{id}: {text}"
            );
            let md = v["help"]["markdown"].as_str().unwrap();
            assert!(md.contains("### How to fix") && md.contains(uri), "{id}");
            let sev: f64 = v["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.0..=10.0).contains(&sev), "{id}: {sev}");
        }
    }
}
