//! Blob content handling shared by every source: decoding (UTF-16 with a BOM
//! becomes UTF-8), binary detection, and turning a blob's bytes into findings
//! with the matcher. Sources decide what to read; this decides how bytes are
//! looked at.

use std::borrow::Cow;

use crate::finding::{line_at, Finding, InlineAllow, LineIndex, PathBytes, Secret};
use crate::matcher::Matcher;

/// Decodes UTF-16 (LE or BE, with BOM) to UTF-8; other content is returned as is.
pub fn decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    let (le, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => return Cow::Borrowed(bytes),
    };
    let units = body.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Cow::Owned(text.into_bytes())
}

/// Binary content: a NUL byte anywhere (as git and ripgrep decide).
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, bytes).is_some()
}

/// A Git LFS pointer file: the content lives elsewhere and is not scanned.
pub fn is_lfs_pointer(bytes: &[u8]) -> bool {
    bytes.len() < 1024 && bytes.starts_with(b"version https://git-lfs.github.com/spec/")
}

/// Scans decoded bytes and builds findings for `path`.
pub fn scan_bytes(matcher: &mut Matcher, bytes: &[u8], path: &PathBytes) -> Vec<Finding> {
    let matches = matcher.scan_path(bytes, &path.0);
    if matches.is_empty() {
        return Vec::new();
    }
    let rules = matcher.rules().clone();
    let mut lines = LineIndex::new(bytes);
    let mut out = Vec::with_capacity(matches.len());
    for m in matches {
        let rule = &rules.rules[m.rule];
        let (line, column, line_start) = lines.locate(m.start);
        let full_line = line_at(bytes, line_start);
        let secret = &bytes[m.start..m.end];
        let newlines = memchr::memchr_iter(b'\n', secret).count();
        let (end_line, end_column) = match memchr::memrchr(b'\n', secret) {
            Some(i) => (line + newlines, m.end - (m.start + i + 1) + 1),
            None => (line, column + secret.len()),
        };
        out.push(Finding {
            rule: rule.id.clone(),
            description: rule.description.clone(),
            path: path.clone(),
            line,
            column,
            end_line,
            end_column,
            secret: Secret::new(secret.to_vec()),
            entropy: m.entropy,
            commit: None,
            inline: InlineAllow::parse(full_line),
            line_text: excerpt(full_line, column - 1),
            occurrences: Vec::new(),
            encoding: m.encoding,
        });
    }
    out
}

/// At most 512 bytes of `line` around byte `at`.
fn excerpt(line: &[u8], at: usize) -> Vec<u8> {
    const MAX: usize = 512;
    if line.len() <= MAX {
        return line.to_vec();
    }
    let start = at.saturating_sub(MAX / 4).min(line.len() - MAX);
    line[start..start + MAX].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "key=é\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        assert_eq!(&*decode(&bytes), "key=é\n".as_bytes());
        assert!(!is_binary(&decode(&bytes)));
        assert!(is_binary(&bytes));
    }
}
