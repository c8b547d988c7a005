//! `leakscan staged`: the pre-commit hook's scan. Scans the staged blobs of
//! every file the change adds or modifies and reports only secrets on lines
//! the change adds, so a secret already in HEAD never blocks an unrelated
//! commit. Line numbers are those of the staged version.
//!
//! Latency is the point: the index is streamed without libgit2 and unchanged
//! directories are skipped by the cache tree (see `git::staged`); in a
//! modified file only the lines around the added ones are scanned
//! (`pipeline::staged`); rename and copy searches run only for added files
//! that hold a secret.
//!
//! The commit is judged by what it records: `.leakscan.toml` and the
//! baseline are read from the index (`Settings::resolve_staged`), so an
//! edit not staged cannot loosen the hook.

use std::time::Instant;

use crate::cli::StagedArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::git::staged::Changes;
use crate::git::staged::Staging;
use crate::outcome;
use crate::paths::PathBytes;
use crate::pipeline;
use crate::pipeline::Scanned;
use crate::progress::Counters;
use crate::settings::{Request, Settings};
use crate::source::worktree::WalkOptions;
use crate::suppress::baseline::RunScope;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Printed after the report when the staged change adds secrets.
pub const ADVICE: &str = "\
leakscan: the staged change adds the secrets listed above; the commit is blocked.
For each one, either:
  - remove it from the file, `git add` the file again, and rotate the credential
    (revoke it and issue a new one: once typed into a file, treat it as exposed);
  - if it is a false positive, put `leakscan:allow` (or `leakscan:allow=RULE-ID`)
    in a comment on that line;
  - if it is known and accepted, record it in the baseline: `leakscan baseline update`
    (it creates the baseline if there is none), then `git add .leakscan-baseline.json`
    and commit again; CI that reads the baseline from the target branch
    (`--baseline-from BRANCH`) accepts it once the baseline change is merged there;
  - only as a last resort, skip this check for one commit: ";

/// The advice, ending with how to skip the hook the way it was installed:
/// under the pre-commit framework (which sets `PRE_COMMIT=1`) by its `SKIP`
/// variable, else with `--no-verify`.
pub fn advice(workdir: &std::path::Path) -> String {
    let skip = if std::env::var_os("PRE_COMMIT").is_some_and(|v| !v.is_empty()) {
        "`SKIP=leakscan git commit …`"
    } else {
        "`git commit --no-verify`"
    };
    let branch = default_branch(workdir).unwrap_or_else(|| "main".to_string());
    format!("{}{skip}.", ADVICE.replace("BRANCH", &branch))
}

/// The repository's default branch, as the advice names it: the branch
/// `origin/HEAD` points to (what a clone checked out), else git's
/// `init.defaultBranch`.
fn default_branch(workdir: &std::path::Path) -> Option<String> {
    let repo = crate::git::Repo::discover(workdir).ok()?;
    if let Some(r) = repo.reference("refs/remotes/origin/HEAD") {
        if let Some(name) = r
            .symbolic
            .as_deref()
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| t.strip_prefix("refs/remotes/origin/"))
        {
            return Some(name.to_string());
        }
    }
    repo.config_string("init.defaultBranch")
        .ok()
        .flatten()
        .filter(|b| !b.is_empty())
}

