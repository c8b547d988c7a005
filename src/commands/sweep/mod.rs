//! `leakscan sweep`: the incident-response sweep of many repositories. Finds
//! every repository under the roots (`source::repos`), scans each one's whole
//! history through the history pipeline (`scan`; a blob shared by forks is
//! read once per sweep), keys each secret by HMAC under the sweep's key
//! (`key`), keeps one result file per repository (`state`), takes a stable
//! share with `--shard` (`shard`), and builds one report with one row per
//! unique secret (`report`); `sweep merge` combines shards (`merge`).

mod key;
mod merge;
mod report;
mod scan;
mod shard;
mod state;
mod verified;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use crate::cli::{SweepArgs, SweepCommand, SweepFormat, SweepOutput, SweepSub};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::history::BlobCache;
use crate::progress::Counters;
use crate::report::Format;
use crate::settings::{self, BaselineChoice, Output, Request, Settings};
use crate::source::repos;

use key::Key;
use report::{Interruption, Meta, Outside, Report, Status};
use scan::Sweeper;
use state::{Entry, State};

pub fn run(cmd: SweepCommand) -> Result<Exit> {
    match cmd.merge {
        Some(SweepSub::Merge(args)) => merge::run(args),
        None => sweep(cmd.args),
    }
}

/// The digest that names the rule set and every setting that changes what a
/// scan finds: results made under different digests are never mixed.
fn rules_digest(
    config: Option<&crate::config::Loaded>,
    no_default: bool,
    max_file_size: u64,
    archives: Option<&crate::archive::Limits>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"leakscan-sweep-rules-v1\0");
    if !no_default {
        h.update(crate::rules::DEFAULT_RULES);
    }
    h.update([0]);
    if let Some(l) = config {
        h.update(l.text.as_bytes());
    }
    h.update([0]);
    h.update(max_file_size.to_le_bytes());
    // Archives change what is found too (opened or not, and how far).
    h.update(format!("{archives:?}").as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// A sweep without `--state` that has run this long is told about it once
/// (Ctrl-C would keep nothing to resume from). `LEAKSCAN_STATE_HINT_SECS`
/// overrides it (the tests set 0).
const STATE_HINT_AFTER: Duration = Duration::from_secs(60);

fn state_hint_after() -> Duration {
    std::env::var("LEAKSCAN_STATE_HINT_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map_or(STATE_HINT_AFTER, Duration::from_secs)
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
        Some(s) => Some(report::parse_shard(s).ok_or_else(|| {
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
    let Settings {
        config,
        rules,
        suppressor,
        threads,
        archives,
        switches,
        ..
    } = prepared;
    let max_file_size = settings::max_file_size(args.run.max_file_size, config.as_ref());
    let state = args.state.as_deref().map(State::open).transpose()?;
    let key = match (&args.key_file, &state) {
        (Some(f), _) => Key::from_file(f)?,
        (None, Some(s)) => Key::in_state(s.dir())?,
        (None, None) => Key::random()?,
    };
    let meta = Meta {
        leakscan: env!("CARGO_PKG_VERSION").to_string(),
        rules: rules_digest(
            config.as_ref(),
            args.rules.no_default_rules,
            max_file_size,
            archives.as_ref(),
        ),
        key_id: key.id(),
    };
    let found = repos::discover(&args.roots, args.repo_list.as_deref())?;
    // What could not be examined is a failure named in the report (in one
    // shard only, so merged shards name it once).
    let unlisted: Vec<report::RepoResult> = if shard.map_or(true, |(i, _)| i == 0) {
        found
            .errors
            .iter()
            .map(|(name, why)| report::RepoResult::failed(name, why))
            .collect()
    } else {
        Vec::new()
    };
    let outside = Outside {
        files: found.outside_files,
        paths: found.outside_named.iter().cloned().collect(),
    };
    if let Some(s) = &state {
        s.save_outside(&outside)?;
        let named: Vec<(String, String)> = unlisted
            .iter()
            .map(|r| (r.repo.clone(), r.error.clone().unwrap_or_default()))
            .collect();
        s.save_unlisted(&named)?;
    }
    let repos = shard::select(found.repos, shard);
    let verifying = settings::verifying(&args.verify);
    let out = &args.out;
    let sweeper = Sweeper {
        rules,
        suppressor,
        key,
        threads,
        max_file_size,
        archives,
        show_secrets: out.show_secrets,
        switches,
        cache: Arc::new(BlobCache::default()),
        counters: Arc::new(Counters::default()),
        trees: Default::default(),
        pending: verifying.options.is_some().then(Default::default),
    };
    let bar = progress_bar(out, repos.len() as u64);
    let (mut reused, mut scanned) = (0usize, 0usize);
    let mut results = Vec::with_capacity(repos.len() + unlisted.len());
    for r in unlisted {
        if !out.quiet {
            failed_note(&r);
        }
        results.push(r);
    }
    let mut interrupted = None;
    let hint_after = (state.is_none() && !out.quiet).then(state_hint_after);
    let mut hinted = false;
    for (done, found) in repos.iter().enumerate() {
        if crate::progress::interrupted() {
            interrupted = Some(Interruption {
                finished: done,
                planned: repos.len(),
            });
            break;
        }
        if let Some(after) = hint_after {
            if !hinted && start.elapsed() >= after {
                hinted = true;
                let note = || {
                    eprintln!(
                        "leakscan: note: this sweep runs long without --state: Ctrl-C now keeps only \
                         the report; with --state DIR each repository's result is saved as it \
                         finishes and a rerun resumes where it stopped"
                    )
                };
                match &bar {
                    Some(b) => b.suspend(note),
                    None => note(),
                }
            }
        }
        if let Some(b) = &bar {
            let mb = sweeper
                .counters
                .bytes
                .load(std::sync::atomic::Ordering::Relaxed) as f64
                / 1e6;
            b.set_message(format!("{mb:.0} MB  {}", found.name));
        }
        let tips = scan::tips(&found.path);
        let previous = match (&state, &tips) {
            (Some(s), Ok(tips)) => s
                .load(&found.name)
                .filter(|e| e.reusable(&meta, tips, out.show_secrets)),
            _ => None,
        };
        let result = match previous {
            Some(e) => {
                reused += 1;
                e.result
            }
            None => {
                scanned += 1;
                let mut result = sweeper.scan(&found.name, &found.path);
                if crate::progress::interrupted() {
                    // Cut short (or just finished; it cannot tell): kept in
                    // the report as what it gave, never saved as done.
                    if result.status == Status::Ok {
                        result.status = Status::Interrupted;
                    }
                    results.push(result);
                    interrupted = Some(Interruption {
                        finished: done,
                        planned: repos.len(),
                    });
                    break;
                }
                if let Some(s) = &state {
                    let entry = Entry {
                        meta: meta.clone(),
                        show_secrets: out.show_secrets,
                        path: found.path.display().to_string(),
                        tips: tips.clone().unwrap_or_default(),
                        result: result.clone(),
                    };
                    s.save(&entry)?;
                }
                result
            }
        };
        if result.status == Status::Failed && !out.quiet {
            if let Some(b) = &bar {
                b.suspend(|| failed_note(&result));
            } else {
                failed_note(&result);
            }
        }
        results.push(result);
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut report = Report::build(meta, out.show_secrets, shard, results, outside);
    let mut verify_note = None;
    if let (Some(opts), Some(pending)) = (&verifying.options, sweeper.pending) {
        let pending = pending.into_inner().unwrap_or_default();
        let mut cache = verified::Cache::load(state.as_ref().map(|s| s.dir()))?;
        let keys = report.keys();
        let began = Instant::now();
        let (verdicts, counts) = verified::run(&pending, &keys, opts, &mut cache)?;
        let took = began.elapsed().as_secs_f64();
        report.verification = verdicts;
        report.verified = true;
        let peaks: Vec<String> = counts
            .peak
            .iter()
            .map(|(h, n)| format!("{h} {n}"))
            .collect();
        verify_note = Some(format!(
            "leakscan: sweep: {} {} sent in {took:.2} s, {} verdict{} from the state's cache; \
             peak in flight per host: {}",
            counts.requests,
            if counts.requests == 1 {
                "request"
            } else {
                "requests"
            },
            cache.hits,
            if cache.hits == 1 { "" } else { "s" },
            if peaks.is_empty() {
                "-".to_string()
            } else {
                peaks.join(", ")
            }
        ));
        if verifying.only_live {
            report.retain_live();
        }
    }
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    report.interrupted = interrupted;
    write(&report, out)?;
    if let Some(i) = interrupted {
        interrupted_note(&i, args.state.as_deref(), out.output.as_deref());
        return Ok(Exit::Interrupted);
    }
    if !out.quiet {
        let hits = sweeper
            .cache
            .hits
            .load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "leakscan: sweep: {} repositor{} ({} scanned, {} unchanged since the saved state, {} failed); {} blob \
             reads saved by sharing between repositories ({} distinct blobs), {:.1} MB scanned, {:.2} s",
            report.repos.len(),
            if report.repos.len() == 1 { "y" } else { "ies" },
            scanned,
            reused,
            report.failed(),
            hits,
            sweeper.cache.len(),
            sweeper
                .counters
                .bytes
                .load(std::sync::atomic::Ordering::Relaxed) as f64
                / 1e6,
            start.elapsed().as_secs_f64()
        );
        summary(&report);
        if let Some(note) = verify_note {
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

fn failed_note(r: &report::RepoResult) {
    eprintln!(
        "leakscan: error: {}: {}",
        r.repo,
        r.error.as_deref().unwrap_or("failed")
    );
}

/// Repositories done / total, bytes, the current repository, ETA — on a
/// terminal only.
fn progress_bar(out: &SweepOutput, total: u64) -> Option<ProgressBar> {
    if out.quiet || out.format != SweepFormat::Text || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    // Fitted to the terminal's width, as the progress line is.
    let width = console::Term::stderr().size().1;
    bar.set_style(crate::progress::repositories_style(width));
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
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
