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

/// How long a run goes before the line is first drawn, by default: one
/// second, so short runs print nothing.
pub const FIRST_DRAW: Duration = Duration::from_secs(1);

/// The first draw's delay in milliseconds, when the run's settings gave one
/// (`settings::Switches`: `LEAKSCAN_PROGRESS_AFTER_MS`); `u64::MAX`: not set.
static FIRST_DRAW_MS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Sets how long a run goes before the line is first drawn (once per run,
/// from `settings::Switches`).
pub fn set_first_draw(after: Duration) {
    let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX - 1);
    FIRST_DRAW_MS.store(ms, Ordering::Relaxed);
}

fn first_draw() -> Duration {
    match FIRST_DRAW_MS.load(Ordering::Relaxed) {
        u64::MAX => FIRST_DRAW,
        ms => Duration::from_millis(ms),
    }
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
        bar.set_style(style());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let b = bar.clone();
        let c = counters.clone();
        let after = first_draw();
        let ticker = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let mut eta = Eta::default();
            loop {
                if start.elapsed() >= after {
                    let left = eta.left(&c);
                    b.set_message(line(&c, what, left));
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

/// The line: spinner, elapsed time, then the message, which is cut to the
/// terminal's width (`wide_msg`), so a narrow terminal never wraps it and
/// leaves no debris behind.
fn style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// The sweep's bar (repositories done of the total, the time left, the
/// current repository) for a terminal `width` columns wide: the fixed parts
/// shrink with the width, and the one wide part (the repository's name, or
/// on a narrow terminal the bar itself) takes what is left, so the line never
/// wraps (a wrapped line leaves debris on every redraw).
pub fn repositories_style(width: u16) -> ProgressStyle {
    let template = if width >= 100 {
        "{elapsed_precise} [{bar:24}] {pos}/{len} repositories, ETA {eta}  {wide_msg}"
    } else if width >= 64 {
        "{elapsed} [{bar:10}] {pos}/{len} repos, ETA {eta} {wide_msg}"
    } else {
        "{pos}/{len} {wide_bar} {eta}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// The time left while blobs are scanned (their total is known): the rate
/// since the scan phase began, applied to what remains.
#[derive(Default)]
struct Eta {
    /// When the scan phase was first seen, and the count then.
    began: Option<(std::time::Instant, u64)>,
}

impl Eta {
    fn left(&mut self, c: &Counters) -> Option<Duration> {
        if c.phase() != Phase::ScanningBlobs {
            return None;
        }
        let n = c.files.load(Ordering::Relaxed);
        let total = c.blobs_total.load(Ordering::Relaxed);
        let (t0, n0) = *self.began.get_or_insert((std::time::Instant::now(), n));
        let done = n.saturating_sub(n0);
        let secs = t0.elapsed().as_secs_f64();
        if done == 0 || secs < 1.0 || total <= n {
            return None;
        }
        Some(Duration::from_secs_f64(
            secs * (total - n) as f64 / done as f64,
        ))
    }
}

/// `1h02m`, `3m05s`, `42s`.
fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s / 60 % 60),
    }
}

/// The line's text: the phase, then what is counted so far; while blobs
/// are scanned (their total known), the share done and, once it can be
/// estimated, the time left.
fn line(c: &Counters, what: &str, left: Option<Duration>) -> String {
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
        Phase::ScanningBlobs => {
            let pct = (n.min(total) * 100)
                .checked_div(total)
                .map_or(String::new(), |p| format!(" ({p}%)"));
            let eta = left.map_or(String::new(), |d| format!(", ETA {}", short_duration(d)));
            format!(
                "{}, {n}/{total} {what}{pct}, {mb:.0} MB{eta}",
                crate::report::count(commits, "commit", "commits")
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A terminal of a given width that records what is drawn.
    #[derive(Debug)]
    struct Narrow(u16, Arc<Mutex<Vec<String>>>);

    impl indicatif::TermLike for Narrow {
        fn width(&self) -> u16 {
            self.0
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.1.lock().unwrap().push(s.to_string());
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.1.lock().unwrap().push(s.to_string());
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn scanning(n: u64, total: u64) -> Counters {
        let c = Counters::default();
        c.set_phase(Phase::ScanningBlobs);
        c.files.store(n, Ordering::Relaxed);
        c.blobs_total.store(total, Ordering::Relaxed);
        c.commits.store(24_301, Ordering::Relaxed);
        c.bytes.store(1_234_000_000, Ordering::Relaxed);
        c
    }

    /// Issue #24, item 9: at 50 columns the line is cut to 50, never wrapped.
    #[test]
    fn the_line_fits_a_narrow_terminal() {
        let c = scanning(1_234_567, 2_345_678);
        let text = line(&c, "blobs", Some(Duration::from_secs(125)));
        assert!(text.chars().count() > 50, "{text}");
        for width in [50u16, 80, 120] {
            let drawn = Arc::new(Mutex::new(Vec::new()));
            let bar = ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::term_like(Box::new(Narrow(width, drawn.clone()))),
            );
            bar.set_style(style());
            bar.set_message(text.clone());
            bar.tick();
            let drawn = drawn.lock().unwrap();
            assert!(!drawn.is_empty());
            for l in drawn.iter() {
                let cols = l.chars().count();
                assert!(cols <= width as usize, "{cols} > {width}: {l:?}");
            }
        }
    }

    /// Issue #24, item 9: the sweep's bar fits 50, 80 and 120 columns (its
    /// old fixed 24-column bar and labels needed about 75).
    #[test]
    fn the_sweep_bar_fits_the_terminal() {
        for width in [50u16, 80, 120] {
            let drawn = Arc::new(Mutex::new(Vec::new()));
            let bar = ProgressBar::with_draw_target(
                Some(67_890),
                indicatif::ProgressDrawTarget::term_like(Box::new(Narrow(width, drawn.clone()))),
            );
            bar.set_style(repositories_style(width));
            bar.set_position(12_345);
            bar.set_message("github.com/acme/payments-reconciliation-worker.git");
            bar.tick();
            let drawn = drawn.lock().unwrap();
            assert!(!drawn.is_empty());
            for l in drawn.iter() {
                let cols = console_width(l);
                assert!(cols <= width as usize, "{cols} > {width}: {l:?}");
            }
            assert!(drawn.iter().any(|l| l.contains("12345/67890")), "{drawn:?}");
        }
    }

    /// Columns a drawn line takes (ANSI escapes, if any, take none).
    fn console_width(l: &str) -> usize {
        let mut n = 0;
        let mut esc = false;
        for c in l.chars() {
            match (esc, c) {
                (false, '\u{1b}') => esc = true,
                (true, c) if c.is_ascii_alphabetic() => esc = false,
                (true, _) => {}
                _ => n += 1,
            }
        }
        n
    }

    /// Issue #24, item 9: where the total is known, the share and the time left.
    #[test]
    fn the_line_has_a_percentage_and_an_eta() {
        let c = scanning(500, 2_000);
        let text = line(&c, "blobs", Some(Duration::from_secs(185)));
        assert!(text.contains("500/2000 blobs (25%)"), "{text}");
        assert!(text.ends_with(", ETA 3m05s"), "{text}");
        let no_eta = line(&c, "blobs", None);
        assert!(!no_eta.contains("ETA"), "{no_eta}");
        // Without a total (a directory walk) neither is shown.
        let walk = Counters::default();
        assert!(!line(&walk, "files", None).contains('%'));
        assert_eq!(short_duration(Duration::from_secs(3725)), "1h02m");
    }
}
