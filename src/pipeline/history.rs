//! The history scan's threads. Three phases over a `Plan`:
//!
//! 1. enumerate: workers take runs of consecutive commits and diff each
//!    commit's tree against its parents' (`source::history::introduced`);
//!    this thread interns paths and deduplicates blobs by id as results arrive;
//! 2. scan: workers read each distinct blob once and match it;
//! 3. attribute: each (rule, secret, path) goes to the earliest commit, in
//!    topological order, that introduced a blob carrying it at that path.
//!
//! Work therefore grows with unique content, not commits × files. Every
//! worker opens its own `ObjectReader` (git2's `Repository` is not `Sync`)
//! and keeps it for both phases. With `LEAKSCAN_TRACE` set, the time and
//! volume of each phase go to standard error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use git2::Oid;

use crate::blob;
use crate::finding::{CommitInfo, Finding, Occurrence, PathBytes};
use crate::matcher::Matcher;
use crate::progress::Counters;
use crate::rules::RuleSet;
use crate::source::history::{
    self as src, EntryKind, Introduced, ObjectReader, OidMap, Plan, TreeCache, TreeError,
};
use crate::stats::{SkipReason, Stats};

use super::Scanned;

/// Commits per unit of enumeration work: long runs, so a commit's parent
/// trees are usually in the same worker's tree cache (on the bench repo, 64
/// read 291k trees and 512 read 268k, of 242k distinct; one worker, 253k).
const COMMIT_CHUNK: usize = 512;
/// Blobs per unit of scan work.
const BLOB_CHUNK: usize = 16;
/// Tree bytes each enumeration worker keeps: the directories a large
/// repository's recent commits touched (a kernel-sized tree is ~10 MB).
const TREE_CACHE_BUDGET: usize = 32 << 20;

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub threads: usize,
    /// Blobs larger than this are counted, not read.
    pub max_file_size: u64,
    /// List every commit and path that introduced a copy of each secret.
    pub all_occurrences: bool,
}

