//! `leakscan rules check` and `leakscan rules list`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Result;
use crate::exit::Exit;
use crate::matcher::selftest;
use crate::rules::RuleSet;
use crate::settings::{self, ConfigChoice};

fn rules_for(config: Option<PathBuf>, no_default: bool) -> Result<Arc<RuleSet>> {
    let choice = match config {
        Some(p) => ConfigChoice::File(p),
        None => ConfigChoice::None,
    };
    settings::rules_for(&choice, no_default)
}

pub fn check(config: Option<PathBuf>, no_default: bool) -> Result<Exit> {
    let rules = rules_for(config, no_default)?;
    let mut problems: Vec<String> = selftest::check(&rules)
        .iter()
        .map(ToString::to_string)
        .collect();
    // Every verifier's recorded answers, replayed through the real client
    // against a loopback HTTPS server (no network beyond 127.0.0.1).
    let verifiers = if no_default {
        0
    } else {
        let (n, failures) = crate::verify::replay::check_recorded()?;
        problems.extend(failures);
        n
    };
    let mut out = std::io::stdout().lock();
    for p in &problems {
        // A reader that closed the pipe early ends the listing, quietly.
        if writeln!(out, "{p}").is_err() {
            break;
        }
    }
    let examples: usize = rules.rules.iter().map(|r| r.examples.len()).sum();
    let negatives: usize = rules.rules.iter().map(|r| r.negative_examples.len()).sum();
    use crate::report::count;
    let replayed = if verifiers > 0 {
        format!(
            ", {}",
            count(verifiers as u64, "verifier replayed", "verifiers replayed")
        )
    } else {
        String::new()
    };
    eprintln!(
        "leakscan: {}, {}, {}{replayed}: {}",
        count(rules.len() as u64, "rule", "rules"),
        count(examples as u64, "example", "examples"),
        count(negatives as u64, "negative example", "negative examples"),
        count(problems.len() as u64, "problem", "problems"),
    );
    Ok(if problems.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings
    })
}

pub fn list(config: Option<PathBuf>, no_default: bool) -> Result<Exit> {
    let rules = rules_for(config, no_default)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for r in &rules.rules {
        let _ = writeln!(w, "{:<40} {}", r.id, r.description);
    }
    let _ = w.flush();
    Ok(Exit::Clean)
}
