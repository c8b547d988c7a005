//! `Secret`: the secret's bytes behind a type whose `Debug` and `Display`
//! redact, so a secret cannot reach a log or message by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The raw bytes. Call only where the user asked to see secrets, or to hash.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first 4 characters and the length: `ghp_…(40)`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// The first 4 characters of `s` and its length in bytes.
pub fn redact(s: &[u8]) -> String {
    let text = String::from_utf8_lossy(s);
    let head: String = text
        .chars()
        .take(4)
        .flat_map(char::escape_default)
        .collect();
    format!("{head}…({})", s.len())
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Every secret found in a run, to be redacted wherever it appears in other
/// text the run prints: commit summaries, author fields, paths. A secret
/// pasted into a commit message is as exposed as the one in the file, so
/// the report writers and the push hooks' messages pass every such text
/// through one `Redactor` (`none()` under `--show-secrets`).
pub struct Redactor {
    /// Secrets of five bytes or more (a shorter one is shown whole by its
    /// own redacted form), longest match first.
    search: Option<aho_corasick::AhoCorasick>,
    redacted: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Redactor {
        let mut all: Vec<&[u8]> = secrets
            .into_iter()
            .map(Secret::expose)
            .filter(|s| s.len() > 4)
            .collect();
        all.sort_unstable();
        all.dedup();
        let search = (!all.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&all)
                    .ok()
            })
            .flatten();
        Redactor {
            redacted: all.iter().map(|s| redact(s)).collect(),
            search,
        }
    }

    /// Redacts nothing (`--show-secrets`).
    pub fn none() -> Redactor {
        Redactor {
            search: None,
            redacted: Vec::new(),
        }
    }

    /// `text` with every secret replaced by its redacted form.
    pub fn text<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        match &self.search {
            Some(ac) if ac.is_match(text) => ac.replace_all(text, &self.redacted).into(),
            _ => text.into(),
        }
    }

    /// `bytes` with every secret replaced by its redacted form.
    pub fn bytes<'t>(&self, bytes: &'t [u8]) -> std::borrow::Cow<'t, [u8]> {
        match &self.search {
            Some(ac) if ac.is_match(bytes) => {
                let with: Vec<&[u8]> = self.redacted.iter().map(String::as_bytes).collect();
                ac.replace_all_bytes(bytes, &with).into()
            }
            _ => bytes.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_replaces_every_secret_longest_first() {
        let a = Secret::new(b"abcdefgh".to_vec());
        let b = Secret::new(b"abcdefghij".to_vec());
        let short = Secret::new(b"abc".to_vec());
        let r = Redactor::new([&a, &b, &short, &a]);
        assert_eq!(
            r.text("fix: remove abcdefghij and abcdefgh (abc)"),
            "fix: remove abcd…(10) and abcd…(8) (abc)"
        );
        assert_eq!(
            &*r.bytes(b"dir/abcdefgh.txt"),
            b"dir/abcd\xe2\x80\xa6(8).txt"
        );
        assert!(matches!(r.text("clean"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(Redactor::none().text("abcdefgh"), "abcdefgh");
    }
}
