//! The history scan's threads. Phases over a `Plan`:
//!
//! 0. trees (large runs only, see `plan_and_load`): workers decode every tree
//!    of the pack files once, by walking the delta forest (`git::pack`), into
//!    a shared compact `TreeStore`;
//! 1. enumerate: workers take runs of consecutive commits and diff each
//!    commit's tree against its parents' (`git::diff::introduced`);
//!    this thread interns paths and deduplicates blobs by id as results arrive;
//! 2. scan: workers decode each distinct blob once and match it — from the
//!    pack files' delta forest on large runs, else (and for whatever the packs
//!    cannot give) one object at a time through `ObjectReader`;
//! 3. attribute: each (rule, secret, path) goes to the earliest commit, in
//!    topological order, that introduced a blob carrying it at that path.
//!
//! Work therefore grows with unique content, not commits × files. Every
//! worker opens its own `ObjectReader` (it is not `Sync`). With
//! `HistoryOptions::trace` (`LEAKSCAN_TRACE`), the time and volume of each
//! phase go to standard error. `run` is the driver `history`, `baseline
//! --history` and the push check call: the walk (`git::revwalk::plan`),
//! then these phases.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::git::Oid;

use crate::finding::{CommitInfo, Finding, Occurrence};
use crate::git::dates::rfc3339;
use crate::git::diff::{introduced, Introduced, TreeError};
use crate::git::odb::PackOrder;
use crate::git::pack::forest::{Event, Forest, Limits, Walker};
use crate::git::pack::{self, PackSet};
use crate::git::revwalk::{self, Plan, Selection};
use crate::git::stream::{BlobStream, STREAM_OVER};
use crate::git::trees::{TreePart, TreeStore, Trees};
use crate::git::{EntryKind, ObjectReader, OidMap};
use crate::paths::PathBytes;
use crate::progress::{Counters, Phase, Progress};
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, SkipReason, Stats};

use super::{BlobStep, Scanned};
use crate::blob::Class;

/// Commits per unit of enumeration work: long runs, so a commit's parent
/// trees are usually in the same worker's tree cache (on the bench repo, 64
/// read 291k trees and 512 read 268k, of 242k distinct; one worker, 253k).
const COMMIT_CHUNK: usize = 512;
/// Blobs per unit of scan work.
const BLOB_CHUNK: usize = 16;
/// Entry numbers of self-read trees each enumeration worker keeps: the
/// directories a large repository's recent commits touched (a kernel-sized
/// tree has ~80 k entries).
const TREE_CACHE_BUDGET: usize = 8 << 20;
/// Trees larger than this are left to libgit2 by the pack reader.
const MAX_TREE: u64 = 64 << 20;
/// The pack reader decodes delta bases up to this size (or the file size
/// limit, when larger).
const MAX_BASE: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub threads: usize,
    /// Blobs larger than this are counted, not read.
    pub max_file_size: u64,
    /// List every commit and path that introduced a copy of each secret.
    pub all_occurrences: bool,
    /// Blob outcomes shared between scans of several repositories (`sweep`):
    /// a blob found here is not read again.
    pub cache: Option<Arc<BlobCache>>,
    /// How archives are opened (`None`: not at all).
    pub archives: Option<crate::archive::Limits>,
    /// `LEAKSCAN_TRACE`: each phase's time and volume on standard error.
    pub trace: bool,
    /// `LEAKSCAN_PACK_READER`: the pack reader forced on or off.
    pub pack_reader: Option<bool>,
}

/// What scanning a blob gave, by blob id, kept across the repositories of a
/// sweep (forks and mirrors share most blobs): consulted before a blob is
/// read, filled after. Matching does not depend on the path, so findings
/// made under one repository's path apply to every other's (attribution
/// sets the path). Unreadable blobs are not kept: another repository may
/// hold them intact.
#[derive(Default)]
pub struct BlobCache {
    map: Mutex<OidMap<Outcome>>,
    /// Blobs taken from the cache instead of being read.
    pub hits: AtomicU64,
}

