//! `ReadError`: a problem reading one object (damaged, missing, of the
//! wrong type). The scan records it and goes on. Its own module so that the
//! reader (`odb`) and the checks before it (`guard`) both use it without
//! importing each other.

/// A problem reading one object; the scan records it and goes on.
#[derive(Debug, Clone)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<git2::Error> for ReadError {
    fn from(e: git2::Error) -> Self {
        ReadError(e.message().to_string())
    }
}
