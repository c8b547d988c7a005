//! Phase 0 of the history scan: the pack files read ahead — their delta
//! forest built and every tree decoded once into a shared `TreeStore` —
//! while the commits are walked (`plan_and_load`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::git::pack::forest::{Event, Forest, Limits, Walker};
use crate::git::pack::{self, PackSet};
use crate::git::revwalk::Plan;
use crate::git::trees::{TreePart, TreeStore};

use super::HistoryOptions;

/// Trees larger than this are left to libgit2 by the pack reader.
const MAX_TREE: u64 = 64 << 20;

/// The pack files read ahead of the blob scan: their delta forest and
/// every tree, decoded once.
pub struct Packed {
    pub(super) packs: Arc<PackSet>,
    pub(super) forest: Forest,
    pub(super) trees: TreeStore,
    pub(super) took: Duration,
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
