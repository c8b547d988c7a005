//! `leakscan scan [PATH...]`: files and directories, or standard input.

use std::time::Instant;

use crate::app;
use crate::cli::ScanArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::{self, Scanned};
use crate::progress::Progress;
use crate::settings;
use crate::source::worktree::WalkOptions;

/// Runs the scan and returns findings before suppression, with the prepared settings.
pub fn collect(args: &ScanArgs, prepared: &super::Prepared) -> Result<Scanned> {
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && args.paths.len() > 1 {
        return Err(Error::Usage(
            "`-` (standard input) cannot be combined with other paths".into(),
        ));
    }
    if stdin {
        return Ok(pipeline::scan_stdin(prepared.rules.clone()));
    }
    let progress = Progress::new(app::progress_enabled(&args.common), "files");
    let opts = WalkOptions {
        no_ignore: args.no_ignore,
        hidden: !args.no_hidden,
        follow: args.follow,
        threads: settings::threads(args.common.threads),
        max_file_size: settings::max_file_size(args.max_file_size, prepared.config.as_ref()),
    };
    let scanned = pipeline::scan_paths(
        &args.paths,
        &opts,
        prepared.rules.clone(),
        progress.counters.clone(),
    );
    progress.finish();
    Ok(scanned)
}

pub fn run(args: ScanArgs) -> Result<Exit> {
    let start = Instant::now();
    for p in &args.paths {
        settings::check_path(p)?;
    }
    let root = settings::scan_root(&args.paths);
    let mut prepared = super::prepare(&args.common, &root, None)?;
    // Stale baseline entries can only be judged when the whole root is
    // scanned; single files or several paths see only part of it.
    let whole_root = matches!(args.paths.as_slice(), [one] if one.is_dir());
    if let Some(b) = prepared.suppressor.baseline.as_mut() {
        if !whole_root {
            b.set_report_stale(false);
        }
    }
    let scanned = collect(&args, &prepared)?;
    app::finish(
        scanned,
        &prepared.rules,
        &prepared.suppressor,
        &args.common,
        start,
        "files",
        None,
    )
}
