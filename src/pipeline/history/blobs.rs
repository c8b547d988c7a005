//! Phase 2 of the history scan: each distinct blob decoded once and
//! matched — from the pack files' delta forest, else one by one through
//! `ObjectReader` (as a stream when too large to hold).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::finding::Finding;
use crate::git::odb::PackOrder;
use crate::git::pack::forest::{Event, Forest, Limits, Walker};
use crate::git::pack::{self, PackSet};
use crate::git::revwalk::Plan;
use crate::git::stream::{BlobStream, STREAM_OVER};
use crate::git::ObjectReader;
use crate::paths::PathBytes;
use crate::progress::Counters;
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, SkipReason, Stats};

use crate::blob::Class;
use crate::pipeline::BlobStep;

use super::cache::Outcome;
use super::enumerate::Enumerated;
use super::HistoryOptions;

/// Blobs per unit of scan work.
const BLOB_CHUNK: usize = 16;
/// The pack reader decodes delta bases up to this size (or the file size
/// limit, when larger).
const MAX_BASE: u64 = 64 << 20;

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
pub(super) struct BlobScan {
    pub(super) stats: Stats,
    /// (blob index, findings under the blob's first path).
    pub(super) by_blob: Vec<(u32, Vec<Finding>)>,
    /// Blobs read through libgit2 rather than from the delta forest.
    pub(super) one_by_one: u64,
    /// What each blob gave, for `HistoryOptions::cache` (kept only with one).
    pub(super) outcomes: Option<Vec<(u32, Outcome)>>,
}

/// Phase 2: decodes and matches each distinct blob once. With the pack
/// files' forest, workers take whole delta trees (heaviest first); then
/// they share out, one by one through libgit2, the blobs the packs do not
/// hold (or all of them without a forest), and each retries what its walks
/// could not decode.
#[allow(clippy::too_many_arguments)]
pub(super) fn scan_blobs(
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
