//! Phase 1 of the history scan: which blobs each commit introduces. Workers
//! diff runs of consecutive commits against their parents; this thread
//! interns paths and deduplicates blobs by id as the results arrive.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::git::Oid;

use crate::git::diff::{introduced, Introduced, TreeError};
use crate::git::revwalk::Plan;
use crate::git::trees::{TreeStore, Trees};
use crate::git::{EntryKind, ObjectReader, OidMap};
use crate::progress::Counters;

/// Commits per unit of enumeration work: long runs, so a commit's parent
/// trees are usually in the same worker's tree cache (on the bench repo, 64
/// read 291k trees and 512 read 268k, of 242k distinct; one worker, 253k).
const COMMIT_CHUNK: usize = 512;
/// Entry numbers of self-read trees each enumeration worker keeps: the
/// directories a large repository's recent commits touched (a kernel-sized
/// tree has ~80 k entries).
const TREE_CACHE_BUDGET: usize = 8 << 20;

/// Phase 1: which blobs each commit introduces, deduplicated.
pub(super) fn enumerate(
    git_dir: &Path,
    plan: &Plan,
    store: &TreeStore,
    threads: usize,
    counters: &Counters,
) -> Enumerated {
    let next_chunk = AtomicUsize::new(0);
    let chunks = plan.commits.len().div_ceil(COMMIT_CHUNK);
    let (tx, rx) = crossbeam_channel::bounded::<Result<ChunkResult, String>>(threads * 4);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let next_chunk = &next_chunk;
            s.spawn(move || match ObjectReader::open(git_dir) {
                Ok(reader) => {
                    let mut trees = Trees::new(store, TREE_CACHE_BUDGET);
                    enumerate_chunks(&reader, &mut trees, plan, next_chunk, chunks, &tx, counters);
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            });
        }
        drop(tx);
        merge_chunks(rx, counters)
    })
}

/// A blob introduced by a commit at a path (indices into the plan and the
/// `Enumerated` tables): 12 bytes, so a long history stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Intro {
    pub(super) commit: u32,
    pub(super) path: u32,
    pub(super) blob: u32,
}

pub(super) struct BlobEntry {
    pub(super) oid: Oid,
    /// The earliest introduction: (commit, path), for messages and as the
    /// path the blob is scanned under.
    pub(super) first: (u32, u32),
}

#[derive(Default)]
pub(super) struct Enumerated {
    pub(super) intros: Vec<Intro>,
    /// Interned paths; the map in `merge_chunks` shares their allocations.
    pub(super) paths: Vec<Arc<[u8]>>,
    pub(super) blobs: Vec<BlobEntry>,
    pub(super) submodules: BTreeSet<Vec<u8>>,
    /// Unreadable trees, once each.
    pub(super) errors: BTreeMap<Oid, String>,
    /// Trees read one by one through libgit2, and trees decoded from the
    /// packs up front (for tracing).
    pub(super) tree_reads: u64,
    pub(super) stored_trees: usize,
}

/// One worker's result for one run of commits.
struct ChunkResult {
    /// (commit index, introduction).
    intros: Vec<(u32, Introduced)>,
    errors: Vec<TreeError>,
    tree_reads: u64,
}

/// Phase 1 on one worker: takes runs of commits until none are left.
fn enumerate_chunks(
    reader: &ObjectReader,
    trees: &mut Trees<'_>,
    plan: &Plan,
    next: &AtomicUsize,
    chunks: usize,
    tx: &crossbeam_channel::Sender<Result<ChunkResult, String>>,
    counters: &Counters,
) {
    let mut buf = Vec::new();
    loop {
        let c = next.fetch_add(1, Ordering::Relaxed);
        if c >= chunks || crate::progress::interrupted() {
            break;
        }
        let start = c * COMMIT_CHUNK;
        let end = (start + COMMIT_CHUNK).min(plan.commits.len());
        let mut res = ChunkResult {
            intros: Vec::new(),
            errors: Vec::new(),
            tree_reads: 0,
        };
        let before = trees.reads();
        for (i, commit) in plan.commits[start..end].iter().enumerate() {
            introduced(reader, trees, commit, &mut buf, &mut res.errors);
            let idx = (start + i) as u32;
            res.intros.extend(buf.drain(..).map(|x| (idx, x)));
            counters.commits.fetch_add(1, Ordering::Relaxed);
        }
        res.tree_reads = trees.reads() - before;
        if tx.send(Ok(res)).is_err() {
            break;
        }
    }
}

/// Interns paths and deduplicates blobs as the workers' results arrive.
fn merge_chunks(
    rx: crossbeam_channel::Receiver<Result<ChunkResult, String>>,
    counters: &Counters,
) -> Enumerated {
    let mut en = Enumerated::default();
    let mut path_ids: HashMap<Arc<[u8]>, u32> = HashMap::new();
    let mut blob_ids: OidMap<u32> = OidMap::default();
    for res in rx {
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                en.errors
                    .insert(Oid::zero(), format!("cannot open the repository: {e}"));
                continue;
            }
        };
        en.tree_reads += res.tree_reads;
        for e in res.errors {
            en.errors.entry(e.oid).or_insert(e.msg);
        }
        for (commit, x) in res.intros {
            if x.kind == EntryKind::Submodule {
                en.submodules.insert(x.path);
                continue;
            }
            let path = match path_ids.get(x.path.as_slice()) {
                Some(&id) => id,
                None => {
                    let id = en.paths.len() as u32;
                    let shared: Arc<[u8]> = x.path.into();
                    en.paths.push(shared.clone());
                    path_ids.insert(shared, id);
                    id
                }
            };
            let blob = *blob_ids.entry(x.oid).or_insert_with(|| {
                counters.blobs_total.fetch_add(1, Ordering::Relaxed);
                en.blobs.push(BlobEntry {
                    oid: x.oid,
                    first: (commit, path),
                });
                (en.blobs.len() - 1) as u32
            });
            let b = &mut en.blobs[blob as usize];
            if (commit, &en.paths[path as usize]) < (b.first.0, &en.paths[b.first.1 as usize]) {
                b.first = (commit, path);
            }
            en.intros.push(Intro { commit, path, blob });
        }
    }
    en.intros.sort_unstable();
    en
}
