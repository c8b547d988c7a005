//! The exit-code contract, the same for every mode.

/// 0: no new findings; 1: new findings; 2: an error (bad configuration, an
/// unreadable path named on the command line, a file or object that could not
/// be read during the scan, an internal failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Error = 2,
    /// Interrupted (Ctrl-C): 128 + SIGINT, as shells report it.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}
