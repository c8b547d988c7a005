//! `leakscan baseline create|update|audit|import`. (Being built: #4.)

use crate::cli::BaselineCommand;
use crate::error::{Error, Result};
use crate::exit::Exit;

pub fn run(_cmd: BaselineCommand) -> Result<Exit> {
    Err(Error::Usage("`leakscan baseline` is not available yet".into()))
}
