//! What a blob's bytes are, before any matching: decoding (UTF-16 with a BOM
//! becomes UTF-8), binary detection, Git LFS pointers and the size limit.
//! Sources decide what to read; this decides how bytes are looked at. No
//! matcher: `pipeline::BlobStep` matches what this lets through.

use std::borrow::Cow;

use crate::stats::SkipReason;

/// What to do with a blob.
#[derive(Debug)]
pub enum Class<'a> {
    /// Text to match (decoded when the bytes were UTF-16).
    Text(Cow<'a, [u8]>),
    /// Not scanned, and why.
    Skip(SkipReason),
}

/// Classifies `bytes`: over `max` bytes → too large; a Git LFS pointer →
/// skipped (the content lives elsewhere); decoded; binary → skipped.
/// `explicit` content (named on the command line, standard input) is only
/// decoded: the user asked for it.
pub fn classify(bytes: &[u8], max: u64, explicit: bool) -> Class<'_> {
    if explicit {
        return Class::Text(decode(bytes));
    }
    if bytes.len() as u64 > max {
        return Class::Skip(SkipReason::TooLarge);
    }
    if is_lfs_pointer(bytes) {
        return Class::Skip(SkipReason::LfsPointer);
    }
    let text = decode(bytes);
    if is_binary(&text) {
        return Class::Skip(SkipReason::Binary);
    }
    Class::Text(text)
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
            Class::Text(_) => None,
        };
        assert_eq!(skip(lfs, 1 << 20), Some(SkipReason::LfsPointer));
        assert_eq!(skip(b"a\0b", 1 << 20), Some(SkipReason::Binary));
        assert_eq!(skip(b"abcd", 3), Some(SkipReason::TooLarge));
        assert_eq!(skip(b"abc", 3), None);
        // Named on the command line: only decoded.
        assert!(matches!(classify(b"a\0bcd", 3, true), Class::Text(_)));
        assert!(matches!(classify(lfs, 3, true), Class::Text(_)));
    }
}