impl std::fmt::Debug for BlobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobCache({} hits)", self.hits.load(Ordering::Relaxed))
    }
}

/// A scanned blob's size and findings, or why it was not scanned.
#[derive(Clone)]
enum Outcome {
    /// Scanned: size, whether binary, findings.
    Scanned(u64, bool, Arc<[Finding]>),
    Skipped(SkipReason, u64),
}

impl BlobCache {
    /// Distinct blobs held.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }
}

/// The pack files read ahead of the blob scan: their delta forest and
/// every tree, decoded once.
pub struct Packed {
    packs: Arc<PackSet>,
    forest: Forest,
    trees: TreeStore,
    took: Duration,
}

impl Packed {
    /// Builds the forest of `packs` and decodes every tree on `threads`
    /// threads; stops early (with a partial store) once `cancel` is set.
    fn load(packs: Arc<PackSet>, threads: usize, cancel: &AtomicBool) -> Packed {
        let start = Instant::now();
        let forest = Forest::build(&packs);
        let trees = decode_trees(&packs, &forest, threads, cancel);
        Packed {
            packs,
            forest,
            trees,
            took: start.elapsed(),
        }
    }
}

/// Plans the run (`plan`, on this thread) and decides whether to read the
/// pack files in one pass (`git::pack::worth_a_pass`). When the selection is whole
/// histories (`full_history`: no ranges, exclusions or dates), the packs'
/// trees are decoded on other threads while the commits are walked, and
/// `plan` gets the packs to read commits from.
pub fn plan_and_load(
    git_dir: &Path,
    full_history: bool,
    opts: &HistoryOptions,
    plan: impl FnOnce(Option<Arc<PackSet>>) -> crate::error::Result<Plan>,
) -> crate::error::Result<(Plan, Option<Packed>)> {
    let threads = opts.threads.max(1);
    let cancel = AtomicBool::new(false);
    let early = full_history && opts.pack_reader != Some(false) && pack::count_objects(git_dir) > 0;
    if !early {
        let plan = plan(None)?;
        let packed = pack::worth_a_pass(git_dir, plan.commits.len(), opts.pack_reader)
            .then(|| Packed::load(Arc::new(PackSet::open(git_dir)), threads, &cancel));
        return Ok((plan, packed));
    }
    let packs = Arc::new(PackSet::open(git_dir));
    std::thread::scope(|s| {
        let loader = s.spawn(|| Packed::load(packs.clone(), threads, &cancel));
        let plan = plan(Some(packs.clone()));
        if plan.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        let packed = loader.join().ok();
        Ok((plan?, packed))
    })
}

/// A whole history run, the driver `history` and the push check share:
/// walks `selection` in `git_dir` (commits from the packs when they are
/// read ahead), scans what those commits introduced, and returns the
/// findings before suppression, the walk's warnings and errors first.
/// `reader`: one already open on the repository, for the walk when the
/// packs are not read ahead (its checks of the pack files are then not
/// made again).
pub fn run(
    git_dir: &Path,
    selection: &Selection,
    opts: &HistoryOptions,
    rules: Arc<RuleSet>,
    show_progress: bool,
    reader: Option<&ObjectReader>,
) -> crate::error::Result<Scanned> {
    let walk_start = Instant::now();
    let full_history = selection.is_whole_history();
    let progress = Progress::with_phase(show_progress, "blobs", Phase::WalkingCommits);
    let counters = progress.counters.clone();
    let (plan, packed) = plan_and_load(git_dir, full_history, opts, |packs| {
        let own;
        let reader = match (packs, reader) {
            (Some(p), _) => {
                own = ObjectReader::with_packs(git_dir, p)?;
                &own
            }
            (None, Some(r)) => r,
            (None, None) => {
                own = ObjectReader::open(git_dir)?;
                &own
            }
        };
        let plan = revwalk::plan(reader, selection);
        if opts.trace {
            eprintln!(
                "leakscan: trace: walk {:.3} s ({} commits)",
                walk_start.elapsed().as_secs_f64(),
                plan.as_ref().map_or(0, |p| p.commits.len())
            );
        }
        counters.set_phase(Phase::ReadingTrees);
        plan
    })?;
    let mut scanned = scan(
        git_dir,
        &plan,
        packed,
        rules,
        opts,
        progress.counters.clone(),
    );
    progress.finish();
    let stats = &mut scanned.stats;
    stats.warnings.splice(0..0, plan.warnings);
    stats.errors.splice(0..0, plan.errors);
    Ok(scanned)
}

