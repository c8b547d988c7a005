//! A progress line on standard error for humans: drawn only when stderr is a
//! terminal, the output format is text and `--quiet` is off. Workers bump
//! relaxed atomics; indicatif redraws on its own ticker. The line names the
//! phase a run is in (walking commits, reading trees, enumerating, scanning)
//! from its first draw.
//!
//! Also the run's interruption flag: `catch_interrupts` turns the first
//! Ctrl-C into `interrupted() == true`, which the drivers check between
//! items so a run stops early and still reports what it found (a second
//! Ctrl-C ends the process at once).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed since `catch_interrupts`.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Makes the first Ctrl-C (SIGINT) set `interrupted()` instead of killing
/// the process; a second one exits at once with 130. Installed once per
/// process, by the commands that scan.
pub fn catch_interrupts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::Relaxed) {
                crate::suppress::baseline::format::FileLock::release_all();
                std::process::exit(130);
            }
        });
    });
}

/// What a run is doing, shown on the progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// A directory walk (or anything without phases).
    Files = 0,
    WalkingCommits = 1,
    ReadingTrees = 2,
    Enumerating = 3,
    ScanningBlobs = 4,
}

impl Phase {
    fn from_u8(n: u8) -> Phase {
        match n {
            1 => Phase::WalkingCommits,
            2 => Phase::ReadingTrees,
            3 => Phase::Enumerating,
            4 => Phase::ScanningBlobs,
            _ => Phase::Files,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Files => "",
            Phase::WalkingCommits => "walking commits",
            Phase::ReadingTrees => "reading trees",
            Phase::Enumerating => "enumerating blobs",
            Phase::ScanningBlobs => "scanning blobs",
        }
    }
}

#[derive(Default)]
pub struct Counters {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub commits: AtomicU64,
    pub blobs_total: AtomicU64,
    phase: AtomicU8,
}

impl Counters {
    pub fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Ordering::Relaxed);
    }

    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Relaxed))
    }
}

/// How long a run goes before the line is first drawn (default one second,
/// so short runs print nothing); `LEAKSCAN_PROGRESS_AFTER_MS` changes it.
fn first_draw() -> Duration {
    std::env::var("LEAKSCAN_PROGRESS_AFTER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(1))
}

pub struct Progress {
    pub counters: Arc<Counters>,
    bar: Option<ProgressBar>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// `what` names the unit (`files`, `blobs`).
    pub fn new(enabled: bool, what: &'static str) -> Progress {
        Progress::with_phase(enabled, what, Phase::Files)
    }

    /// A progress line that starts in phase `phase`.
    pub fn with_phase(enabled: bool, what: &'static str, phase: Phase) -> Progress {
        let counters = Arc::new(Counters::default());
        counters.set_phase(phase);
        if !enabled {
            return Progress {
                counters,
                bar: None,
                stop: None,
                ticker: None,
            };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let b = bar.clone();
        let c = counters.clone();
        let after = first_draw();
        let ticker = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            loop {
                if start.elapsed() >= after {
                    b.set_message(line(&c, what));
                    b.tick();
                }
                if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
                    break;
                }
            }
        });
        Progress {
            counters,
            bar: Some(bar),
            stop: Some(tx),
            ticker: Some(ticker),
        }
    }

    pub fn finish(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// The line's text: the phase, then what is counted so far.
fn line(c: &Counters, what: &str) -> String {
    let n = c.files.load(Ordering::Relaxed);
    let mb = c.bytes.load(Ordering::Relaxed) as f64 / 1e6;
    let total = c.blobs_total.load(Ordering::Relaxed);
    let commits = c.commits.load(Ordering::Relaxed);
    let counts = match c.phase() {
        Phase::Files => format!("{n} {what}, {mb:.0} MB"),
        Phase::WalkingCommits | Phase::ReadingTrees => String::new(),
        Phase::Enumerating => format!(
            "{}, {total} {what} so far",
            crate::report::count(commits, "commit", "commits")
        ),
        Phase::ScanningBlobs => format!(
            "{}, {n}/{total} {what}, {mb:.0} MB",
            crate::report::count(commits, "commit", "commits")
        ),
    };
    let mut s = c.phase().label().to_string();
    if interrupted() {
        s = format!("interrupted, finishing ({s})");
    }
    match (s.is_empty(), counts.is_empty()) {
        (true, _) => counts,
        (false, true) => s,
        (false, false) => format!("{s}: {counts}"),
    }
}
