//! `leakscan staged`: the pre-commit hook's scan. Scans the staged blobs of
//! every file the change adds or modifies and reports only secrets on lines
//! the change adds, so a secret already in HEAD never blocks an unrelated
//! commit. Line numbers are those of the staged version.
//!
//! Latency is the point: the index is read without libgit2 (see
//! `source::staged`), unchanged directories are skipped by the cache tree, and
//! diffs and rename searches run only for files that hold a secret.

use std::time::Instant;

use crate::app;
use crate::blob;
use crate::cli::StagedArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::Scanned;
use crate::settings;
use crate::source::staged::{self, Base, Changes, Kind, Repo, StagedFile};
use crate::stats::SkipReason;

/// Printed after the report when the staged change adds secrets.
pub const ADVICE: &str = "\
leakscan: the staged change adds the secrets listed above; the commit is blocked.
For each one, either:
  - remove it from the file, `git add` the file again, and rotate the credential
    (revoke it and issue a new one: once typed into a file, treat it as exposed);
  - if it is a false positive, put `leakscan:allow` (or `leakscan:allow=RULE-ID`)
    in a comment on that line;
  - if it is known and accepted, record it in the baseline: `leakscan baseline update`;
  - only as a last resort, skip this check for one commit: `git commit --no-verify`.";

pub fn run(args: StagedArgs) -> Result<Exit> {
    let start = Instant::now();
    let repo = Repo::open(args.repo.as_deref())?;
    let prepared = super::prepare(&args.common, repo.workdir(), Some(repo.workdir()))?;
    let changes = repo.changes()?;
    let max_size = settings::max_file_size(None, prepared.config.as_ref());
    let scanned = collect(&repo, &changes, &prepared, max_size);
    app::finish(
        scanned,
        &prepared.rules,
        &prepared.suppressor,
        &args.common,
        start,
        "files",
        Some(ADVICE),
    )
}

/// Scans the staged change; findings are those on added lines, before suppression.
pub fn collect(
    repo: &Repo,
    changes: &Changes,
    prepared: &super::Prepared,
    max_size: u64,
) -> Scanned {
    let mut out = Scanned::default();
    let mut matcher = Matcher::new(prepared.rules.clone());
    for path in &changes.unmerged {
        out.stats.warnings.push(format!(
            "{}: unresolved merge conflict, not scanned (resolve it and `git add` it; git commits nothing until then)",
            path.as_str_lossy()
        ));
    }
    for note in &changes.notes {
        out.stats.warnings.push(note.clone());
    }
    for file in &changes.files {
        match file.kind {
            Kind::Submodule => {
                out.stats.skip(SkipReason::Submodule, 0);
                continue;
            }
            Kind::Symlink => {
                out.stats.skip(SkipReason::Symlink, 0);
                continue;
            }
            Kind::File => {}
        }
        if let Err(msg) = scan_file(repo, changes, file, &mut matcher, max_size, &mut out) {
            out.stats.skip(SkipReason::Unreadable, 0);
            out.stats
                .error(format!("{}: {msg}", file.path.as_str_lossy()));
        }
    }
    out.stats.take_matcher_counters(&matcher.counters);
    let rules = matcher.rules().clone();
    for (r, msg) in matcher.rule_errors.drain(..) {
        out.stats
            .error(format!("rule {}: {msg}", rules.rules[r].id));
    }
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// Scans one staged blob and keeps the findings its change adds.
fn scan_file(
    repo: &Repo,
    changes: &Changes,
    file: &StagedFile,
    matcher: &mut Matcher,
    max_size: u64,
    out: &mut Scanned,
) -> Result<(), String> {
    let blob = repo.read(file.id)?;
    let bytes = blob.content();
    let size = bytes.len() as u64;
    if size > max_size {
        out.stats.skip(SkipReason::TooLarge, size);
        return Ok(());
    }
    if blob::is_lfs_pointer(bytes) {
        out.stats.skip(SkipReason::LfsPointer, size);
        return Ok(());
    }
    let text = blob::decode(bytes);
    if blob::is_binary(&text) {
        out.stats.skip(SkipReason::Binary, size);
        return Ok(());
    }
    out.stats.scanned += 1;
    out.stats.bytes += size;
    let found = blob::scan_bytes(matcher, &text, &file.path);
    if found.is_empty() {
        return Ok(());
    }
    let new = match repo.base(changes, file, bytes)? {
        Base::Same => Vec::new(),
        Base::Nothing => found,
        Base::Blob { id, .. } => {
            let old_blob = repo.read(id)?;
            let old = blob::decode(old_blob.content());
            let added = staged::added_lines(&old, &text)?;
            found
                .into_iter()
                .filter(|f| added.touches(f.line, f.end_line) && !already_there(f, &old))
                .collect()
        }
    };
    out.findings.extend(new);
    Ok(())
}

/// A secret the base version already holds somewhere (a moved or re-indented
/// line, a duplicate of an old value) is not new either.
fn already_there(f: &Finding, old: &[u8]) -> bool {
    let secret = f.secret.expose();
    !secret.is_empty() && memchr::memmem::find(old, secret).is_some()
}