/// `leakscan staged FILE...` (how the pre-commit framework calls the hook,
/// also for `pre-commit run --all-files`): findings of the staged change in
/// the named files, and every named file that the change does not touch
/// scanned whole from the work tree, so checking all files checks them all.
fn only_named(
    scanned: Scanned,
    files: &[PathBuf],
    changes: &Changes,
    repo: &Staging,
    settings: &Settings,
) -> Result<Scanned> {
    let top = crate::paths::absolute(repo.workdir());
    let rel = |f: &PathBuf| {
        let abs = crate::paths::absolute(f);
        let inside = abs.strip_prefix(&top).map(Path::to_path_buf).unwrap_or(abs);
        crate::paths::path_bytes(&inside)
    };
    let named: HashSet<PathBytes> = files.iter().map(rel).collect();
    let staged: HashSet<&PathBytes> = changes.files.iter().map(|f| &f.path).collect();
    let mut out = Scanned {
        findings: scanned
            .findings
            .into_iter()
            .filter(|f| named.contains(&f.path))
            .collect(),
        stats: scanned.stats,
    };
    let others: Vec<PathBuf> = files
        .iter()
        .filter(|f| !staged.contains(&rel(f)))
        .map(|f| repo.workdir().join(rel(f).as_str_lossy().as_ref()))
        .collect();
    if !others.is_empty() {
        let opts = WalkOptions {
            no_ignore: true,
            hidden: true,
            follow: false,
            threads: settings.threads,
            max_file_size: settings.max_file_size(None),
        };
        let whole = pipeline::scan_paths(
            &others,
            &opts,
            settings.rules.clone(),
            settings.archives.clone(),
            Arc::new(Counters::default()),
        );
        for mut f in whole.findings {
            let shown = crate::paths::from_bytes(&f.path.0);
            f.path = rel(&shown);
            out.findings.push(f);
        }
        out.stats.merge(whole.stats);
        out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    Ok(out)
}

pub fn run(args: StagedArgs) -> Result<Exit> {
    let start = Instant::now();
    crate::progress::catch_interrupts();
    let repo = Staging::open(args.repo.as_deref())?;
    let changes = repo.changes()?;
    // `.leakscan.toml` and the baseline as the commit records them; the
    // two default names (in index order) found in one pass over the index.
    let defaults = [
        crate::suppress::baseline::DEFAULT_FILE,
        crate::config::CONFIG_FILE,
    ];
    debug_assert!(defaults[0] < defaults[1]);
    let found = std::cell::OnceCell::new();
    let in_index = |path: &str| -> Result<Option<Vec<u8>>> {
        let failed = |msg: String| Error::Git {
            repo: repo.workdir().to_path_buf(),
            msg: format!("the index's {path}: {msg}"),
        };
        let id = match defaults.iter().position(|d| *d == path) {
            Some(i) => {
                if found.get().is_none() {
                    let names = defaults.map(str::as_bytes);
                    let _ = found.set(changes.staged_blobs(&names).map_err(failed)?);
                }
                found.get().and_then(|ids| ids[i])
            }
            None => changes.staged_blob(path.as_bytes()).map_err(failed)?,
        };
        match id {
            Some(id) => Ok(Some(repo.read(id).map_err(failed)?.content().to_vec())),
            None => Ok(None),
        }
    };
    let mut settings =
        Settings::resolve_staged(Request::from_cli(&args.common), repo.workdir(), &in_index)?;
    // The hook sees one change, never a whole scope: nothing is stale here.
    if let Some(b) = settings.suppressor.baseline.as_mut() {
        b.set_run_scope(RunScope::Partial);
    }
    // No size limit in the hook unless `--max-file-size` asks for one: a
    // large staged file is matched in bounded chunks rather than let through
    // unscanned (the config's `max_file_size` is for walks and history).
    settings.set_archives(&args.common.archives);
    let mut scanned = pipeline::staged::scan(
        &repo,
        &changes,
        settings.rules.clone(),
        args.common.run.max_file_size.unwrap_or(u64::MAX),
        settings.archives.clone(),
    );
    if !args.files.is_empty() {
        scanned = only_named(scanned, &args.files, &changes, &repo, &settings)?;
    }
    // The advice reads the default branch: only when there is something to
    // advise about.
    let advice = (!scanned.findings.is_empty()).then(|| advice(repo.workdir()));
    let exit = outcome::finish(scanned, &settings, start, "files", advice.as_deref());
    // The process ends here: closing libgit2's pack maps and caches one by
    // one would cost a few percent of the run.
    std::mem::forget(repo);
    exit
}
