//! User-facing errors of the library, typed so callers can match on the kind.
//! Every variant carries where the problem is (file, line, rule id, repository).
//! The binary prints them once, in `main`, and maps them to exit code 2.

use std::path::PathBuf;

/// An error that stops a run before or while scanning.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration or rules file that does not parse or validate.
    #[error("{path}:{line}:{col}: {msg}")]
    Config {
        path: PathBuf,
        line: usize,
        col: usize,
        msg: String,
    },
    /// A rule that does not compile or validate.
    #[error("{origin}: rule `{id}`: {msg}")]
    Rule {
        origin: String,
        id: String,
        msg: String,
    },
    /// A file or directory that could not be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A git repository that could not be opened or read.
    #[error("{repo}: {msg}")]
    Git { repo: PathBuf, msg: String },
    /// A baseline file that does not parse or validate.
    #[error("{path}: {msg}")]
    Baseline { path: PathBuf, msg: String },
    /// Anything else the user asked for that cannot be done.
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Builds a `Config` error from a byte offset into the file's text.
    pub fn config_at(
        path: impl Into<PathBuf>,
        text: &str,
        offset: usize,
        msg: impl Into<String>,
    ) -> Self {
        let (line, col) = line_col(text.as_bytes(), offset);
        Error::Config {
            path: path.into(),
            line,
            col,
            msg: msg.into(),
        }
    }

    /// Converts a `toml` parse error into a `Config` error with line and column.
    pub fn from_toml(path: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        let offset = err.span().map(|s| s.start).unwrap_or(0);
        let msg = err.message().trim().to_string();
        Error::config_at(path, text, offset, msg)
    }
}

/// 1-based line and byte column of `offset` in `text`.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map(|i| i + 1).unwrap_or(0);
    (line, offset - line_start + 1)
}
