//! What a blob's bytes are, before any matching: decoding (UTF-16 with a BOM
//! becomes UTF-8), binary detection, Git LFS pointers and the size limit.
//! Sources decide what to read; this decides how bytes are looked at. No
//! matcher: `pipeline::BlobStep` matches what this lets through.

use std::borrow::Cow;

use crate::stats::SkipReason;

/// What to match in a blob.
#[derive(Debug)]
pub enum Class<'a> {
    /// Text to match with every rule (decoded when the bytes were UTF-16).
    Text(Cow<'a, [u8]>),
    /// Binary (a NUL byte): its printable runs are matched with the rules
    /// that need no context (`printable_view`).
    Binary(&'a [u8]),
    /// A UTF-16 byte-order mark on bytes with NULs: the decoded text and,
    /// in case the mark lies, the raw bytes as binary. A two-byte prefix must
    /// not hide a secret.
    Both(Cow<'a, [u8]>, &'a [u8]),
    /// Not scanned, and why.
    Skip(SkipReason),
}

/// Classifies `bytes`: over `max` bytes → too large; a Git LFS pointer →
/// skipped (the content lives elsewhere); a UTF-16 byte-order mark → decoded
/// (but bytes without a single NUL cannot be UTF-16 text with any ASCII in
/// it, so they are scanned as they are); a NUL byte → binary. `explicit`
/// content (named on the command line, standard input) is never skipped and
/// never treated as binary: the user asked for it.
pub fn classify(bytes: &[u8], max: u64, explicit: bool) -> Class<'_> {
    if !explicit && bytes.len() as u64 > max {
        return Class::Skip(SkipReason::TooLarge);
    }
    if !explicit && is_lfs_pointer(bytes) {
        return Class::Skip(SkipReason::LfsPointer);
    }
    let has_nul = is_binary(bytes);
    if has_bom(bytes) && has_nul {
        let text = decode(bytes);
        return if explicit || !is_binary(&text) {
            Class::Both(text, bytes)
        } else {
            Class::Binary(bytes)
        };
    }
    if has_nul && !explicit {
        return Class::Binary(bytes);
    }
    Class::Text(Cow::Borrowed(bytes))
}

/// Starts with a UTF-16 byte-order mark.
fn has_bom(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])
}

/// A binary blob as text of the same length: printable ASCII, tab, CR and
/// LF kept, every other byte a line break. Offsets are unchanged, tokens
/// never run across binary data, and key blocks keep their lines.
pub fn printable_view(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| match b {
            b'\t' | b'\n' | b'\r' | 0x20..=0x7e => b,
            _ => b'\n',
        })
        .collect()
}

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

    #[test]
    fn classify_checks_size_lfs_then_binary() {
        let lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 3\n";
        let skip = |b: &[u8], max| match classify(b, max, false) {
            Class::Skip(r) => Some(r),
            _ => None,
        };
        assert_eq!(skip(lfs, 1 << 20), Some(SkipReason::LfsPointer));
        assert_eq!(skip(b"abcd", 3), Some(SkipReason::TooLarge));
        assert_eq!(skip(b"abc", 3), None);
        assert!(matches!(
            classify(b"a\0b", 1 << 20, false),
            Class::Binary(_)
        ));
        // Named on the command line: never skipped, never binary.
        assert!(matches!(classify(b"a\0bcd", 3, true), Class::Text(_)));
        assert!(matches!(classify(lfs, 3, true), Class::Text(_)));
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_text() {
        // FF FE before plain ASCII: not UTF-16 (no NUL), scanned as it is.
        let raw = b"\xff\xfeAWS_KEY=value\n";
        assert!(matches!(classify(raw, 1 << 20, false), Class::Text(t) if &*t == raw));
        // Real UTF-16: decoded, and the raw bytes looked at as binary too.
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "key=1\n".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        match classify(&utf16, 1 << 20, false) {
            Class::Both(text, raw) => {
                assert_eq!(&*text, b"key=1\n");
                assert_eq!(raw, &utf16[..]);
            }
            other => panic!("{other:?}"),
        }
        // A mark and one NUL on ASCII: the decoding is garbage, so the bytes
        // are also scanned as binary.
        let odd = b"\xff\xfeghp_abc\0def";
        assert!(matches!(classify(odd, 1 << 20, false), Class::Both(..)));
    }

    #[test]
    fn printable_view_keeps_offsets() {
        assert_eq!(printable_view(b"ab\0c\xffd\te\n"), b"ab\nc\nd\te\n");
    }
}