/// Scans what the plan's commits introduce; findings carry their commit.
pub fn scan(
    git_dir: &Path,
    plan: &Plan,
    rules: Arc<RuleSet>,
    opts: &HistoryOptions,
    counters: Arc<Counters>,
) -> Scanned {
    let threads = opts.threads.max(1);
    let t0 = Instant::now();
    let (en, scanned, t1) = run_workers(git_dir, plan, rules, opts, threads, &counters);
    let t2 = Instant::now();
    let mut out = Scanned::default();
    out.stats.commits = plan.commits.len() as u64;
    for (oid, msg) in &en.errors {
        out.stats.skip(SkipReason::MissingObject, 0);
        out.stats.error(format!("tree {oid}: {msg}"));
    }
    if !en.submodules.is_empty() {
        let names: Vec<String> = en
            .submodules
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        for _ in &names {
            out.stats.skip(SkipReason::Submodule, 0);
        }
        out.stats.warnings.push(format!(
            "{} submodule{} not scanned (their history is in other repositories): {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    out.stats.merge(scanned.stats);
    out.findings = attribute(
        git_dir,
        plan,
        &en,
        scanned.by_blob,
        opts.all_occurrences,
        &mut out.stats,
    );
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    if std::env::var_os("LEAKSCAN_TRACE").is_some() {
        trace(&en, t1 - t0, t2 - t1, t2.elapsed(), &out.stats);
    }
    out
}

/// What the scan workers need once enumeration is over.
struct ScanJob {
    en: Enumerated,
    /// Blob indices in reading order.
    order: Vec<u32>,
}

/// Runs both parallel phases on the same worker threads, each with one
/// `ObjectReader` for its whole life.
/// Returns the enumeration, the blob scan, and when enumeration ended.
fn run_workers(
    git_dir: &Path,
    plan: &Plan,
    rules: Arc<RuleSet>,
    opts: &HistoryOptions,
    threads: usize,
    counters: &Counters,
) -> (Enumerated, BlobScan, Instant) {
    let next_chunk = AtomicUsize::new(0);
    let next_blob = AtomicUsize::new(0);
    let chunks = plan.commits.len().div_ceil(COMMIT_CHUNK);
    let proto = Matcher::new(rules);
    let (tx, rx) = crossbeam_channel::bounded::<Result<ChunkResult, String>>(threads * 4);
    let (job_tx, job_rx) = crossbeam_channel::bounded::<Arc<ScanJob>>(threads);
    let mut results: Vec<BlobScan> = Vec::new();
    let mut job: Option<Arc<ScanJob>> = None;
    let mut enumerated_at = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (tx, job_rx) = (tx.clone(), job_rx.clone());
                let (next_chunk, next_blob) = (&next_chunk, &next_blob);
                let matcher = proto.clone();
                s.spawn(move || {
                    let reader = ObjectReader::open(git_dir).map_err(|e| e.to_string());
                    if let Ok(reader) = &reader {
                        enumerate_chunks(reader, plan, next_chunk, chunks, &tx, counters);
                    } else if let Err(e) = &reader {
                        let _ = tx.send(Err(e.clone()));
                    }
                    drop(tx);
                    let mut local = BlobScan::default();
                    let Ok(job) = job_rx.recv() else { return local };
                    match &reader {
                        Ok(reader) => scan_blobs(
                            reader,
                            matcher,
                            plan,
                            &job,
                            next_blob,
                            opts.max_file_size,
                            &mut local,
                            counters,
                        ),
                        Err(e) => local
                            .stats
                            .error(format!("cannot open the repository: {e}")),
                    }
                    local
                })
            })
            .collect();
        drop(tx);
        let en = merge_chunks(rx, counters);
        enumerated_at = Instant::now();
        let order = reading_order(git_dir, &en);
        let j = Arc::new(ScanJob { en, order });
        for _ in 0..threads {
            let _ = job_tx.send(j.clone());
        }
        job = Some(j);
        results = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    let mut b = BlobScan::default();
                    b.stats
                        .error("internal error: a scan thread panicked".into());
                    b
                })
            })
            .collect();
    });
    let mut out = BlobScan::default();
    for r in results {
        out.stats.merge(r.stats);
        out.by_blob.extend(r.by_blob);
    }
    // Each worker reports a broken rule or an unopenable repository once.
    out.stats.errors.sort();
    out.stats.errors.dedup();
    out.by_blob.sort_by_key(|(b, _)| *b);
    let job = job.expect("the scan job is built before the workers finish");
    let en = match Arc::try_unwrap(job) {
        Ok(j) => j.en,
        Err(_) => unreachable!("workers have ended"),
    };
    (en, out, enumerated_at)
}

fn trace(en: &Enumerated, enumerate: Duration, scan: Duration, attribute: Duration, stats: &Stats) {
    eprintln!(
        "leakscan: trace: enumerate {:.3} s ({} trees read, {} introductions, {} paths, {} blobs), read+scan \
         {:.3} s ({} blobs, {:.1} MB), attribute {:.3} s",
        enumerate.as_secs_f64(),
        en.tree_reads,
        en.intros.len(),
        en.paths.len(),
        en.blobs.len(),
        scan.as_secs_f64(),
        stats.scanned,
        stats.bytes as f64 / 1e6,
        attribute.as_secs_f64()
    );
}

/// A blob introduced by a commit at a path (indices into the plan and the
/// `Enumerated` tables): 12 bytes, so a long history stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Intro {
    commit: u32,
    path: u32,
    blob: u32,
}

struct BlobEntry {
    oid: Oid,
    /// Some introduction is a regular file (not only a symlink target).
    file: bool,
    /// The earliest introduction: (commit, path), for messages and as the
    /// path the blob is scanned under.
    first: (u32, u32),
}

