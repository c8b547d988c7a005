//! Human output: `path:line:col  rule  secret`, one finding a line; on a
//! terminal, grouped under a coloured path heading.

use std::io::{self, Write};

use super::Report;

const BOLD_MAGENTA: &str = "\x1b[1;35m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

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
        if r.color {
            if last_path != Some(&f.path) {
                if last_path.is_some() {
                    writeln!(out)?;
                }
                writeln!(out, "{BOLD_MAGENTA}{}{RESET}", r.path(&f.path).escaped())?;
                last_path = Some(&f.path);
            }
            writeln!(
                out,
                "{GREEN}{}:{}{RESET}  {}  {RED}{secret}{RESET}{DIM}{commit}{status}{RESET}",
                f.line, f.column, f.rule
            )?;
        } else {
            writeln!(
                out,
                "{}:{}:{}  {}  {secret}{commit}{status}",
                r.path(&f.path).escaped(),
                f.line,
                f.column,
                f.rule
            )?;
        }
    }
    Ok(())
}