/// Scans what the plan's commits introduce; findings carry their commit.
/// `packed`: the pack files read ahead (`plan_and_load`), or `None` to read
/// every object through libgit2.
pub fn scan(
    git_dir: &Path,
    plan: &Plan,
    packed: Option<Packed>,
    rules: Arc<RuleSet>,
    opts: &HistoryOptions,
    counters: Arc<Counters>,
) -> Scanned {
    scan_sharing(git_dir, plan, packed, None, false, rules, opts, counters).0
}

/// `scan` for a sweep, whose forks share most trees: without `packed`, the
/// enumeration uses `shared` (trees decoded for an earlier repository;
/// tree ids name their content, so any repository's store serves; trees it
/// lacks are read one by one). With `keep`, the trees used are handed back
/// instead of being dropped before the blob scan.
#[allow(clippy::too_many_arguments)]
pub fn scan_sharing(
    git_dir: &Path,
    plan: &Plan,
    packed: Option<Packed>,
    shared: Option<Arc<TreeStore>>,
    keep: bool,
    rules: Arc<RuleSet>,
    opts: &HistoryOptions,
    counters: Arc<Counters>,
) -> (Scanned, Option<Arc<TreeStore>>) {
    let threads = opts.threads.max(1);
    let t0 = Instant::now();
    let (packed, store, packs_took) = match packed {
        Some(p) => (Some((p.packs, p.forest)), Arc::new(p.trees), p.took),
        None => (
            None,
            shared.unwrap_or_else(|| Arc::new(TreeStore::empty())),
            Duration::ZERO,
        ),
    };
    counters.set_phase(Phase::Enumerating);
    let mut en = enumerate(git_dir, plan, &store, threads, &counters);
    en.stored_trees = store.len();
    // Dropped here unless kept: the blob scan does not need it.
    let kept = keep.then_some(store);
    let t1 = Instant::now();
    counters.set_phase(Phase::ScanningBlobs);
    let scanned = scan_blobs(
        git_dir,
        plan,
        &en,
        packed.as_ref().map(|(p, f)| (&**p, f)),
        rules,
        opts,
        threads,
        &counters,
    );
    drop(packed);
    let t2 = Instant::now();
    let mut out = Scanned::default();
    out.stats.interrupted = crate::progress::interrupted();
    out.stats.commits = plan.commits.len() as u64;
    for (oid, msg) in &en.errors {
        out.stats.skip(SkipReason::MissingObject, 0);
        out.stats
            .error(ErrorKind::Object, format!("tree {oid}: {msg}"));
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
    let one_by_one = scanned.one_by_one;
    out.findings = attribute(
        git_dir,
        plan,
        &en,
        scanned.by_blob,
        opts.all_occurrences,
        &mut out.stats,
    );
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    if opts.trace {
        trace(
            &en,
            [packs_took, t1 - t0, t2 - t1, t2.elapsed()],
            one_by_one,
            &out.stats,
        );
    }
    (out, kept)
}

/// Phase 0: every tree of the packs, decoded once, in a shared store.
fn decode_trees(
    packs: &PackSet,
    forest: &Forest,
    threads: usize,
    cancel: &AtomicBool,
) -> TreeStore {
    let sel = forest.select((0..forest.len() as u32).filter(|&n| forest.kind(n) == pack::TREE));
    let next = AtomicUsize::new(0);
    let limits = Limits {
        max_size: MAX_TREE,
        max_base: MAX_TREE,
    };
    let parts: Vec<TreePart> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut walker = Walker::default();
                    let mut part = TreePart::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&root) = sel.roots.get(i) else { break };
                        if cancel.load(Ordering::Relaxed) || crate::progress::interrupted() {
                            break;
                        }
                        walker.walk(packs, forest, &sel, root, limits, &mut |num, ev| {
                            // A tree the packs cannot give is read through
                            // libgit2 when a diff needs it.
                            if let Event::Object { data, base } = ev {
                                part.add(num, packs.id(num), data, base);
                            }
                        });
                    }
                    part
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    TreeStore::merge(parts)
}