#[derive(Default)]
struct Enumerated {
    intros: Vec<Intro>,
    /// Interned paths; the map in `merge_chunks` shares their allocations.
    paths: Vec<Arc<[u8]>>,
    blobs: Vec<BlobEntry>,
    submodules: BTreeSet<Vec<u8>>,
    /// Unreadable trees, once each.
    errors: BTreeMap<Oid, String>,
    /// Trees read from the object store (for tracing).
    tree_reads: u64,
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
    plan: &Plan,
    next: &AtomicUsize,
    chunks: usize,
    tx: &crossbeam_channel::Sender<Result<ChunkResult, String>>,
    counters: &Counters,
) {
    let mut cache = TreeCache::new(TREE_CACHE_BUDGET);
    let mut buf = Vec::new();
    loop {
        let c = next.fetch_add(1, Ordering::Relaxed);
        if c >= chunks {
            break;
        }
        let start = c * COMMIT_CHUNK;
        let end = (start + COMMIT_CHUNK).min(plan.commits.len());
        let mut res = ChunkResult {
            intros: Vec::new(),
            errors: Vec::new(),
            tree_reads: 0,
        };
        let before = cache.reads();
        for (i, commit) in plan.commits[start..end].iter().enumerate() {
            src::introduced(reader, &mut cache, commit, &mut buf, &mut res.errors);
            let idx = (start + i) as u32;
            res.intros.extend(buf.drain(..).map(|x| (idx, x)));
            counters.commits.fetch_add(1, Ordering::Relaxed);
        }
        res.tree_reads = cache.reads() - before;
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
            let file = x.kind == EntryKind::File;
            let blob = *blob_ids.entry(x.oid).or_insert_with(|| {
                counters.blobs_total.fetch_add(1, Ordering::Relaxed);
                en.blobs.push(BlobEntry {
                    oid: x.oid,
                    file,
                    first: (commit, path),
                });
                (en.blobs.len() - 1) as u32
            });
            let b = &mut en.blobs[blob as usize];
            b.file |= file;
            if (commit, &en.paths[path as usize]) < (b.first.0, &en.paths[b.first.1 as usize]) {
                b.first = (commit, path);
            }
            en.intros.push(Intro { commit, path, blob });
        }
    }
    en.intros.sort_unstable();
    en
}

/// Blobs in pack order, so a delta's base was usually just read (and is
/// still in libgit2's delta base cache); then by first path.
fn reading_order(git_dir: &Path, en: &Enumerated) -> Vec<u32> {
    let packs = src::PackOrder::load(git_dir);
    let mut keyed: Vec<((u32, u64), u32)> = (0..en.blobs.len() as u32)
        .map(|b| (packs.position(en.blobs[b as usize].oid), b))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, b)| b).collect()
}

#[derive(Default)]
struct BlobScan {
    stats: Stats,
    /// (blob index, findings under the blob's first path).
    by_blob: Vec<(u32, Vec<Finding>)>,
}

/// Phase 2 on one worker: reads and matches blobs until none are left.
#[allow(clippy::too_many_arguments)]
fn scan_blobs(
    reader: &ObjectReader,
    mut matcher: Matcher,
    plan: &Plan,
    job: &ScanJob,
    next: &AtomicUsize,
    max: u64,
    local: &mut BlobScan,
    counters: &Counters,
) {
    let order = &job.order;
    loop {
        let start = next.fetch_add(BLOB_CHUNK, Ordering::Relaxed);
        if start >= order.len() {
            break;
        }
        for &b in &order[start..(start + BLOB_CHUNK).min(order.len())] {
            let found = scan_one(
                reader,
                &mut matcher,
                plan,
                &job.en,
                b,
                max,
                &mut local.stats,
                counters,
            );
            if !found.is_empty() {
                local.by_blob.push((b, found));
            }
        }
    }
    local.stats.take_matcher_counters(&matcher.counters);
    let rules = matcher.rules().clone();
    for (r, msg) in matcher.rule_errors.drain(..) {
        local
            .stats
            .error(format!("rule {}: {msg}", rules.rules[r].id));
    }
}

