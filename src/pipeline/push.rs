//! The push check's driver (`pre-receive`, `pre-push`): which of the pushed
//! tips are new commits (tags peeled; known refs peeled by `packed-refs`
//! or the reftable records where git recorded it, else by object headers), the history they add
//! over the known refs (`history::run`), blobs pushed under a tag, and
//! which findings a parent of their commit already had at the same path
//! (an edit elsewhere in a file that held the secret before the push).
//! Judging what is left is the command's (`Suppressor`).

use std::sync::Arc;

use crate::error::Result;
use crate::finding::Finding;
use crate::git::revwalk::Selection;
use crate::git::stream::STREAM_OVER;
use crate::git::{Kind, Oid, OidMap, Repo};
use crate::paths::PathBytes;
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, ItemError, Stats};

use super::history::{self, HistoryOptions};
use super::BlobStep;

/// What a push adds, before anything is read.
#[derive(Debug, Default)]
pub struct Plan {
    /// New commits (tips not already known, peeled).
    pub commits: Vec<Oid>,
    /// (tip, blob) for tips that are blobs (a tag of a blob).
    pub blobs: Vec<(Oid, Oid)>,
    /// The known refs, peeled to commits: the history the walk hides.
    pub known: Vec<Oid>,
    /// Tips that cannot be read or checked.
    pub errors: Vec<ItemError>,
}

impl Plan {
    /// Nothing new to read.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.blobs.is_empty()
    }
}

/// What the push check found, before judging.
#[derive(Debug, Default)]
pub struct Scanned {
    pub findings: Vec<Finding>,
    /// Findings dropped because a parent of their commit had the secret at
    /// the same path already.
    pub already_there: u64,
    pub stats: Stats,
}

/// Peels the pushed `tips` and the `known` ref targets.
pub fn plan(repo: &Repo, tips: &[Oid], known: &[Oid]) -> Plan {
    let known = {
        // Annotated tags peeled by packed-refs or reftable need no tag read.
        let peeled = repo.peeled_tags();
        let mut seen = OidMap::default();
        for &k in known {
            if let Some(c) = repo
                .peel(peeled.get(&k).copied().unwrap_or(k))
                .ok()
                .filter(|(_, t)| *t == Kind::Commit)
            {
                seen.insert(c.0, ());
            }
        }
        let mut v: Vec<Oid> = seen.into_keys().collect();
        v.sort();
        v
    };
    let mut out = Plan {
        known,
        ..Plan::default()
    };
    let known_set: OidMap<()> = out.known.iter().map(|&k| (k, ())).collect();
    for &tip in tips {
        match repo.peel(tip) {
            Ok((c, Kind::Commit)) => {
                if !known_set.contains_key(&c) && !out.commits.contains(&c) {
                    out.commits.push(c);
                }
            }
            Ok((b, Kind::Blob)) => out.blobs.push((tip, b)),
            Ok((t, kind)) => out.errors.push(ItemError::new(
                ErrorKind::Object,
                format!("{tip} points to a {kind} ({t}), which leakscan cannot check"),
            )),
            Err(e) => out.errors.push(ItemError::new(
                ErrorKind::Object,
                format!("object {tip} cannot be read: {e}"),
            )),
        }
    }
    out
}

/// Scans what `plan` adds: the new commits' history over the known one,
/// and the pushed blobs; drops findings a parent already had.
pub fn scan(
    repo: &Repo,
    plan: Plan,
    opts: &HistoryOptions,
    rules: Arc<RuleSet>,
    show_progress: bool,
) -> Result<Scanned> {
    let mut out = Scanned::default();
    let mut findings = Vec::new();
    if !plan.commits.is_empty() {
        let selection = Selection {
            revs: plan.commits.iter().map(Oid::to_string).collect(),
            // Already peeled: no revision parsing per known ref.
            hide: plan.known,
            ..Selection::default()
        };
        let scanned = history::run(
            &repo.git_dir,
            &selection,
            opts,
            rules.clone(),
            show_progress,
            Some(repo.reader()),
        )?;
        findings = scanned.findings;
        out.stats.merge(scanned.stats);
    }
    let mut step = BlobStep::new(rules, opts.max_file_size).with_archives(opts.archives.clone());
    for (tip, b) in plan.blobs {
        scan_blob(repo, &mut step, tip, b, &mut findings, &mut out.stats);
    }
    step.drain_into(&mut out.stats);
    for f in findings {
        // The history scan judges whole file versions: a pushed commit that
        // edits any line of a file holding an older secret carries that
        // secret in a new blob. It is not new if a parent had it there.
        if in_a_parent(repo, &f, &mut step) {
            out.already_there += 1;
            continue;
        }
        out.findings.push(f);
    }
    Ok(out)
}

/// Whether a parent of the finding's commit has the same secret in its
/// version of the same path (inside an archive: at the same place in the
/// parent's version of the archive, which `step` opens).
fn in_a_parent(repo: &Repo, f: &Finding, step: &mut BlobStep) -> bool {
    let Some((_, parents)) = f
        .commit
        .as_ref()
        .and_then(|c| Oid::from_str(&c.id).ok())
        .and_then(|id| repo.commit(id).ok())
    else {
        return false;
    };
    let secret = f.secret.expose();
    parents.into_iter().any(|p| {
        let Some(e) = repo.entry_at(p, &f.path.0).ok().flatten() else {
            return false;
        };
        if !e.is_blob() {
            return false;
        }
        // A parent version too large to hold is searched as a stream (an
        // unreadable one holds nothing: the finding stays new).
        if f.archive.is_none() {
            if let Ok(Some(mut s)) = repo.reader().stream(e.id, STREAM_OVER) {
                return s.holds(&[secret]).is_ok_and(|h| h[0]);
            }
        }
        repo.blob(e.id).ok().is_some_and(|b| match &f.archive {
            None => memchr::memmem::find(&b, secret).is_some(),
            Some(_) => step
                .archive(&b, &f.path, &mut Stats::default())
                .is_some_and(|old| {
                    old.iter().any(|o| {
                        o.rule == f.rule && o.archive == f.archive && o.secret.expose() == secret
                    })
                }),
        })
    })
}

/// A tag (or ref) that points at a blob: its content is scanned under the
/// name `<tip>` (there is no path or commit).
fn scan_blob(
    repo: &Repo,
    step: &mut BlobStep,
    tip: Oid,
    b: Oid,
    findings: &mut Vec<Finding>,
    stats: &mut Stats,
) {
    let blob = match repo.blob(b) {
        Ok(blob) => blob,
        Err(e) => {
            stats.error(ErrorKind::Object, format!("blob {b}: {e}"));
            return;
        }
    };
    let path = PathBytes(format!("(blob {b} of {tip})").into_bytes());
    findings.extend(step.scan(&blob, &path, false, stats));
}
