//! The history scan: what `history`, `baseline --history`, the push check
//! and the sweep drive over a `Plan` (`git::revwalk::plan`). `run` walks
//! then scans; `scan` and `scan_sharing` scan a plan already made. The
//! phases live one to a module:
//!
//! 0. `preload` (large runs only, see `plan_and_load`): workers decode every
//!    tree of the pack files once, by walking the delta forest
//!    (`git::pack`), into a shared compact `TreeStore`;
//! 1. `enumerate`: workers take runs of consecutive commits and diff each
//!    commit's tree against its parents' (`git::diff::introduced`);
//!    this thread interns paths and deduplicates blobs by id as results arrive;
//! 2. `blobs`: workers decode each distinct blob once and match it — from the
//!    pack files' delta forest on large runs, else (and for whatever the packs
//!    cannot give) one object at a time through `ObjectReader`; `cache` keeps
//!    what each blob gave across the repositories of a sweep;
//! 3. `attribute`: each (rule, secret, path) goes to the earliest commit, in
//!    topological order, that introduced a blob carrying it at that path;
//! 4. `tagged`: refs pointing straight at a blob or a tree (`--all`), whose
//!    content no commit holds, scanned as it is at a place naming the ref.
//!
//! Work therefore grows with unique content, not commits × files. Every
//! worker opens its own `ObjectReader` (it is not `Sync`). With
//! `HistoryOptions::trace` (`LEAKSCAN_TRACE`), the time and volume of each
//! phase go to standard error (`trace`, here, with the run's statistics).

mod attribute;
mod blobs;
mod cache;
mod enumerate;
mod preload;
mod tagged;

pub use cache::BlobCache;
pub use preload::{plan_and_load, Packed};

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::git::revwalk::{self, Plan, Selection};
use crate::git::trees::TreeStore;
use crate::git::ObjectReader;
use crate::progress::{Counters, Phase, Progress};
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, SkipReason, Stats};

use super::Scanned;

use attribute::attribute;
use blobs::scan_blobs;
use enumerate::{enumerate, Enumerated};

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
    let tagged_rules = (!plan.tagged.is_empty()).then(|| rules.clone());
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
    if let Some(rules) = tagged_rules {
        let found = tagged::scan_refs(git_dir, &plan.tagged, rules, opts, &mut out.stats);
        out.findings.extend(found);
    }
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
