//! The record every later stage passes around: which rule found which secret
//! where, with a stable fingerprint. Built from a matcher's `RawMatch` plus the
//! blob's bytes and origin.

mod secret;

pub use secret::{redact, Redactor, Secret};

use sha2::{Digest, Sha256};

use crate::paths::PathBytes;
use crate::rules::Confidence;

/// The commit a history finding is attributed to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitInfo {
    pub id: String,
    pub author: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
    pub summary: String,
}

/// What an inline marker on the finding's line says: `leakscan:allow`, or
/// gitleaks' `gitleaks:allow` (honoured so that switching costs nothing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InlineAllow {
    #[default]
    None,
    /// `leakscan:allow`: every rule.
    All,
    /// `leakscan:allow=a,b`: only these rules.
    Rules(Vec<String>),
    /// `gitleaks:allow` (and no `leakscan:allow`): every rule. Counted apart
    /// in the summary, so a migrated repository sees where its markers came from.
    Gitleaks,
}

impl InlineAllow {
    /// Parses the marker out of one line of text. A `leakscan:allow` marker
    /// wins over a `gitleaks:allow` on the same line.
    pub fn parse(line: &[u8]) -> InlineAllow {
        const MARK: &[u8] = b"leakscan:allow";
        const GITLEAKS: &[u8] = b"gitleaks:allow";
        let Some(i) = memchr::memmem::find(line, MARK) else {
            return if memchr::memmem::find(line, GITLEAKS).is_some() {
                InlineAllow::Gitleaks
            } else {
                InlineAllow::None
            };
        };
        let rest = &line[i + MARK.len()..];
        if let Some(list) = rest.strip_prefix(b"=") {
            let end = list
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b',')))
                .unwrap_or(list.len());
            let ids: Vec<String> = String::from_utf8_lossy(&list[..end])
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                return InlineAllow::Rules(ids);
            }
        }
        InlineAllow::All
    }

    pub fn allows(&self, rule: &str) -> bool {
        match self {
            InlineAllow::None => false,
            InlineAllow::All | InlineAllow::Gitleaks => true,
            InlineAllow::Rules(ids) => ids.iter().any(|i| i == rule),
        }
    }
}

/// One secret found by one rule at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: String,
    pub description: String,
    pub path: PathBytes,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based byte column of the secret's first byte.
    pub column: usize,
    /// 1-based line of the secret's last byte.
    pub end_line: usize,
    /// Byte column just past the secret, on `end_line` (exclusive, 1-based).
    pub end_column: usize,
    pub secret: Secret,
    pub entropy: f64,
    pub commit: Option<CommitInfo>,
    pub inline: InlineAllow,
    /// The line holding the secret's start (for `baseline audit`), cut to 512 bytes.
    pub line_text: Vec<u8>,
    /// Where else the same secret occurs (history `--all-occurrences`).
    pub occurrences: Vec<Occurrence>,
    /// The encoding the secret was found under (`"base64"`): the location
    /// and secret are the encoded text.
    pub encoding: Option<&'static str>,
    /// How sure the finding is (its rule's format, a token's checksum).
    pub confidence: Confidence,
    /// The rule's format is public by design (a client-side key): judged
    /// `public_by_design`, never new.
    pub public: bool,
    /// Inside an archive (`path` being the outermost one's): the names
    /// leading to the file, and the image layer holding it.
    pub archive: Option<Box<ArchivePath>>,
    /// The text around the secret (up to `verify::spec::NEAR_BYTES` each
    /// side), kept only for rules whose verifier reads a value next to the
    /// secret (a shop domain, an account name); redacted like the secret.
    pub near: Option<Box<Secret>>,
}

/// Where inside an archive a finding is: names from the outermost archive
/// inwards (`["WEB-INF/lib/a.jar", "config.env"]`), and for container
/// images the layer's digest. Only names: rebuilding the archive (new
/// timestamps, new compression) does not change it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArchivePath {
    pub inner: Vec<PathBytes>,
    pub layer: Option<String>,
}

/// A further place a secret was seen (history scans).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurrence {
    pub commit: String,
    pub path: PathBytes,
    pub line: usize,
    /// The commit's author, date and summary, when the driver read them.
    pub info: Option<CommitInfo>,
}

