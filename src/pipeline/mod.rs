//! The only module that starts threads. It drives a source's items through
//! blob handling and the matcher into findings, in parallel, and returns them
//! with merged stats. Suppression and reporting happen afterwards, in order.

mod blob_step;
pub mod history;
pub mod push;
pub mod staged;
pub mod sweep;

pub use blob_step::BlobStep;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ignore::WalkState;

use crate::archive::Limits;
use crate::finding::Finding;
use crate::paths::PathBytes;
use crate::progress::Counters;
use crate::rules::RuleSet;
use crate::source::worktree::{self, FileRead, WalkOptions};
use crate::stats::{ErrorKind, SkipReason, Stats};

/// What a scan produced before suppression.
#[derive(Default)]
pub struct Scanned {
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

impl Scanned {
    fn merge(&mut self, other: Scanned) {
        self.findings.extend(other.findings);
        self.stats.merge(other.stats);
    }
}

/// One walker thread's state; hands its results over when the thread ends.
struct Worker {
    step: BlobStep,
    buf: Vec<u8>,
    local: Scanned,
    sink: Arc<Mutex<Scanned>>,
    counters: Arc<Counters>,
    single_root: Option<PathBuf>,
    max: u64,
    /// Files (anything but directories) the walk handed over.
    walked: u64,
    walked_total: Arc<AtomicU64>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.walked_total.fetch_add(self.walked, Ordering::Relaxed);
        let mut local = std::mem::take(&mut self.local);
        self.step.drain_into(&mut local.stats);
        if let Ok(mut s) = self.sink.lock() {
            s.merge(local);
        }
    }
}

impl Worker {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        if crate::progress::interrupted() {
            self.local.stats.interrupted = true;
            return WalkState::Quit;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                self.walk_error(e);
                return WalkState::Continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            // Standard input is handled apart; nothing else lacks a type.
            return WalkState::Continue;
        };
        if ft.is_dir() {
            return WalkState::Continue;
        }
        self.visit_file(entry.path(), ft, entry.depth() == 0);
        WalkState::Continue
    }

    /// One entry that is not a directory; `explicit`: named on the command line.
    fn visit_file(&mut self, path: &Path, ft: std::fs::FileType, explicit: bool) {
        self.walked += 1;
        // A path named on the command line is read whatever it is: a FIFO,
        // process substitution (`<(…)`, a link to a pipe), `/dev/stdin`.
        let named = explicit && !std::fs::metadata(path).is_ok_and(|m| m.is_dir());
        if ft.is_symlink() && !named {
            self.local.stats.skip(SkipReason::Symlink, 0);
            return;
        }
        if !ft.is_file() && !named {
            self.local.stats.skip(SkipReason::NotRegularFile, 0);
            return;
        }
        match worktree::read_file(path, explicit, self.max, &mut self.buf) {
            FileRead::Content => {
                let shown = worktree::display_path(path, self.single_root.as_deref());
                let found = self
                    .step
                    .scan(&self.buf, &shown, explicit, &mut self.local.stats);
                self.local.findings.extend(found);
                self.counters.files.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .bytes
                    .fetch_add(self.buf.len() as u64, Ordering::Relaxed);
            }
            FileRead::Skip(reason, size) => self.local.stats.skip(reason, size),
            FileRead::Error(msg) => {
                self.local.stats.skip(SkipReason::Unreadable, 0);
                self.local.stats.error(ErrorKind::File, msg);
            }
        }
        // Don't let one huge file pin its buffer for the rest of the walk.
        if self.buf.capacity() > 64 << 20 {
            self.buf = Vec::new();
        }
    }

    fn walk_error(&mut self, e: ignore::Error) {
        if is_loop(&e) {
            self.local.stats.skip(SkipReason::SymlinkLoop, 0);
            self.local.stats.warnings.push(e.to_string());
        } else {
            self.local.stats.skip(SkipReason::Unreadable, 0);
            self.local.stats.error(ErrorKind::File, e.to_string());
        }
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        ignore::Error::Partial(errs) => errs.iter().any(is_loop),
        _ => false,
    }
}

/// The driver of `scan` (and of a baseline's scan): files and directories
/// in parallel, or standard input when `paths` is `-` alone.
pub fn scan_target(
    paths: &[PathBuf],
    opts: &WalkOptions,
    rules: Arc<RuleSet>,
    archives: Option<Limits>,
    show_progress: bool,
) -> crate::error::Result<Scanned> {
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && paths.len() > 1 {
        return Err(crate::error::Error::Usage(
            "`-` (standard input) cannot be combined with other paths".into(),
        ));
    }
    if stdin {
        return Ok(scan_stdin(rules, archives));
    }
    let progress = crate::progress::Progress::new(show_progress, "files");
    let scanned = scan_paths(paths, opts, rules, archives, progress.counters.clone());
    progress.finish();
    Ok(scanned)
}

