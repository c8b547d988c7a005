//! Refs that point straight at a blob or a tree, not a commit (`git tag NAME
//! BLOB`, `git tag NAME HEAD^{tree}`; `revwalk::plan` lists them for
//! `--all` as `Plan::tagged`): content the repository keeps and serves but
//! no commit holds. Each blob is scanned as it is, at a place naming the
//! ref: `(blob ID of REF)`, or `(tree ID of REF)/PATH` for a file of a
//! tagged tree (no commit). Every such ref is counted in `Stats::tagged`.

use crate::finding::Finding;
use std::path::Path;
use std::sync::Arc;

use crate::git::trees::Entries;
use crate::git::{
    Kind, ObjectReader, Oid, MODE_FILE, MODE_GITLINK, MODE_SYMLINK, MODE_TREE, MODE_TYPE,
};
use crate::paths::PathBytes;
use crate::pipeline::BlobStep;
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, SkipReason, Stats};

use super::HistoryOptions;

/// Most entries walked under one tagged tree: a hostile tree of trees is
/// cut off there, with an error (the run exits 2), not walked without end.
const MAX_ENTRIES: usize = 1_000_000;

/// Scans the plan's tagged blobs and trees (`Plan::tagged`) in the
/// repository at `git_dir`, with the run's rules and limits.
pub(super) fn scan_refs(
    git_dir: &Path,
    tagged: &[(String, Kind, Oid)],
    rules: Arc<RuleSet>,
    opts: &HistoryOptions,
    stats: &mut Stats,
) -> Vec<Finding> {
    let reader = match ObjectReader::open(git_dir) {
        Ok(r) => r,
        Err(e) => {
            stats.tagged += tagged.len() as u64;
            stats.error(
                ErrorKind::Repository,
                format!("refs to blobs and trees not scanned: {e}"),
            );
            return Vec::new();
        }
    };
    let mut step = BlobStep::new(rules, opts.max_file_size).with_archives(opts.archives.clone());
    let found = scan(&reader, tagged, &mut step, stats);
    step.drain_into(stats);
    found
}

/// Scans each tagged blob or tree with `step`; findings carry no commit.
fn scan(
    reader: &ObjectReader,
    tagged: &[(String, Kind, Oid)],
    step: &mut BlobStep,
    stats: &mut Stats,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, kind, id) in tagged {
        stats.tagged += 1;
        match kind {
            Kind::Blob => {
                let place = PathBytes(format!("(blob {id} of {name})").into_bytes());
                blob(reader, step, *id, &place, &mut out, stats);
            }
            Kind::Tree => tree(reader, step, name, *id, &mut out, stats),
            other => stats.error(
                ErrorKind::Object,
                format!("{name} points to a {other}: not scanned"),
            ),
        }
    }
    out
}

fn blob(
    reader: &ObjectReader,
    step: &mut BlobStep,
    id: Oid,
    place: &PathBytes,
    out: &mut Vec<Finding>,
    stats: &mut Stats,
) {
    let read = reader.with_object(id, |kind, data| {
        (Kind::of(kind) == Kind::Blob).then(|| step.scan(data, place, false, stats))
    });
    match read {
        Ok(Some(found)) => out.extend(found),
        Ok(None) => stats.error(
            ErrorKind::Object,
            format!("{}: object {id} is not a blob", place.as_str_lossy()),
        ),
        Err(e) => {
            stats.skip(SkipReason::MissingObject, 0);
            stats.error(ErrorKind::Object, format!("{}: {e}", place.as_str_lossy()));
        }
    }
}

/// Every file of the tree `root` (depth first), at `(tree ROOT of NAME)/PATH`.
fn tree(
    reader: &ObjectReader,
    step: &mut BlobStep,
    name: &str,
    root: Oid,
    out: &mut Vec<Finding>,
    stats: &mut Stats,
) {
    let top = format!("(tree {root} of {name})");
    let mut todo: Vec<(String, Oid)> = vec![(top, root)];
    let mut walked = 0usize;
    while let Some((dir, id)) = todo.pop() {
        let mut files: Vec<(String, Oid, u32)> = Vec::new();
        let read = reader.with_object(id, |kind, data| {
            if Kind::of(kind) != Kind::Tree {
                return false;
            }
            for e in Entries::with_hash(data, id.kind().len()) {
                let Some(oid) = Oid::from_bytes(e.oid) else {
                    continue;
                };
                files.push((
                    format!("{dir}/{}", String::from_utf8_lossy(e.name)),
                    oid,
                    e.mode,
                ));
            }
            true
        });
        match read {
            Ok(true) => {}
            Ok(false) => {
                stats.error(ErrorKind::Object, format!("{dir}: {id} is not a tree"));
                continue;
            }
            Err(e) => {
                stats.skip(SkipReason::MissingObject, 0);
                stats.error(ErrorKind::Object, format!("{dir}: {e}"));
                continue;
            }
        }
        walked += files.len();
        if walked > MAX_ENTRIES {
            stats.error(
                ErrorKind::Object,
                format!(
                    "{name}: the tree holds over {MAX_ENTRIES} entries; the rest is not scanned"
                ),
            );
            return;
        }
        for (path, oid, mode) in files.into_iter().rev() {
            match mode & MODE_TYPE {
                MODE_TREE => todo.push((path, oid)),
                MODE_FILE | MODE_SYMLINK => {
                    blob(reader, step, oid, &PathBytes(path.into_bytes()), out, stats)
                }
                MODE_GITLINK => stats.skip(SkipReason::Submodule, 0),
                _ => stats.error(
                    ErrorKind::Object,
                    format!("{path}: tree entry of unknown mode {mode:o}"),
                ),
            }
        }
    }
}