impl Finding {
    /// Where the secret is: the path, and inside an archive the names
    /// through it (`dist/app.whl!app/settings.py`).
    pub fn location(&self) -> std::borrow::Cow<'_, PathBytes> {
        match &self.archive {
            None => std::borrow::Cow::Borrowed(&self.path),
            Some(a) => std::borrow::Cow::Owned(join_archive_path(&self.path, &a.inner)),
        }
    }

    /// A stable identity: rule, location and secret; never the line, so it
    /// survives edits around the secret (nor, in an archive, the archive's
    /// bytes or layer digest, so it survives a rebuild).
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"leakscan-fingerprint-v1\0");
        h.update(self.rule.as_bytes());
        h.update([0]);
        h.update(&self.location().0);
        h.update([0]);
        h.update(self.secret.expose());
        hex::encode(&h.finalize()[..16])
    }

    /// Sort key: path (then the names inside an archive), line, column, rule
    /// (then commit for history).
    #[allow(clippy::type_complexity)]
    pub fn sort_key(
        &self,
    ) -> (
        &PathBytes,
        Option<&[PathBytes]>,
        usize,
        usize,
        &str,
        Option<&str>,
    ) {
        (
            &self.path,
            self.archive.as_ref().map(|a| &a.inner[..]),
            self.line,
            self.column,
            &self.rule,
            self.commit.as_ref().map(|c| c.id.as_str()),
        )
    }
}

/// `path!inner!…`.
pub fn join_archive_path(path: &PathBytes, inner: &[PathBytes]) -> PathBytes {
    let mut out = path.0.clone();
    for c in inner {
        out.push(b'!');
        out.extend_from_slice(&c.0);
    }
    PathBytes(out)
}

/// Maps byte offsets in a blob to lines and columns. Offsets must be asked for
/// in increasing order for linear cost; any order is correct.
pub struct LineIndex<'a> {
    hay: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(hay: &'a [u8]) -> Self {
        LineIndex {
            hay,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// (1-based line, 1-based byte column, byte offset where that line starts).
    pub fn locate(&mut self, offset: usize) -> (usize, usize, usize) {
        let offset = offset.min(self.hay.len());
        if offset < self.pos {
            *self = LineIndex::new(self.hay);
        }
        let seg = &self.hay[self.pos..offset];
        let n = memchr::memchr_iter(b'\n', seg).count();
        if n > 0 {
            self.line += n;
            self.line_start = self.pos + memchr::memrchr(b'\n', seg).unwrap() + 1;
        }
        self.pos = offset;
        (self.line, offset - self.line_start + 1, self.line_start)
    }
}

/// The full line that starts at `line_start`.
pub fn line_at(hay: &[u8], line_start: usize) -> &[u8] {
    let rest = &hay[line_start.min(hay.len())..];
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let line = &rest[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_lines_and_columns() {
        let hay = b"ab\ncd\r\nef";
        let mut li = LineIndex::new(hay);
        assert_eq!(li.locate(0), (1, 1, 0));
        assert_eq!(li.locate(4), (2, 2, 3));
        assert_eq!(li.locate(8), (3, 2, 7));
        assert_eq!(li.locate(1), (1, 2, 0));
        assert_eq!(line_at(hay, 3), b"cd");
    }

    #[test]
    fn inline_marker() {
        assert_eq!(InlineAllow::parse(b"x = 1"), InlineAllow::None);
        assert_eq!(
            InlineAllow::parse(b"x = 1 # leakscan:allow"),
            InlineAllow::All
        );
        let r = InlineAllow::parse(b"x // leakscan:allow=github-pat,aws-key-id trailing");
        assert_eq!(
            r,
            InlineAllow::Rules(vec!["github-pat".into(), "aws-key-id".into()])
        );
        assert!(r.allows("aws-key-id"));
        assert!(!r.allows("jwt"));
    }

    #[test]
    fn gitleaks_marker() {
        let g = InlineAllow::parse(b"token = 'x' # gitleaks:allow");
        assert_eq!(g, InlineAllow::Gitleaks);
        assert!(g.allows("github-pat"));
        // leakscan's own marker, with its rule list, decides when both are there.
        let both = InlineAllow::parse(b"x # gitleaks:allow leakscan:allow=jwt");
        assert_eq!(both, InlineAllow::Rules(vec!["jwt".into()]));
        assert!(!both.allows("github-pat"));
        assert_eq!(InlineAllow::parse(b"gitleaks:deny"), InlineAllow::None);
    }
}
