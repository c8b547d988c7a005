//! `leakscan history`: every commit reachable from the given revisions. (Being built: #3.)

use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::Scanned;

/// Scans history and returns findings (with commits) before suppression.
pub fn collect(_args: &HistoryArgs, _prepared: &super::Prepared) -> Result<Scanned> {
    Err(Error::Usage("`leakscan history` is not available yet".into()))
}

pub fn run(_args: HistoryArgs) -> Result<Exit> {
    Err(Error::Usage("`leakscan history` is not available yet".into()))
}
