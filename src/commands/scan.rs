//! `leakscan scan [PATH...]`: files and directories, or standard input.

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::ScanArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::outcome;
use crate::pipeline::{self, Scanned};
use crate::progress::Progress;
use crate::settings::{self, Request, Settings};
use crate::source::worktree::WalkOptions;

/// What to scan and how to walk it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Files or directories; `-` alone for standard input.
    pub paths: Vec<PathBuf>,
    pub no_ignore: bool,
    pub hidden: bool,
    pub follow: bool,
    /// `--max-file-size`, if given.
    pub max_file_size: Option<u64>,
}

impl Target {
    fn from_args(args: &ScanArgs) -> Target {
        Target {
            paths: args.paths.clone(),
            no_ignore: args.no_ignore,
            hidden: !args.no_hidden,
            follow: args.follow,
            max_file_size: args.max_file_size,
        }
    }
}

/// Runs the scan and returns findings before suppression.
pub fn collect(target: &Target, settings: &Settings) -> Result<Scanned> {
    let stdin = target.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && target.paths.len() > 1 {
        return Err(Error::Usage(
            "`-` (standard input) cannot be combined with other paths".into(),
        ));
    }
    if stdin {
        return Ok(pipeline::scan_stdin(
            settings.rules.clone(),
            settings.archives.clone(),
        ));
    }
    let progress = Progress::new(settings.output.progress(), "files");
    let opts = WalkOptions {
        no_ignore: target.no_ignore,
        hidden: target.hidden,
        follow: target.follow,
        threads: settings.threads,
        max_file_size: settings.max_file_size(target.max_file_size),
    };
    let scanned = pipeline::scan_paths(
        &target.paths,
        &opts,
        settings.rules.clone(),
        settings.archives.clone(),
        progress.counters.clone(),
    );
    progress.finish();
    Ok(scanned)
}

pub fn run(args: ScanArgs) -> Result<Exit> {
    let start = Instant::now();
    crate::progress::catch_interrupts();
    for p in &args.paths {
        settings::check_path(p)?;
    }
    let root = settings::scan_root(&args.paths);
    // Inside a repository, its top directory holds the configuration and
    // the baseline, wherever in it the scan starts.
    let home = settings::project_root(&root);
    let mut settings = Settings::resolve_in(Request::from_cli(&args.common), &root, &home, None)?;
    settings.set_archives(&args.common.archives);
    // Stale baseline entries can only be judged when the whole root is
    // scanned; single files or several paths see only part of it.
    let whole_root = matches!(args.paths.as_slice(), [one] if one.is_dir());
    if let Some(b) = settings.suppressor.baseline.as_mut() {
        if !whole_root {
            b.set_report_stale(false);
        }
    }
    // Paths relative to one scanned directory are shown under it, as given
    // (`scan cloud` prints `cloud/.credentials`); `.` adds nothing.
    if whole_root && args.paths[0] != std::path::Path::new(".") {
        settings.output.shown_root = Some(args.paths[0].clone());
    }
    let scanned = collect(&Target::from_args(&args), &settings)?;
    outcome::finish(scanned, &settings, start, "files", None)
}
