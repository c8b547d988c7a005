//! The end of every scanning run: judge each finding (suppress), write the
//! report, print the problems and the summary, and decide the exit code.
//! Imports no command: commands call it.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::finding::{InlineAllow, Redactor};
use crate::paths::escape_controls;
use crate::pipeline::Scanned;
use crate::report::{self, Judged, Report};
use crate::settings::{Output, Settings};
use crate::stats::SuppressReason;
use crate::suppress::Verdict;

mod verification;

/// Judges, reports and summarises; returns the exit code. `unit` names what
/// was scanned (`files`, `blobs`); `advice` is printed when there are new findings.
pub fn finish(
    mut scanned: Scanned,
    settings: &Settings,
    start: Instant,
    unit: &str,
    advice: Option<&str>,
) -> Result<Exit> {
    let (suppressor, output) = (&settings.suppressor, &settings.output);
    // Every secret found, shown or suppressed, is redacted wherever else it
    // appears in the report (a commit summary, a path).
    let redactor = if output.show_secrets {
        Redactor::none()
    } else {
        Redactor::new(scanned.findings.iter().map(|f| &f.secret))
    };
    redact_problems(&mut scanned.stats, &redactor);
    let mut judged = Vec::with_capacity(scanned.findings.len());
    let mut new = 0usize;
    let total = scanned.findings.len();
    for f in scanned.findings.drain(..) {
        match suppressor.judge(&f) {
            Verdict::Report => {
                new += 1;
                judged.push(Judged {
                    finding: f,
                    suppressed: None,
                    evidence: Default::default(),
                    verification: None,
                });
            }
            Verdict::Suppressed(reason, status) => {
                *scanned.stats.suppressed.entry(reason).or_default() += 1;
                if reason == SuppressReason::Inline && f.inline == InlineAllow::Gitleaks {
                    scanned.stats.inline_gitleaks += 1;
                }
                if output.show_suppressed {
                    judged.push(Judged {
                        finding: f,
                        suppressed: Some((reason, status)),
                        evidence: Default::default(),
                        verification: None,
                    });
                }
            }
        }
    }
    // The scan's time, not the verification's (its own line says what it sent).
    scanned.stats.elapsed = start.elapsed();
    let verified = verification::annotate(&mut judged, &output.verify)?;
    if output.verify.only_live {
        judged.retain(|j| j.suppressed.is_some() || verification::is_live(j));
    }
    let live = judged
        .iter()
        .filter(|j| j.suppressed.is_none() && verification::is_live(j))
        .count();
    if output.verify.only_live {
        new = live;
    }
    let stats = &mut scanned.stats;
    let to_terminal = output.path.is_none() && std::io::stdout().is_terminal();
    let report = Report {
        findings: &judged,
        stats,
        rules: &settings.rules,
        show_secrets: output.show_secrets,
        redactor: &redactor,
        color: report::color_enabled(output.format, to_terminal),
        shown_root: output.shown_root.as_deref(),
        context: output.context,
    };
    write_report(&report, output)?;
    for (format, path) in &output.also {
        let plain = Report {
            color: false,
            ..report
        };
        write_to_file(&plain, *format, path, output.show_secrets)?;
    }
    let stats = &scanned.stats;
    print_problems(stats);
    if !output.quiet {
        eprint!("{}", summary(stats, total, new, unit));
        if let Some(v) = &verified {
            eprintln!("{}", verification::summary(&judged, v));
        }
        // Entries that matched nothing (#4); the pre-commit hook turns this off.
        if let Some(note) = suppressor.baseline.as_ref().and_then(|b| b.stale_note()) {
            eprintln!("{note}");
        }
    }
    if stats.interrupted {
        eprintln!(
            "leakscan: interrupted: the scan stopped early, so the report is incomplete \
             (only what was found before Ctrl-C{})",
            if output.format == report::Format::Json {
                "; \"complete\": false"
            } else {
                ""
            }
        );
        return Ok(Exit::Interrupted);
    }
    if new > 0 {
        if let Some(a) = advice {
            eprintln!("{a}");
        }
    }
    Ok(if !stats.errors.is_empty() {
        Exit::Error
    } else if output.verify.fail_on_live {
        if live > 0 {
            Exit::Findings
        } else {
            Exit::Clean
        }
    } else if new > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// Redacts the run's secrets in its problem lines: errors and warnings
/// name files and objects, and a name may hold a secret (printed on standard
/// error and in the reports' stats).
pub fn redact_problems(stats: &mut crate::stats::Stats, redactor: &Redactor) {
    for e in &mut stats.errors {
        if let std::borrow::Cow::Owned(t) = redactor.text(&e.msg) {
            e.msg = t;
        }
    }
    for w in &mut stats.warnings {
        if let std::borrow::Cow::Owned(t) = redactor.text(w) {
            *w = t;
        }
    }
}

/// The run's errors (the first 50, then how many more) and warnings, on
/// standard error.
pub fn print_problems(stats: &crate::stats::Stats) {
    // Messages name files and objects: their control characters are escaped.
    for e in stats.errors.iter().take(50) {
        eprintln!("leakscan: error: {}", escape_controls(&e.msg));
    }
    if stats.errors.len() > 50 {
        eprintln!("leakscan: … and {} more errors", stats.errors.len() - 50);
    }
    for w in &stats.warnings {
        eprintln!("leakscan: warning: {}", escape_controls(w));
    }
}

fn write_to_file(
    report: &Report<'_>,
    format: report::Format,
    path: &std::path::Path,
    show_secrets: bool,
) -> Result<()> {
    let file = create_report(path, show_secrets).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    report::write(report, format, &mut w)
        .and_then(|_| w.flush())
        .map_err(|e| Error::io(path, e))
}

fn write_report(report: &Report<'_>, output: &Output) -> Result<()> {
    let result = match &output.path {
        Some(path) => write_to_file(report, output.format, path, output.show_secrets),
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            report::write(report, output.format, &mut w)
                .and_then(|_| w.flush())
                .map_err(|e| Error::io("<stdout>", e))
        }
    };
    match result {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Opens `--output` for writing. A report that shows secrets is made
/// readable by its owner only (0600), also when the file was already there.
pub(crate) fn create_report(
    path: &std::path::Path,
    secret: bool,
) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let file = opts.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        return Ok(file);
    }
    let _ = secret;
    opts.open(path)
}

/// ` (N MB/s)`, only when at least a megabyte was read: a rate over a
/// few kilobytes is start-up time, not throughput.
fn rate(bytes: u64, secs: f64) -> String {
    if bytes < 1_000_000 || secs <= 0.0 {
        return String::new();
    }
    format!(" ({:.0} MB/s)", bytes as f64 / 1e6 / secs)
}

/// The stderr summary: what was scanned, skipped, found and suppressed.
pub fn summary(stats: &crate::stats::Stats, total: usize, new: usize, unit: &str) -> String {
    let secs = stats.elapsed.as_secs_f64();
    let mut s = String::new();
    if stats.commits > 0 {
        s += &format!(
            "leakscan: {}, ",
            report::count(stats.commits, "commit", "commits")
        );
    } else {
        s += "leakscan: ";
    }
    s += &format!(
        "scanned {} ({}) in {secs:.2} s{}\n",
        report::count(stats.scanned, unit.strip_suffix('s').unwrap_or(unit), unit),
        report::size(stats.bytes),
        rate(stats.bytes, secs)
    );
    if stats.binary > 0 {
        s += &format!(
            "leakscan: of which {} binary (printable runs matched with the rules that need no context)\n",
            stats.binary
        );
    }
    let skipped = stats.skipped_total();
    if skipped > 0 {
        let parts: Vec<String> = stats
            .skipped
            .iter()
            .map(|(r, n)| format!("{n} {}", r.human()))
            .collect();
        s += &format!("leakscan: not scanned: {skipped} ({})\n", parts.join(", "));
    }
    let mut parts = Vec::new();
    for (reason, label) in [
        (SuppressReason::Baseline, "in baseline"),
        (SuppressReason::Inline, "allowed inline"),
        (SuppressReason::Allowlist, "allowlisted by config"),
    ] {
        if let Some(n) = stats.suppressed.get(&reason) {
            if reason == SuppressReason::Inline && stats.inline_gitleaks > 0 {
                parts.push(format!(
                    "{n} {label} ({} gitleaks:allow)",
                    stats.inline_gitleaks
                ));
            } else {
                parts.push(format!("{n} {label}"));
            }
        }
    }
    parts.push(format!("{new} new"));
    s += &format!(
        "leakscan: {total} finding{}: {}\n",
        if total == 1 { "" } else { "s" },
        parts.join(", ")
    );
    if !stats.errors.is_empty() {
        let n = stats.errors.len();
        s += &format!(
            "leakscan: {n} error{} (exit code 2)\n",
            if n == 1 { "" } else { "s" }
        );
    }
    s
}