/// Phase 1: which blobs each commit introduces, deduplicated.
fn enumerate(
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

fn trace(en: &Enumerated, phases: [Duration; 4], one_by_one: u64, stats: &Stats) {
    eprintln!(
        "leakscan: trace: trees {:.3} s ({} decoded from packs), enumerate {:.3} s ({} trees read one by one, {} \
         introductions, {} paths, {} blobs), read+scan {:.3} s ({} blobs, {:.1} MB, {} blobs read one by one), \
         attribute {:.3} s",
        phases[0].as_secs_f64(),
        en.stored_trees,
        phases[1].as_secs_f64(),
        en.tree_reads,
        en.intros.len(),
        en.paths.len(),
        en.blobs.len(),
        phases[2].as_secs_f64(),
        stats.scanned,
        stats.bytes as f64 / 1e6,
        one_by_one,
        phases[3].as_secs_f64()
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
    /// Trees read one by one through libgit2, and trees decoded from the
    /// packs up front (for tracing).
    tree_reads: u64,
    stored_trees: usize,
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

/// Blobs in pack order, so a delta's base was usually just read (and is
/// still in libgit2's delta base cache); then by first path.
fn reading_order(git_dir: &Path, en: &Enumerated) -> Vec<u32> {
    let packs = PackOrder::load(git_dir);
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
    /// Blobs read through libgit2 rather than from the delta forest.
    one_by_one: u64,
    /// What each blob gave, for `HistoryOptions::cache` (kept only with one).
    outcomes: Option<Vec<(u32, Outcome)>>,
}

/// Phase 2: decodes and matches each distinct blob once. With the pack
/// files' forest, workers take whole delta trees (heaviest first); then
/// they share out, one by one through libgit2, the blobs the packs do not
/// hold (or all of them without a forest), and each retries what its walks
/// could not decode.
#[allow(clippy::too_many_arguments)]
fn scan_blobs(
    git_dir: &Path,
    plan: &Plan,
    en: &Enumerated,
    packed: Option<(&PackSet, &Forest)>,
    rules: Arc<RuleSet>,
    opts: &HistoryOptions,
    threads: usize,
    counters: &Counters,
) -> BlobScan {
    let proto = BlobStep::new(rules, opts.max_file_size).with_archives(opts.archives.clone());
    // Blobs another repository's scan already gave (sweep), replayed below.
    let mut cached: Vec<(u32, Outcome)> = Vec::new();
    if let Some(cache) = &opts.cache {
        let map = cache.map.lock().unwrap_or_else(|e| e.into_inner());
        for (b, entry) in en.blobs.iter().enumerate() {
            if let Some(o) = map.get(&entry.oid) {
                cached.push((b as u32, o.clone()));
            }
        }
    }
    let is_cached = {
        let mut set = vec![false; en.blobs.len()];
        for (b, _) in &cached {
            set[*b as usize] = true;
        }
        set
    };
    let mut one_by_one: Vec<u32> = Vec::new();
    // Pack object number → blob index.
    let mut blob_of: Vec<u32> = Vec::new();
    let sel = packed.map(|(packs, forest)| {
        blob_of = vec![u32::MAX; forest.len()];
        let mut wanted = Vec::new();
        for (b, entry) in en.blobs.iter().enumerate() {
            if is_cached[b] {
                continue;
            }
            match packs.find(entry.oid) {
                // Symlink targets are blobs too: a link's bytes are in the
                // repository whatever git does with them on checkout.
                Some(num) if forest.kind(num) == pack::BLOB => {
                    blob_of[num as usize] = b as u32;
                    wanted.push(num);
                }
                _ => one_by_one.push(b as u32),
            }
        }
        let sel = forest.select(wanted);
        one_by_one.extend(sel.missing.iter().map(|&n| blob_of[n as usize]));
        sel
    });
    if packed.is_none() {
        one_by_one = reading_order(git_dir, en);
        one_by_one.retain(|&b| !is_cached[b as usize]);
    }
    // Blobs over `STREAM_OVER` are not inflated here: they come back as
    // `TooLarge` and are read as streams (`read_and_scan`).
    let in_memory = opts.max_file_size.min(STREAM_OVER);
    let limits = Limits {
        max_size: in_memory,
        max_base: MAX_BASE.max(in_memory),
    };
    let (next_root, next_blob) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let results: Vec<BlobScan> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let mut w = BlobWorker {
                    step: proto.clone(),
                    local: BlobScan::default(),
                    outcomes: opts.cache.as_ref().map(|_| Vec::new()),
                    plan,
                    en,
                    max: opts.max_file_size,
                    counters,
                };
                let (sel, blob_of, one_by_one) = (&sel, &blob_of, &one_by_one);
                let (next_root, next_blob) = (&next_root, &next_blob);
                s.spawn(move || {
                    let mut failed = Vec::new();
                    if let (Some((packs, forest)), Some(sel)) = (packed, sel) {
                        let mut walker = Walker::default();
                        loop {
                            let i = next_root.fetch_add(1, Ordering::Relaxed);
                            let Some(&root) = sel.roots.get(i) else { break };
                            if crate::progress::interrupted() {
                                break;
                            }
                            walker.walk(packs, forest, sel, root, limits, &mut |num, ev| {
                                let b = blob_of[num as usize];
                                match ev {
                                    Event::Object { data, .. } => w.scan(b, data),
                                    Event::TooLarge(size) if size > w.max => w.too_large(b, size),
                                    Event::TooLarge(_) => failed.push(b),
                                    Event::Failed(_) => failed.push(b),
                                }
                            });
                        }
                    }
                    let reader = ObjectReader::open(git_dir).map_err(|e| e.to_string());
                    loop {
                        let start = next_blob.fetch_add(BLOB_CHUNK, Ordering::Relaxed);
                        if start >= one_by_one.len() || crate::progress::interrupted() {
                            break;
                        }
                        for &b in &one_by_one[start..(start + BLOB_CHUNK).min(one_by_one.len())] {
                            w.read_and_scan(&reader, b);
                        }
                    }
                    for b in failed {
                        w.read_and_scan(&reader, b);
                    }
                    w.finish()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    let mut b = BlobScan::default();
                    b.stats.error(
                        ErrorKind::Internal,
                        "internal error: a scan thread panicked".into(),
                    );
                    b
                })
            })
            .collect()
    });
    let mut out = BlobScan::default();
    for (b, outcome) in cached {
        counters.files.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Scanned(size, binary, found) => {
                out.stats.scanned += 1;
                out.stats.binary += u64::from(binary);
                out.stats.bytes += size;
                if !found.is_empty() {
                    out.by_blob.push((b, found.to_vec()));
                }
            }
            Outcome::Skipped(reason, size) => out.stats.skip(reason, size),
        }
        if let Some(cache) = &opts.cache {
            cache.hits.fetch_add(1, Ordering::Relaxed);
        }
    }
    let mut fresh = Vec::new();
    for mut r in results {
        out.stats.merge(r.stats);
        out.by_blob.extend(r.by_blob);
        out.one_by_one += r.one_by_one;
        fresh.extend(r.outcomes.take().unwrap_or_default());
    }
    if let Some(cache) = &opts.cache {
        let mut map = cache.map.lock().unwrap_or_else(|e| e.into_inner());
        for (b, o) in fresh {
            map.insert(en.blobs[b as usize].oid, o);
        }
    }
    // Each worker reports a broken rule or an unopenable repository once.
    out.stats.errors.sort_by(|a, b| a.msg.cmp(&b.msg));
    out.stats.errors.dedup();
    out.by_blob.sort_by_key(|(b, _)| *b);
    out
}

