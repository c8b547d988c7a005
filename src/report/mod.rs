//! Reporters: findings and stats to bytes on a writer, in text, JSON or SARIF.
//! Findings arrive sorted and already judged; reporters only format them.

mod json;
mod sarif;
mod text;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::stats::{Stats, SuppressReason};

/// The report formats (the command line's names are in `cli`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// A finding with the verdict on it.
#[derive(Debug, Clone)]
pub struct Judged {
    pub finding: Finding,
    /// `None`: new. `Some`: suppressed, with the reason and (baselines) status.
    pub suppressed: Option<(SuppressReason, Option<String>)>,
}

/// Everything a reporter needs.
pub struct Report<'a> {
    /// Sorted by path, line, column, rule. Suppressed findings appear only
    /// when `show_suppressed` is set.
    pub findings: &'a [Judged],
    pub stats: &'a Stats,
    pub rules: &'a RuleSet,
    pub show_secrets: bool,
    /// Colour and grouping (text on a terminal).
    pub color: bool,
}

impl Report<'_> {
    pub fn secret_text(&self, f: &Finding) -> String {
        if self.show_secrets {
            String::from_utf8_lossy(f.secret.expose()).into_owned()
        } else {
            f.secret.redacted()
        }
    }
}

pub fn write(report: &Report<'_>, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
    }
}
