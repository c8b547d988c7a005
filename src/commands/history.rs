//! `leakscan history`: what the commits reachable from the given revisions
//! (default HEAD; `--all` for every ref) introduced, each finding attributed
//! to the commit that first introduced it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app;
use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::history::{self as pipeline, HistoryOptions};
use crate::pipeline::Scanned;
use crate::progress::Progress;
use crate::settings;
use crate::source::history::{self as source, ObjectReader, Repo, Selection};

/// The repository named by `--repo`, or the one containing the current directory.
fn repo(args: &HistoryArgs) -> Result<Repo> {
    Repo::discover(args.repo.as_deref().unwrap_or(Path::new(".")))
}

fn selection(args: &HistoryArgs) -> Result<Selection> {
    let date = |flag: &str, v: &Option<String>, end_of_day: bool| -> Result<Option<i64>> {
        v.as_deref()
            .map(|s| {
                source::parse_date(s, end_of_day).ok_or_else(|| {
                    Error::Usage(format!(
                        "{flag} `{s}`: expected a date as YYYY-MM-DD or RFC 3339 (2024-05-01T12:00:00Z)"
                    ))
                })
            })
            .transpose()
    };
    Ok(Selection {
        revs: args.revs.clone(),
        all: args.all,
        exclude: args.since_commit.iter().cloned().collect(),
        since: date("--since", &args.since, false)?,
        until: date("--until", &args.until, true)?,
    })
}

/// Scans history and returns findings (with commits) before suppression.
pub fn collect(args: &HistoryArgs, prepared: &super::Prepared) -> Result<Scanned> {
    let repo = repo(args)?;
    let selection = selection(args)?;
    let walk_start = Instant::now();
    let threads = settings::threads(args.common.threads);
    let full_history = selection.exclude.is_empty()
        && selection.since.is_none()
        && selection.until.is_none()
        && selection
            .revs
            .iter()
            .all(|r| !r.contains("..") && !r.starts_with('^'));
    let (plan, packed) = pipeline::plan_and_load(&repo.git_dir, full_history, threads, |packs| {
        let reader = match packs {
            Some(p) => ObjectReader::with_packs(&repo.git_dir, p)?,
            None => ObjectReader::open(&repo.git_dir)?,
        };
        let plan = source::plan(&reader, &selection);
        if std::env::var_os("LEAKSCAN_TRACE").is_some() {
            eprintln!(
                "leakscan: trace: walk {:.3} s ({} commits)",
                walk_start.elapsed().as_secs_f64(),
                plan.as_ref().map_or(0, |p| p.commits.len())
            );
        }
        plan
    })?;
    let progress = Progress::new(app::progress_enabled(&args.common), "blobs");
    let opts = HistoryOptions {
        threads,
        max_file_size: settings::max_file_size(args.max_file_size, prepared.config.as_ref()),
        all_occurrences: args.all_occurrences,
        cache: None,
    };
    let mut scanned = pipeline::scan(
        &repo.git_dir,
        &plan,
        packed,
        prepared.rules.clone(),
        &opts,
        progress.counters.clone(),
    );
    progress.finish();
    let stats = &mut scanned.stats;
    stats.warnings.splice(0..0, plan.warnings);
    stats.errors.splice(0..0, plan.errors);
    Ok(scanned)
}

pub fn run(args: HistoryArgs) -> Result<Exit> {
    let start = Instant::now();
    let repo = repo(&args)?;
    // Bad dates are usage errors before any reading.
    selection(&args)?;
    let root: PathBuf = repo.root().to_path_buf();
    let prepared = super::prepare(&args.common, &root, Some(&root))?;
    let scanned = collect(&args, &prepared)?;
    app::finish(
        scanned,
        &prepared.rules,
        &prepared.suppressor,
        &args.common,
        start,
        "blobs",
        None,
    )
}
