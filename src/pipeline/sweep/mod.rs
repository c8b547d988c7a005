//! The sweep's driver: many repositories, each one's whole history read
//! through the history pipeline (`scan`; a blob shared by forks is read
//! once per sweep). It finds the repositories (`source::repos`), takes a
//! stable share with `--shard` (`shard`), keys each secret by HMAC under the
//! sweep's key (`key`), keeps one result file per repository and reuses it
//! on a rerun (`state`), checks secrets once with `--verify` (`verified`),
//! and builds one report (`report::sweep::Report`) with one row per unique
//! secret. The command (`commands::sweep`) resolves flags and settings
//! before, and writes the report after.

pub mod key;
pub mod scan;
pub mod shard;
pub mod state;
pub mod verified;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::pipeline::history::BlobCache;
use crate::progress::Counters;
use crate::report::sweep::{Interruption, Meta, Outside, RepoResult, Report, Status};
use crate::rules::RuleSet;
use crate::source::repos;
use crate::suppress::Suppressor;

use key::Key;
use scan::Sweeper;
use state::{Entry, State};

/// What a sweep is asked to do, with its settings resolved.
pub struct Sweep<'a> {
    pub roots: &'a [PathBuf],
    pub repo_list: Option<&'a Path>,
    /// `--shard I/N`.
    pub shard: Option<(u32, u32)>,
    /// `--state DIR`.
    pub state: Option<&'a Path>,
    pub key_file: Option<&'a Path>,
    /// `--config`, and whether the built-in rules are off: they name the
    /// rule set in the results' digest.
    pub config: Option<&'a crate::config::Loaded>,
    pub no_default_rules: bool,
    pub rules: Arc<RuleSet>,
    /// Judges every finding (the `--config` allowlist; no baseline).
    pub suppressor: Suppressor,
    pub threads: usize,
    pub max_file_size: u64,
    pub archives: Option<crate::archive::Limits>,
    /// `LEAKSCAN_TRACE`.
    pub trace: bool,
    /// `LEAKSCAN_PACK_READER`.
    pub pack_reader: Option<bool>,
    pub show_secrets: bool,
    pub quiet: bool,
    /// A progress bar on standard error (when it is a terminal).
    pub progress_bar: bool,
    /// `--verify`: how the secrets are checked.
    pub verify: Option<crate::verify::Options>,
}

/// What a sweep gave: the report (its `interrupted` set when Ctrl-C stopped
/// it) and the volume figures for the closing line.
pub struct Swept {
    pub report: Report,
    /// Repositories scanned now, and reused from the state.
    pub scanned: usize,
    pub reused: usize,
    /// Blob reads saved by sharing between repositories.
    pub blob_hits: u64,
    /// Distinct blobs read.
    pub blobs: usize,
    pub bytes: u64,
    /// With `--verify`: what the verification pass did, for standard error.
    pub verify_note: Option<String>,
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

/// Runs the sweep `job` (begun at `start`).
pub fn run(job: Sweep<'_>, start: Instant) -> Result<Swept> {
    let show_secrets = job.show_secrets;
    let quiet = job.quiet;
    let state = job.state.map(State::open).transpose()?;
    let key = match (job.key_file, &state) {
        (Some(f), _) => Key::from_file(f)?,
        (None, Some(s)) => Key::in_state(s.dir())?,
        (None, None) => Key::random()?,
    };
    let meta = Meta {
        leakscan: env!("CARGO_PKG_VERSION").to_string(),
        rules: rules_digest(
            job.config,
            job.no_default_rules,
            job.max_file_size,
            job.archives.as_ref(),
        ),
        key_id: key.id(),
    };
    let shard = job.shard;
    let found = repos::discover(job.roots, job.repo_list)?;
    // What could not be examined is a failure named in the report (in one
    // shard only, so merged shards name it once).
    let unlisted: Vec<RepoResult> = if shard.map_or(true, |(i, _)| i == 0) {
        found
            .errors
            .iter()
            .map(|(name, why)| RepoResult::failed(name, why))
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
    let sweeper = Sweeper {
        rules: job.rules,
        suppressor: job.suppressor,
        key,
        threads: job.threads,
        max_file_size: job.max_file_size,
        archives: job.archives,
        show_secrets,
        trace: job.trace,
        pack_reader: job.pack_reader,
        cache: Arc::new(BlobCache::default()),
        counters: Arc::new(Counters::default()),
        trees: Default::default(),
        pending: job.verify.is_some().then(Default::default),
    };
    let bar = job
        .progress_bar
        .then(|| progress_bar(repos.len() as u64))
        .flatten();
    let (mut reused, mut scanned) = (0usize, 0usize);
    let mut results = Vec::with_capacity(repos.len() + unlisted.len());
    for r in unlisted {
        if !quiet {
            failed_note(&r);
        }
        results.push(r);
    }
    let mut interrupted = None;
    let hint_after = (state.is_none() && !quiet).then(state_hint_after);
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
                .filter(|e| e.reusable(&meta, tips, show_secrets)),
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
                        show_secrets,
                        path: found.path.display().to_string(),
                        tips: tips.clone().unwrap_or_default(),
                        result: result.clone(),
                    };
                    s.save(&entry)?;
                }
                result
            }
        };
        if result.status == Status::Failed && !quiet {
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
    let mut report = Report::build(meta, show_secrets, shard, results, outside);
    let mut verify_note = None;
    if let (Some(opts), Some(pending)) = (&job.verify, sweeper.pending) {
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
    }
    report.interrupted = interrupted;
    Ok(Swept {
        report,
        scanned,
        reused,
        blob_hits: sweeper
            .cache
            .hits
            .load(std::sync::atomic::Ordering::Relaxed),
        blobs: sweeper.cache.len(),
        bytes: sweeper
            .counters
            .bytes
            .load(std::sync::atomic::Ordering::Relaxed),
        verify_note,
    })
}

fn failed_note(r: &RepoResult) {
    eprintln!(
        "leakscan: error: {}: {}",
        r.repo,
        r.error.as_deref().unwrap_or("failed")
    );
}

/// Repositories done / total, bytes, the current repository, ETA — on a
/// terminal only.
fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    // Fitted to the terminal's width, as the progress line is.
    let width = console::Term::stderr().size().1;
    bar.set_style(crate::progress::repositories_style(width));
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}