/// Scans files and directories in parallel.
pub fn scan_paths(
    roots: &[PathBuf],
    opts: &WalkOptions,
    rules: Arc<RuleSet>,
    archives: Option<Limits>,
    counters: Arc<Counters>,
) -> Scanned {
    let sink = Arc::new(Mutex::new(Scanned::default()));
    let single_root = match roots {
        [one] if one.is_dir() => Some(one.clone()),
        _ => None,
    };
    let proto = BlobStep::new(rules, opts.max_file_size).with_archives(archives);
    let walked_total = Arc::new(AtomicU64::new(0));
    let worker = || Worker {
        step: proto.clone(),
        buf: Vec::with_capacity(64 * 1024),
        local: Scanned::default(),
        sink: sink.clone(),
        counters: counters.clone(),
        single_root: single_root.clone(),
        max: opts.max_file_size,
        walked: 0,
        walked_total: walked_total.clone(),
    };
    // Files named on the command line and no directory (the pre-commit
    // route, an editor's scan of one file): nothing to walk, so they are
    // read here in turn, as the walker would hand them over (a named file
    // is never filtered), without its threads or the ignore files it reads
    // first. A named file can be filtered out by nothing: no second walk.
    let files: Option<Vec<std::fs::FileType>> = roots
        .iter()
        .map(|r| {
            std::fs::metadata(r)
                .ok()
                .map(|m| m.file_type())
                .filter(|t| !t.is_dir())
        })
        .collect();
    if let Some(types) = files {
        let mut w = worker();
        for (root, ft) in roots.iter().zip(types) {
            if crate::progress::interrupted() {
                w.local.stats.interrupted = true;
                break;
            }
            w.visit_file(root, ft, true);
        }
        drop(w);
        return finish_walk(sink, false, 0, roots, opts);
    }
    worktree::build(roots, opts).run(|| {
        let mut w = worker();
        Box::new(move |entry| w.visit(entry))
    });
    let walked = walked_total.load(Ordering::Relaxed);
    finish_walk(sink, worktree::filters(opts), walked, roots, opts)
}

/// The walk's merged results, with the files the walk's filters left out
/// (`count_ignored`: the walk filtered; `walked`: the files it handed over)
/// counted as skipped, findings in order.
fn finish_walk(
    sink: Arc<Mutex<Scanned>>,
    count_ignored: bool,
    walked: u64,
    roots: &[PathBuf],
    opts: &WalkOptions,
) -> Scanned {
    let mut out = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    out.stats.interrupted |= crate::progress::interrupted();
    // What the ignore rules and `--no-hidden` kept from the walk is counted
    // too: a second walk without those filters lists every file.
    if count_ignored && !out.stats.interrupted {
        let all = AtomicU64::new(0);
        worktree::build_unfiltered(roots, opts).run(|| {
            Box::new(|entry| {
                if entry.is_ok_and(|e| !e.file_type().is_some_and(|t| t.is_dir())) {
                    all.fetch_add(1, Ordering::Relaxed);
                }
                WalkState::Continue
            })
        });
        let ignored = all.into_inner().saturating_sub(walked);
        if ignored > 0 {
            out.stats.skip_n(SkipReason::Ignored, ignored);
        }
    }
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// Scans standard input as one blob named `<stdin>`.
pub fn scan_stdin(rules: Arc<RuleSet>, archives: Option<Limits>) -> Scanned {
    let mut out = Scanned::default();
    let mut buf = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut buf) {
        out.stats.error(ErrorKind::File, format!("<stdin>: {e}"));
        return out;
    }
    let mut step = BlobStep::new(rules, u64::MAX).with_archives(archives);
    out.findings = step.scan(&buf, &PathBytes::from("<stdin>"), true, &mut out.stats);
    step.drain_into(&mut out.stats);
    out
}

/// Scans one in-memory blob as if named on the command line (used by
/// baseline audit and import, tests and benchmarks).
pub fn scan_blob(rules: Arc<RuleSet>, bytes: &[u8], path: &Path) -> Vec<Finding> {
    let mut step = BlobStep::new(rules, u64::MAX);
    step.scan(
        bytes,
        &crate::paths::path_bytes(path),
        true,
        &mut Stats::default(),
    )
}