/// Reads, classifies and matches one blob.
#[allow(clippy::too_many_arguments)]
fn scan_one(
    reader: &ObjectReader,
    matcher: &mut Matcher,
    plan: &Plan,
    en: &Enumerated,
    b: u32,
    max: u64,
    stats: &mut Stats,
    counters: &Counters,
) -> Vec<Finding> {
    let entry = &en.blobs[b as usize];
    counters.files.fetch_add(1, Ordering::Relaxed);
    if !entry.file {
        stats.skip(SkipReason::Symlink, 0);
        return Vec::new();
    }
    let path = PathBytes(en.paths[entry.first.1 as usize].to_vec());
    let unreadable = |stats: &mut Stats, msg: String| {
        stats.skip(SkipReason::MissingObject, 0);
        stats.error(format!(
            "blob {} ({} in commit {}): {msg}",
            entry.oid,
            path.as_str_lossy(),
            plan.commits[entry.first.0 as usize].id
        ));
    };
    let size = match reader.size(entry.oid) {
        Ok(s) => s,
        Err(e) => {
            unreadable(stats, e.0);
            return Vec::new();
        }
    };
    if size > max {
        stats.skip(SkipReason::TooLarge, size);
        return Vec::new();
    }
    let read = reader.with_object(entry.oid, |_, data| {
        if blob::is_lfs_pointer(data) {
            stats.skip(SkipReason::LfsPointer, size);
            return Vec::new();
        }
        let decoded = blob::decode(data);
        if blob::is_binary(&decoded) {
            stats.skip(SkipReason::Binary, size);
            return Vec::new();
        }
        stats.scanned += 1;
        stats.bytes += size;
        counters.bytes.fetch_add(size, Ordering::Relaxed);
        blob::scan_bytes(matcher, &decoded, &path)
    });
    match read {
        Ok(found) => found,
        Err(e) => {
            unreadable(stats, e.0);
            Vec::new()
        }
    }
}

/// One reported secret while attribution runs.
struct Attributed {
    finding: Finding,
    commit: u32,
    /// (commit, path, line) of every introduction carrying it.
    seen: Vec<(u32, u32, usize)>,
}

/// Turns per-blob findings into per-(rule, secret, path) findings at their
/// earliest introducing commit.
fn attribute(
    git_dir: &Path,
    plan: &Plan,
    en: &Enumerated,
    by_blob: Vec<(u32, Vec<Finding>)>,
    all_occurrences: bool,
    stats: &mut Stats,
) -> Vec<Finding> {
    if by_blob.is_empty() {
        return Vec::new();
    }
    let found: HashMap<u32, Vec<Finding>> = by_blob.into_iter().collect();
    let mut keyed: HashMap<(String, Vec<u8>, u32), usize> = HashMap::new();
    let mut out: Vec<Attributed> = Vec::new();
    // Introductions are sorted by commit index, i.e. topological order, so the
    // first one to carry a key is the earliest.
    for intro in &en.intros {
        let Some(fs) = found.get(&intro.blob) else {
            continue;
        };
        for f in fs {
            let key = (f.rule.clone(), f.secret.expose().to_vec(), intro.path);
            match keyed.get(&key) {
                Some(&i) => out[i].seen.push((intro.commit, intro.path, f.line)),
                None => {
                    let mut finding = f.clone();
                    finding.path = PathBytes(en.paths[intro.path as usize].to_vec());
                    keyed.insert(key, out.len());
                    out.push(Attributed {
                        finding,
                        commit: intro.commit,
                        seen: vec![(intro.commit, intro.path, f.line)],
                    });
                }
            }
        }
    }
    let reader = ObjectReader::open(git_dir);
    let mut infos: HashMap<u32, CommitInfo> = HashMap::new();
    out.into_iter()
        .map(|a| {
            let mut f = a.finding;
            let info = infos.entry(a.commit).or_insert_with(|| {
                let id = plan.commits[a.commit as usize].id;
                let meta = reader
                    .as_ref()
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.commit_meta(id).map_err(|e| e.0));
                match meta {
                    Ok(m) => CommitInfo {
                        id: id.to_string(),
                        author: m.author,
                        email: m.email,
                        date: src::rfc3339(m.time, m.offset_minutes),
                        summary: m.summary,
                    },
                    Err(e) => {
                        stats.warnings.push(format!(
                            "commit {id}: cannot read its author and message: {e}"
                        ));
                        CommitInfo {
                            id: id.to_string(),
                            author: String::new(),
                            email: String::new(),
                            date: String::new(),
                            summary: String::new(),
                        }
                    }
                }
            });
            f.commit = Some(info.clone());
            if all_occurrences {
                f.occurrences = a
                    .seen
                    .iter()
                    .map(|&(c, p, line)| Occurrence {
                        commit: plan.commits[c as usize].id.to_string(),
                        path: PathBytes(en.paths[p as usize].to_vec()),
                        line,
                    })
                    .collect();
            }
            f
        })
        .collect()
}
