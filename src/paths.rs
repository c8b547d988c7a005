//! Paths as leakscan shows and compares them: bytes (git and Unix paths
//! need not be UTF-8), `/`-separated, relative to what was scanned.

use std::path::{Component, Path, PathBuf};

/// A path as bytes: git and Unix paths need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathBytes(pub Vec<u8>);

impl PathBytes {
    pub fn as_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl From<&str> for PathBytes {
    fn from(s: &str) -> Self {
        PathBytes(s.as_bytes().to_vec())
    }
}

/// The path named by `bytes` (as git prints paths: raw bytes on Unix).
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// A path as `/`-separated bytes, losslessly (non-UTF-8 names survive).
pub fn path_bytes(p: &Path) -> PathBytes {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let b = p.as_os_str().as_bytes();
        let b = b.strip_prefix(b"./").unwrap_or(b);
        PathBytes(b.to_vec())
    }
    #[cfg(not(unix))]
    {
        let s = p.to_string_lossy().replace('\\', "/");
        PathBytes(s.trim_start_matches("./").as_bytes().to_vec())
    }
}

/// The normal components of a relative path, joined with `/`.
pub fn slash_join(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// `path` made absolute and canonical as far as it exists (the file itself
/// may exist only in another revision).
pub fn absolute(path: &Path) -> PathBuf {
    if let Ok(c) = path.canonicalize() {
        return c;
    }
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) if dir != abs => absolute(dir).join(name),
        _ => abs,
    }
}

/// Joins `/`-separated repository paths, dropping empty parts.
pub fn join(dir: &str, name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in dir.split('/').chain(name.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}
