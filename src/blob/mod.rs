//! What a blob's bytes are, before any matching: decoding (UTF-16, with a
//! BOM or told by its shape, becomes UTF-8), binary detection, Git LFS
//! pointers and the size limit.
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
/// skipped (the content lives elsewhere); UTF-16, by its byte-order mark or
/// its shape (`utf16_shape`), → decoded, and the raw bytes matched as binary
/// too (bytes without a single NUL cannot be UTF-16 text with any ASCII in
/// it, so they are scanned as they are); another NUL byte → binary. `explicit`
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
    if has_nul {
        // UTF-16 with a byte-order mark, or shaped like it without one.
        let le = match bytes {
            [0xFF, 0xFE, ..] => Some(true),
            [0xFE, 0xFF, ..] => Some(false),
            _ => utf16_shape(bytes),
        };
        let Some(le) = le else {
            return if explicit {
                Class::Text(Cow::Borrowed(bytes))
            } else {
                Class::Binary(bytes)
            };
        };
        let text = decode_utf16(bytes, le);
        return if explicit || !is_binary(&text) {
            Class::Both(text, bytes)
        } else {
            Class::Binary(bytes)
        };
    }
    Class::Text(Cow::Borrowed(bytes))
}

/// How many leading bytes `utf16_shape` looks at.
const SHAPE_SAMPLE: usize = 4096;

/// UTF-16 without a byte-order mark, told by its shape: text that is mostly
/// ASCII (as secrets and the lines around them are) has a NUL in every
/// other byte, the second of each pair little-endian, the first big-endian.
/// `Some(true)` for little-endian. Looks at the first `SHAPE_SAMPLE` bytes:
/// at least three quarters of the pairs with the NUL on one side, at most an
/// eighth with it on the other.
fn utf16_shape(bytes: &[u8]) -> Option<bool> {
    let sample = &bytes[..bytes.len().min(SHAPE_SAMPLE) & !1];
    let pairs = sample.len() / 2;
    if pairs < 4 {
        return None;
    }
    let (mut first, mut second) = (0, 0);
    for c in sample.chunks_exact(2) {
        first += (c[0] == 0) as usize;
        second += (c[1] == 0) as usize;
    }
    if second * 4 >= pairs * 3 && first * 8 <= pairs {
        Some(true)
    } else if first * 4 >= pairs * 3 && second * 8 <= pairs {
        Some(false)
    } else {
        None
    }
}

/// A binary blob as text of the same length: printable ASCII, tab, CR and
/// LF kept, every other byte a line break. Offsets are unchanged, tokens
/// never run across binary data, and key blocks keep their lines.
pub fn printable_view(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    printable_into(bytes, &mut out);
    out
}

/// `printable_view` of `bytes` into `out` (cleared first), for a window of
/// a larger blob: the view of a huge binary is built one window at a time.
pub fn printable_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(bytes.iter().map(|&b| match b {
        b'\t' | b'\n' | b'\r' | 0x20..=0x7e => b,
        _ => b'\n',
    }));
}

/// Decodes UTF-16 (LE or BE, with BOM) to UTF-8; other content is returned as is.
pub fn decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    match bytes {
        [0xFF, 0xFE, ..] => decode_utf16(bytes, true),
        [0xFE, 0xFF, ..] => decode_utf16(bytes, false),
        _ => Cow::Borrowed(bytes),
    }
}

/// Decodes UTF-16 in the given byte order to UTF-8, dropping a leading
/// byte-order mark; unpaired surrogates become U+FFFD.
fn decode_utf16(bytes: &[u8], le: bool) -> Cow<'_, [u8]> {
    let body = match bytes {
        [0xFF, 0xFE, rest @ ..] if le => rest,
        [0xFE, 0xFF, rest @ ..] if !le => rest,
        _ => bytes,
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
