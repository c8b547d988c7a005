//! `leakscan staged`: the pre-commit hook's scan. (Being built: #3.)

use crate::cli::StagedArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;

pub fn run(_args: StagedArgs) -> Result<Exit> {
    Err(Error::Usage("`leakscan staged` is not available yet".into()))
}
