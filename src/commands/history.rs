//! `leakscan history`: what the commits reachable from the given revisions
//! (default HEAD; `--all` for every ref) introduced, each finding attributed
//! to the commit that first introduced it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::git::dates::parse_date;
use crate::git::revwalk::Selection;
use crate::git::Repo;
use crate::outcome;
use crate::pipeline::history as pipeline;
use crate::progress;
use crate::settings::{Request, Settings};
use crate::suppress::baseline::{HistoryScope, RunScope};

/// What a history run covers.
#[derive(Debug, Clone)]
pub struct Target {
    /// The repository (default: the one containing the current directory).
    pub repo: Option<PathBuf>,
    pub selection: Selection,
    /// Every commit and path that introduced a copy of each secret.
    pub all_occurrences: bool,
    /// `--max-file-size`, if given.
    pub max_file_size: Option<u64>,
}

impl Target {
    fn from_args(args: &HistoryArgs) -> Result<Target> {
        Ok(Target {
            repo: args.repo.clone(),
            selection: selection(args)?,
            all_occurrences: args.all_occurrences,
            max_file_size: args.max_file_size,
        })
    }

    /// The repository named by `--repo`, or the one containing the current directory.
    pub fn open(&self) -> Result<Repo> {
        Repo::discover(self.repo.as_deref().unwrap_or(Path::new(".")))
    }
}

fn selection(args: &HistoryArgs) -> Result<Selection> {
    let date = |flag: &str, v: &Option<String>, end_of_day: bool| -> Result<Option<i64>> {
        v.as_deref()
            .map(|s| {
                parse_date(s, end_of_day).ok_or_else(|| {
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
        ..Selection::default()
    })
}

/// What a selection covers, as a baseline's scope: whole histories, or part.
fn run_scope(sel: &Selection) -> RunScope {
    let ranged = sel
        .revs
        .iter()
        .any(|r| r.contains("..") || r.starts_with('^'));
    if sel.exclude.is_empty()
        && sel.hide.is_empty()
        && sel.since.is_none()
        && sel.until.is_none()
        && !ranged
    {
        RunScope::History(HistoryScope {
            all: sel.all,
            revs: sel.revs.clone(),
        })
    } else {
        RunScope::Partial
    }
}

pub fn run(args: HistoryArgs) -> Result<Exit> {
    let start = Instant::now();
    progress::catch_interrupts();
    // Bad dates are usage errors before any reading.
    let target = Target::from_args(&args)?;
    let repo = target.open()?;
    let root: PathBuf = repo.root().to_path_buf();
    let mut settings = Settings::resolve(Request::from_cli(&args.common), &root, Some(&root))?;
    settings.set_archives(&args.common.archives);
    // Entries are stale only for a run that covers the history the baseline
    // was recorded from: a pull request's range (`main..HEAD`) does not.
    if let Some(b) = settings.suppressor.baseline.as_mut() {
        b.set_run_scope(run_scope(&target.selection));
    }
    let scanned = pipeline::run(
        &repo.git_dir,
        &target.selection,
        &settings.history_options(target.max_file_size, target.all_occurrences),
        settings.rules.clone(),
        settings.output.progress(),
    )?;
    let exit = outcome::finish(scanned, &settings, start, "blobs", None)?;
    if let (Exit::Findings, Some(rev), false) =
        (exit, &args.common.baseline_from, args.common.quiet)
    {
        eprintln!("{}", from_rev_advice(rev));
    }
    Ok(exit)
}

/// Why a finding recorded in this change's own baseline still fails a run
/// that reads the baseline from REV, and the two ways through.
fn from_rev_advice(rev: &str) -> String {
    format!(
        "leakscan: the baseline and configuration were read from {rev} (--baseline-from), so \
         entries this change adds to them do not count yet. To accept a finding: merge the \
         baseline change into {rev} first (its own pull request, reviewed by the baseline's \
         owners), then re-run this check; or have an owner approve this run as an exception. \
         To fix it instead: remove the secret, rotate it, and rewrite the branch's history."
    )
}
