//! A progress line on standard error for humans: drawn only when stderr is a
//! terminal, the output format is text and `--quiet` is off. Workers bump
//! relaxed atomics; indicatif redraws on its own ticker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Default)]
pub struct Counters {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub commits: AtomicU64,
    pub blobs_total: AtomicU64,
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
        let counters = Arc::new(Counters::default());
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
        // Shown only after a second: short scans print nothing.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let b = bar.clone();
        let c = counters.clone();
        let ticker = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            loop {
                if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
                    break;
                }
                if start.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let n = c.files.load(Ordering::Relaxed);
                let mb = c.bytes.load(Ordering::Relaxed) as f64 / 1e6;
                let total = c.blobs_total.load(Ordering::Relaxed);
                let commits = c.commits.load(Ordering::Relaxed);
                let msg = if total > 0 {
                    format!(
                        "{}, {n}/{total} {what}, {mb:.0} MB",
                        crate::report::count(commits, "commit", "commits")
                    )
                } else {
                    format!("{n} {what}, {mb:.0} MB")
                };
                b.set_message(msg);
                b.tick();
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
