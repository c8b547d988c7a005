//! Reporters: findings and stats to bytes on a writer, in text, JSON, SARIF
//! or HTML. Findings arrive sorted and already judged; reporters only format them.
//! The sweep's report (one row per unique secret across repositories) has its
//! own model and writers in `sweep`.

mod context;
mod html;
mod json;
pub mod rotation;
mod sarif;
pub mod sweep;
mod text;

use std::io::{self, Write};

use crate::finding::{CommitInfo, Finding, Redactor};
use crate::paths::PathBytes;
use crate::rules::RuleSet;
use crate::stats::{Stats, SuppressReason};

/// The report formats (the command line's names are in `cli`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    /// One self-contained HTML page (inline CSS and JS, no network).
    Html,
}

/// `--color`: when the text report is coloured (and grouped by path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set (to anything but the empty string).
    #[default]
    Auto,
    Always,
    Never,
}

static COLOR: std::sync::OnceLock<ColorWhen> = std::sync::OnceLock::new();

/// Records the run's `--color` choice (once, at start-up).
pub fn set_color(when: ColorWhen) {
    let _ = COLOR.set(when);
}

/// Whether a report in `format` is coloured: only text is; `always` and
/// `never` decide, `auto` colours a terminal unless NO_COLOR is set.
pub fn color_enabled(format: Format, to_terminal: bool) -> bool {
    color_for(
        COLOR.get().copied().unwrap_or_default(),
        format,
        to_terminal,
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    )
}

fn color_for(when: ColorWhen, format: Format, to_terminal: bool, no_color: bool) -> bool {
    format == Format::Text
        && match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => to_terminal && !no_color,
        }
}

/// `1 file`, `2 files`: `n` and the noun, singular for one.
pub fn count(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// `512 bytes`, `3.4 KB`, `12.3 MB`: small scans are not `0.0 MB` (the
/// summary line and the HTML report's header).
pub fn size(bytes: u64) -> String {
    match bytes {
        0..=999 => count(bytes, "byte", "bytes"),
        1_000..=999_999 => format!("{:.1} KB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// A finding with the verdict on it.
#[derive(Debug, Clone)]
pub struct Judged {
    pub finding: Finding,
    /// `None`: new. `Some`: suppressed, with the reason and (baselines) status.
    pub suppressed: Option<(SuppressReason, Option<String>)>,
    /// What the secret proves by itself (`verify::offline`); empty: nothing.
    pub evidence: std::collections::BTreeMap<String, String>,
    /// Whether it is live (`--verify`, or offline proof such as an expired JWT).
    pub verification: Option<crate::verify::Verification>,
}

/// Everything a reporter needs.
pub struct Report<'a> {
    /// Sorted by path, line, column, rule. Suppressed findings appear only
    /// when `show_suppressed` is set.
    pub findings: &'a [Judged],
    pub stats: &'a Stats,
    pub rules: &'a RuleSet,
    pub show_secrets: bool,
    /// Every secret of the run, redacted in the other text a report prints
    /// (commit summaries, authors, paths); `Redactor::none()` with
    /// `--show-secrets`.
    pub redactor: &'a Redactor,
    /// Colour and grouping (text on a terminal).
    pub color: bool,
    /// The directory scanned, as given on the command line, when findings'
    /// paths are relative to it: the text report shows `ROOT/PATH`, a path
    /// that opens from where the command ran (as ripgrep prints them).
    /// Machine formats keep the relative path (fingerprints and baselines
    /// do not depend on where the scan was started).
    pub shown_root: Option<&'a std::path::Path>,
    /// The text report shows each finding's source line (redacted) with a
    /// `^^^` marker under the secret (`--no-context` turns it off).
    pub context: bool,
}

impl Report<'_> {
    /// `path` as the text report shows it: under `shown_root` if any.
    pub fn shown_path(&self, path: &crate::paths::PathBytes) -> String {
        match self.shown_root {
            None => path.escaped(),
            Some(root) => {
                let mut joined = crate::paths::path_bytes(root).0;
                if !joined.ends_with(b"/") {
                    joined.push(b'/');
                }
                joined.extend_from_slice(&path.0);
                crate::paths::PathBytes(joined).escaped()
            }
        }
    }

    pub fn secret_text(&self, f: &Finding) -> String {
        if self.show_secrets {
            String::from_utf8_lossy(f.secret.expose()).into_owned()
        } else {
            f.secret.redacted()
        }
    }

    /// A path as reports print it: with the run's secrets redacted.
    pub fn path<'p>(&self, p: &'p PathBytes) -> std::borrow::Cow<'p, PathBytes> {
        match self.redactor.bytes(&p.0) {
            std::borrow::Cow::Borrowed(_) => std::borrow::Cow::Borrowed(p),
            std::borrow::Cow::Owned(b) => std::borrow::Cow::Owned(PathBytes(b)),
        }
    }

    /// A commit's free text (summary, author, email) with the run's secrets
    /// redacted.
    pub fn commit(&self, c: &CommitInfo) -> CommitInfo {
        CommitInfo {
            id: c.id.clone(),
            author: self.redactor.text(&c.author).into_owned(),
            email: self.redactor.text(&c.email).into_owned(),
            date: c.date.clone(),
            summary: self.redactor.text(&c.summary).into_owned(),
        }
    }
}

pub fn write(report: &Report<'_>, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Html => html::write(report, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_choice() {
        use ColorWhen::*;
        assert!(color_for(Auto, Format::Text, true, false));
        assert!(!color_for(Auto, Format::Text, true, true), "NO_COLOR");
        assert!(!color_for(Auto, Format::Text, false, false));
        assert!(color_for(Always, Format::Text, false, true));
        assert!(!color_for(Never, Format::Text, true, false));
        assert!(!color_for(Always, Format::Json, true, false));
    }

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(count(1u64, "file", "files"), "1 file");
        assert_eq!(count(0u64, "file", "files"), "0 files");
        assert_eq!(count(2u64, "commit", "commits"), "2 commits");
    }
}
