//! Human output: `path:line:col  rule  secret`, one finding a line (inside
//! an archive, `path!inner:line:col`), then (unless `--no-context`) its
//! source line, redacted, with `^^^` under the secret; on a terminal,
//! grouped under a coloured path heading. The rule id carries the
//! confidence marker: nothing for high, `[medium]` or `[low]` otherwise.

use std::io::{self, Write};

use super::Report;
use crate::rules::Confidence;

const BOLD_MAGENTA: &str = "\x1b[1;35m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The source line and its marker, when the report shows context.
fn context(r: &Report<'_>, f: &crate::finding::Finding) -> Option<(String, String)> {
    if !r.context {
        return None;
    }
    super::context::lines(&f.line_text, f.column, f.secret.expose(), &r.secret_text(f))
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut last_path = None;
    for j in r.findings {
        let f = &j.finding;
        let secret = crate::paths::escape_controls(&r.secret_text(f)).into_owned();
        let commit = f
            .commit
            .as_ref()
            .map(|c| format!("  {}", &c.id[..c.id.len().min(12)]))
            .unwrap_or_default();
        let status = match &j.suppressed {
            None => String::new(),
            Some((reason, status)) => match status {
                Some(s) => format!("  (suppressed: {}, {s})", reason.as_str()),
                None => format!("  (suppressed: {})", reason.as_str()),
            },
        };
        let location = f.location();
        let path = r.path(&location);
        let status = match &j.verification {
            Some(v) => format!("{status}  [{}]", v.status.as_str().to_uppercase()),
            None => status,
        };
        if r.color {
            if last_path.as_ref() != Some(&*path) {
                if last_path.is_some() {
                    writeln!(out)?;
                }
                writeln!(out, "{BOLD_MAGENTA}{}{RESET}", r.shown_path(&path))?;
                last_path = Some(path.clone().into_owned());
            }
            writeln!(
                out,
                "{GREEN}{}:{}{RESET}  {}{}  {RED}{secret}{RESET}{DIM}{commit}{status}{RESET}",
                f.line,
                f.column,
                f.rule,
                marker(f.confidence)
            )?;
            if let Some((line, marker)) = context(r, f) {
                writeln!(out, "    {DIM}{line}{RESET}\n    {RED}{marker}{RESET}")?;
            }
        } else {
            writeln!(
                out,
                "{}:{}:{}  {}{}  {secret}{commit}{status}",
                r.shown_path(&path),
                f.line,
                f.column,
                f.rule,
                marker(f.confidence)
            )?;
            if let Some((line, marker)) = context(r, f) {
                writeln!(out, "    {line}\n    {marker}")?;
            }
        }
    }
    Ok(())
}

/// The confidence marker after the rule id: none for `high`, ` [medium]`
/// and ` [low]` (generic) otherwise.
fn marker(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "",
        Confidence::Medium => " [medium]",
        Confidence::Low => " [low]",
    }
}
