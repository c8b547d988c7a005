//! Paths as leakscan shows and compares them: bytes (git and Unix paths
//! need not be UTF-8), `/`-separated, relative to what was scanned.

use std::path::{Component, Path, PathBuf};

/// A path as bytes: git and Unix paths need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathBytes(pub Vec<u8>);

impl PathBytes {
    /// The path for human eyes (text reports, messages on a terminal):
    /// control characters and bytes that are not UTF-8 are written as
    /// escapes (`\n`, `\x1b`, `\xff`), so a file name can neither drive the
    /// terminal nor forge a line of output. JSON and SARIF keep names exact.
    pub fn escaped(&self) -> String {
        escape_bytes(&self.0)
    }

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

/// `bytes` as text safe to print: UTF-8 kept, control characters and
/// invalid bytes escaped.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_controls(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `s` with its control characters (C0, DEL, C1) escaped.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_humans() {
        let p = PathBytes(b"a\x1b[2Jb\nsrc/x.rs:1:1  fake\xff.txt".to_vec());
        assert_eq!(p.escaped(), "a\\x1b[2Jb\\nsrc/x.rs:1:1  fake\\xff.txt");
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(escape_controls("tab\there\u{85}"), "tab\\there\\x85");
    }
}
