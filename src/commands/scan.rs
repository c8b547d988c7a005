//! `leakscan scan [PATH...]`: files and directories, or standard input.

use std::time::Instant;

use crate::cli::ScanArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::outcome;
use crate::pipeline;
use crate::settings::{self, Request, Settings};

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
    let opts = settings.walk_options(
        args.no_ignore,
        !args.no_hidden,
        args.follow,
        args.max_file_size,
    );
    let scanned = pipeline::scan_target(
        &args.paths,
        &opts,
        settings.rules.clone(),
        settings.archives.clone(),
        settings.output.progress(),
    )?;
    outcome::finish(scanned, &settings, start, "files", None)
}
