//! `leakscan sweep`: the incident-response sweep of many repositories.
//! Flags to settings (`Settings::resolve`), then the driver
//! (`pipeline::sweep`), then the report (`report::sweep`) to standard output
//! or `--output`, the closing lines on standard error, and the exit code.
//! `sweep merge` combines shards or state directories (`merge`).

mod merge;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::{SweepArgs, SweepCommand, SweepFormat, SweepOutput, SweepSub};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::{self, sweep::Sweep};
use crate::report::sweep::{parse_shard, Interruption, Report};
use crate::report::Format;
use crate::settings::{self, BaselineChoice, Output, Request, Settings};

pub fn run(cmd: SweepCommand) -> Result<Exit> {
    match cmd.merge {
        Some(SweepSub::Merge(args)) => merge::run(args),
        None => sweep(cmd.args),
    }
}

fn sweep(args: SweepArgs) -> Result<Exit> {
    let start = Instant::now();
    // The first Ctrl-C stops after the repository being read; the report of
    // what is done is still written (marked incomplete). A second one ends
    // the process at once.
    crate::progress::catch_interrupts();
    if args.roots.is_empty() && args.repo_list.is_none() {
        return Err(Error::Usage(
            "sweep needs at least one ROOT directory or --repo-list FILE".into(),
        ));
    }
    let shard = match &args.shard {
        None => None,
        Some(s) => Some(parse_shard(s).ok_or_else(|| {
            Error::Usage(format!(
                "--shard `{s}`: expected I/N with 0 <= I < N (e.g. 0/4)"
            ))
        })?),
    };
    // Repositories' own `.leakscan.toml` files and baselines are not read:
    // only `--config`, and every finding is judged by its allowlist.
    let request = Request {
        config: args.rules.config.clone(),
        no_config: args.rules.config.is_none(),
        no_default_rules: args.rules.no_default_rules,
        baseline: BaselineChoice::Ignore,
        output: Output {
            format: Format::Text,
            path: None,
            also: Vec::new(),
            shown_root: None,
            context: false,
            show_secrets: args.out.show_secrets,
            quiet: args.out.quiet,
            show_suppressed: false,
            verify: Default::default(),
        },
        threads: args.run.threads,
        min_confidence: None,
    };
    let mut prepared = Settings::resolve(request, Path::new("."), None)?;
    prepared.set_archives(&args.archives);
    let max_file_size = prepared.max_file_size(args.run.max_file_size);
    let Settings {
        config,
        rules,
        suppressor,
        threads,
        archives,
        switches,
        ..
    } = prepared;
    let verifying = settings::verifying(&args.verify);
    let out = &args.out;
    let job = Sweep {
        roots: &args.roots,
        repo_list: args.repo_list.as_deref(),
        shard,
        state: args.state.as_deref(),
        key_file: args.key_file.as_deref(),
        config: config.as_ref(),
        no_default_rules: args.rules.no_default_rules,
        rules,
        suppressor,
        threads,
        max_file_size,
        archives,
        trace: switches.trace,
        pack_reader: switches.pack_reader,
        show_secrets: out.show_secrets,
        quiet: out.quiet,
        progress_bar: !out.quiet && out.format == SweepFormat::Text,
        verify: verifying.options.clone(),
    };
    let swept = pipeline::sweep::run(job, start)?;
    let mut report = swept.report;
    if report.verified && verifying.only_live {
        report.retain_live();
    }
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    write(&report, out)?;
    if let Some(i) = report.interrupted {
        interrupted_note(&i, args.state.as_deref(), out.output.as_deref());
        return Ok(Exit::Interrupted);
    }
    if !out.quiet {
        eprintln!(
            "leakscan: sweep: {} repositor{} ({} scanned, {} unchanged since the saved state, {} failed); {} blob \
             reads saved by sharing between repositories ({} distinct blobs), {:.1} MB scanned, {:.2} s",
            report.repos.len(),
            if report.repos.len() == 1 { "y" } else { "ies" },
            swept.scanned,
            swept.reused,
            report.failed(),
            swept.blob_hits,
            swept.blobs,
            swept.bytes as f64 / 1e6,
            start.elapsed().as_secs_f64()
        );
        summary(&report);
        if let Some(note) = swept.verify_note {
            eprintln!("{note}");
            eprintln!("leakscan: {}", report.live_line());
        }
    }
    if verifying.fail_on_live && report.failed() == 0 {
        return Ok(if report.live() > 0 {
            Exit::Findings
        } else {
            Exit::Clean
        });
    }
    Ok(exit(&report))
}

/// What Ctrl-C left, where, and how to go on (always said, also with -q).
fn interrupted_note(
    i: &Interruption,
    state: Option<&std::path::Path>,
    output: Option<&std::path::Path>,
) {
    let to = match output {
        Some(p) => format!("the report in {} is", p.display()),
        None => "the report above is".to_string(),
    };
    eprintln!("leakscan: {}; {to} marked incomplete", i.describe());
    match state {
        Some(dir) => eprintln!(
            "leakscan: to resume, run the same command again (with --state {}): the {} finished \
             repositor{} are not scanned again",
            dir.display(),
            i.finished,
            if i.finished == 1 { "y" } else { "ies" }
        ),
        None => eprintln!(
            "leakscan: nothing was saved to resume from: run the sweep with --state DIR, which keeps \
             each repository's result as it finishes, so a rerun after Ctrl-C scans only the rest"
        ),
    }
}

/// The headline and reminders on standard error.
fn summary(report: &Report) {
    eprintln!("leakscan: {}", report.headline());
    if report.outside.files > 0 {
        eprintln!(
            "leakscan: not in any repository: {} file{}; scan them with `leakscan scan`",
            report.outside.files,
            if report.outside.files == 1 { "" } else { "s" }
        );
    }
    if report.missing_plaintext() {
        eprintln!(
            "leakscan: warning: some secrets were swept without --show-secrets and are shown redacted"
        );
    }
    let failed = report.failed();
    if failed > 0 {
        eprintln!(
            "leakscan: {failed} repositor{} failed (exit code 2)",
            if failed == 1 { "y" } else { "ies" }
        );
    }
}

fn exit(report: &Report) -> Exit {
    if report.failed() > 0 {
        Exit::Error
    } else if report.secrets() > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

/// Writes the report in the chosen format to `--output` or standard output.
fn write(report: &Report, out: &SweepOutput) -> Result<()> {
    let emit = |w: &mut dyn Write| -> std::io::Result<()> {
        match out.format {
            SweepFormat::Text => report.write_text(w),
            SweepFormat::Json => report.write_json(w),
            SweepFormat::Csv => report.write_csv(w),
        }?;
        w.flush()
    };
    let result = match &out.output {
        Some(path) => {
            // Plaintext secrets: readable by the owner only (0600).
            let file = crate::outcome::create_report(path, report.show_secrets)
                .map_err(|e| Error::io(path, e))?;
            emit(&mut std::io::BufWriter::new(file)).map_err(|e| Error::io(path, e))
        }
        None => emit(&mut std::io::BufWriter::new(std::io::stdout().lock()))
            .map_err(|e| Error::io(PathBuf::from("<stdout>"), e)),
    };
    match result {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
