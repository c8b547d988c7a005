//! `leakscan install-hook` / `uninstall-hook`. (Being built: #3.)

use crate::cli::HookArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;

pub fn install(_args: HookArgs) -> Result<Exit> {
    Err(Error::Usage("`leakscan install-hook` is not available yet".into()))
}

pub fn uninstall(_args: HookArgs) -> Result<Exit> {
    Err(Error::Usage("`leakscan uninstall-hook` is not available yet".into()))
}