/// One scan thread's matcher and results.
struct BlobWorker<'a> {
    step: BlobStep,
    local: BlobScan,
    /// (blob, outcome) for the cache, when there is one.
    outcomes: Option<Vec<(u32, Outcome)>>,
    plan: &'a Plan,
    en: &'a Enumerated,
    max: u64,
    counters: &'a Counters,
}

impl BlobWorker<'_> {
    fn path(&self, b: u32) -> PathBytes {
        let entry = &self.en.blobs[b as usize];
        PathBytes(self.en.paths[entry.first.1 as usize].to_vec())
    }

    fn too_large(&mut self, b: u32, size: u64) {
        self.counters.files.fetch_add(1, Ordering::Relaxed);
        self.skipped(b, SkipReason::TooLarge, size);
    }

    fn skipped(&mut self, b: u32, reason: SkipReason, size: u64) {
        self.local.stats.skip(reason, size);
        if let Some(o) = &mut self.outcomes {
            o.push((b, Outcome::Skipped(reason, size)));
        }
    }

    /// Classifies and matches the content of blob `b`.
    fn scan(&mut self, b: u32, data: &[u8]) {
        self.counters.files.fetch_add(1, Ordering::Relaxed);
        let size = data.len() as u64;
        let path = self.path(b);
        let errors = self.local.stats.errors.len();
        if let Some(found) = self.step.archive(data, &path, &mut self.local.stats) {
            self.counters.bytes.fetch_add(size, Ordering::Relaxed);
            // An archive that could not be read whole is not cached: the
            // cache replays findings, not errors, and another repository
            // holding it must report it too.
            if let (Some(o), false) = (&mut self.outcomes, self.local.stats.errors.len() > errors) {
                o.push((b, Outcome::Scanned(size, true, found.as_slice().into())));
            }
            if !found.is_empty() {
                self.local.by_blob.push((b, found));
            }
            return;
        }
        let class = match self.step.classify(data, false, &mut self.local.stats) {
            Ok(class) => class,
            Err(reason) => {
                if let Some(o) = &mut self.outcomes {
                    o.push((b, Outcome::Skipped(reason, size)));
                }
                return;
            }
        };
        self.counters.bytes.fetch_add(size, Ordering::Relaxed);
        let found = self.step.find_in(&class, &path);
        if let Some(o) = &mut self.outcomes {
            let binary = matches!(class, Class::Binary(_));
            o.push((b, Outcome::Scanned(size, binary, found.as_slice().into())));
        }
        if !found.is_empty() {
            self.local.by_blob.push((b, found));
        }
    }

    /// Scans blob `b`, too large to hold, as a stream (`scan_stream`).
    fn scan_stream(&mut self, b: u32, s: &mut BlobStream<'_>) -> Result<(), String> {
        let size = s.size();
        let path = self.path(b);
        let (errors, binary) = (self.local.stats.errors.len(), self.local.stats.binary);
        let found = self
            .step
            .scan_stream(s, size, &path, &mut self.local.stats)?;
        self.counters.files.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(size, Ordering::Relaxed);
        // Not cached when part of it could not be read (an archive).
        if let (Some(o), false) = (&mut self.outcomes, self.local.stats.errors.len() > errors) {
            let binary = self.local.stats.binary > binary;
            o.push((b, Outcome::Scanned(size, binary, found.as_slice().into())));
        }
        if !found.is_empty() {
            self.local.by_blob.push((b, found));
        }
        Ok(())
    }

    /// Reads blob `b` (as a stream when it is too large to hold, else
    /// through libgit2, its size first), then scans it.
    fn read_and_scan(&mut self, reader: &Result<ObjectReader, String>, b: u32) {
        let oid = self.en.blobs[b as usize].oid;
        self.local.one_by_one += 1;
        let result = match reader {
            Err(e) => Err(format!("cannot open the repository: {e}")),
            Ok(r) => match r.stream(oid, STREAM_OVER) {
                Err(e) => Err(e.0),
                Ok(Some(s)) if s.size() > self.max => {
                    self.too_large(b, s.size());
                    return;
                }
                Ok(Some(mut s)) => self.scan_stream(b, &mut s),
                Ok(None) => match r.size(oid) {
                    Err(e) => Err(e.0),
                    Ok(size) if size > self.max => {
                        self.too_large(b, size);
                        return;
                    }
                    Ok(_) => r
                        .with_object(oid, |_, data| self.scan(b, data))
                        .map_err(|e| e.0),
                },
            },
        };
        if let Err(msg) = result {
            self.counters.files.fetch_add(1, Ordering::Relaxed);
            let path = self.path(b);
            let entry = &self.en.blobs[b as usize];
            let stats = &mut self.local.stats;
            stats.skip(SkipReason::MissingObject, 0);
            stats.error(
                ErrorKind::Object,
                format!(
                    "blob {} ({} in commit {}): {msg}",
                    entry.oid,
                    path.escaped(),
                    self.plan.commits[entry.first.0 as usize].id
                ),
            );
        }
    }

    fn finish(mut self) -> BlobScan {
        self.local.outcomes = self.outcomes.take();
        self.step.drain_into(&mut self.local.stats);
        self.local
    }
}

