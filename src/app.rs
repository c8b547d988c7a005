//! Glue between the command line and the stages: resolves settings, runs the
//! right source through the pipeline, judges findings, writes the report and
//! the summary, and returns the exit code.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use crate::cli::{Cli, Command, CommonArgs, RulesCommand};
use crate::commands;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::Scanned;
use crate::report::{self, Format, Judged, Report};
use crate::rules::RuleSet;
use crate::stats::SuppressReason;
use crate::suppress::{Suppressor, Verdict};

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Rules(RulesCommand::Check {
            config,
            no_default_rules,
        }) => commands::rules::check(config, no_default_rules),
        Command::Rules(RulesCommand::List {
            config,
            no_default_rules,
        }) => commands::rules::list(config, no_default_rules),
        Command::Staged(args) => commands::staged::run(args),
        Command::History(args) => commands::history::run(args),
        Command::Baseline(cmd) => commands::baseline::run(cmd),
        Command::InstallHook(args) => commands::hook::install(args),
        Command::UninstallHook(args) => commands::hook::uninstall(args),
        Command::Sweep(cmd) => commands::sweep::run(cmd),
    }
}

pub fn progress_enabled(common: &CommonArgs) -> bool {
    !common.quiet && common.format == Format::Text && std::io::stderr().is_terminal()
}

/// Judges, reports and summarises; returns the exit code. `unit` names what
/// was scanned (`files`, `blobs`); `advice` is printed when there are new findings.
pub fn finish(
    mut scanned: Scanned,
    rules: &RuleSet,
    suppressor: &Suppressor,
    common: &CommonArgs,
    start: Instant,
    unit: &str,
    advice: Option<&str>,
) -> Result<Exit> {
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
                });
            }
            Verdict::Suppressed(reason, status) => {
                *scanned.stats.suppressed.entry(reason).or_default() += 1;
                if common.show_suppressed {
                    judged.push(Judged {
                        finding: f,
                        suppressed: Some((reason, status)),
                    });
                }
            }
        }
    }
    let stats = &mut scanned.stats;
    stats.elapsed = start.elapsed();
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let report = Report {
        findings: &judged,
        stats,
        rules,
        show_secrets: common.show_secrets,
        color: to_terminal
            && common.format == Format::Text
            && std::env::var_os("NO_COLOR").is_none(),
    };
    write_report(&report, common)?;
    let stats = &scanned.stats;
    print_problems(stats);
    if !common.quiet {
        eprint!("{}", summary(stats, total, new, unit));
        // Entries that matched nothing (#4); the pre-commit hook turns this off.
        if let Some(note) = suppressor.baseline.as_ref().and_then(|b| b.stale_note()) {
            eprintln!("{note}");
        }
    }
    if new > 0 {
        if let Some(a) = advice {
            eprintln!("{a}");
        }
    }
    Ok(if !stats.errors.is_empty() {
        Exit::Error
    } else if new > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// The run's errors (the first 50, then how many more) and warnings, on
/// standard error.
pub fn print_problems(stats: &crate::stats::Stats) {
    for e in stats.errors.iter().take(50) {
        eprintln!("leakscan: error: {e}");
    }
    if stats.errors.len() > 50 {
        eprintln!("leakscan: … and {} more errors", stats.errors.len() - 50);
    }
    for w in &stats.warnings {
        eprintln!("leakscan: warning: {w}");
    }
}

fn write_report(report: &Report<'_>, common: &CommonArgs) -> Result<()> {
    let result = match &common.output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
            let mut w = std::io::BufWriter::new(file);
            report::write(report, common.format, &mut w)
                .and_then(|_| w.flush())
                .map_err(|e| Error::io(path, e))
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            report::write(report, common.format, &mut w)
                .and_then(|_| w.flush())
                .map_err(|e| Error::io("<stdout>", e))
        }
    };
    match result {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The stderr summary: what was scanned, skipped, found and suppressed.
pub fn summary(stats: &crate::stats::Stats, total: usize, new: usize, unit: &str) -> String {
    let secs = stats.elapsed.as_secs_f64();
    let mb = stats.bytes as f64 / 1e6;
    let mut s = String::new();
    if stats.commits > 0 {
        s += &format!("leakscan: {} commits, ", stats.commits);
    } else {
        s += "leakscan: ";
    }
    s += &format!(
        "scanned {} {unit} ({mb:.1} MB) in {secs:.2} s ({:.0} MB/s)\n",
        stats.scanned,
        if secs > 0.0 { mb / secs } else { 0.0 }
    );
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
            parts.push(format!("{n} {label}"));
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