/// One reported secret while attribution runs.
struct Attributed {
    finding: Finding,
    commit: u32,
    /// (commit, path, line) of every introduction carrying it.
    seen: Vec<(u32, u32, usize)>,
}

/// Turns per-blob findings into per-(rule, secret, path, place in an
/// archive) findings at their earliest introducing commit.
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
    type Key = (String, Vec<u8>, u32, Option<Vec<PathBytes>>);
    let mut keyed: HashMap<Key, usize> = HashMap::new();
    let mut out: Vec<Attributed> = Vec::new();
    // Introductions are sorted by commit index, i.e. topological order, so the
    // first one to carry a key is the earliest.
    for intro in &en.intros {
        let Some(fs) = found.get(&intro.blob) else {
            continue;
        };
        for f in fs {
            let key = (
                f.rule.clone(),
                f.secret.expose().to_vec(),
                intro.path,
                f.archive.as_ref().map(|a| a.inner.clone()),
            );
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
    let mut info_of = |c: u32, stats: &mut Stats| -> CommitInfo {
        infos
            .entry(c)
            .or_insert_with(|| {
                let id = plan.commits[c as usize].id;
                let meta = reader
                    .as_ref()
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.commit_meta(id).map_err(|e| e.0));
                match meta {
                    Ok(m) => CommitInfo {
                        id: id.to_string(),
                        author: m.author,
                        email: m.email,
                        date: rfc3339(m.time, m.offset_minutes),
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
            })
            .clone()
    };
    out.into_iter()
        .map(|a| {
            let mut f = a.finding;
            f.commit = Some(info_of(a.commit, stats));
            if all_occurrences {
                // Each place with its commit's author and date (the HTML
                // report shows them on every place).
                f.occurrences = a
                    .seen
                    .iter()
                    .map(|&(c, p, line)| Occurrence {
                        commit: plan.commits[c as usize].id.to_string(),
                        path: PathBytes(en.paths[p as usize].to_vec()),
                        line,
                        info: Some(info_of(c, stats)),
                    })
                    .collect();
            }
            f
        })
        .collect()
}
