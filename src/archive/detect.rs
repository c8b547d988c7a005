//! Whether bytes are an archive, and which kind: by magic bytes, and for the
//! zip family also by name when something precedes the zip (a launcher
//! script before a jar, a self-extracting stub).

/// A container format `archive` can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    /// A container image's config blob (JSON): its strings are matched one
    /// per line (`Env` entries, labels, build history commands), as the
    /// generic rules read `KEY=value` lines and not JSON arrays.
    ImageConfig,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::Tar => "tar",
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Zstd => "zstd",
            Kind::ImageConfig => "image config",
        }
    }
}

/// Names of the zip family (lower case).
const ZIP_NAMES: &[&str] = &[
    ".zip", ".jar", ".war", ".ear", ".aar", ".apk", ".whl", ".egg", ".nupkg", ".vsix", ".xpi",
    ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".ipa", ".kar",
];

/// The archive kind of `bytes`, if any. Cheap: a few byte comparisons, and
/// for zip-family names without the magic, a look at the last 64 KiB.
pub fn detect(bytes: &[u8], name: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        return Some(Kind::Gzip);
    }
    if is_bzip2(bytes) {
        return Some(Kind::Bzip2);
    }
    if bytes.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        return Some(Kind::Xz);
    }
    if bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        return Some(Kind::Zstd);
    }
    if is_tar(bytes) || (has_suffix(name, &[".tar"]) && tar_checksum_ok(bytes)) {
        return Some(Kind::Tar);
    }
    if has_suffix(name, ZIP_NAMES) && has_zip_end(bytes) {
        return Some(Kind::Zip);
    }
    if super::image::is_config(bytes, name) {
        return Some(Kind::ImageConfig);
    }
    None
}

/// `BZh` and a block size, then a block or the end-of-stream magic.
fn is_bzip2(b: &[u8]) -> bool {
    b.len() >= 10
        && b.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&b[3])
        && (b[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || b[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
}

/// A POSIX or GNU tar header: `ustar` at offset 257 and a valid checksum.
pub fn is_tar(b: &[u8]) -> bool {
    b.len() >= 512 && &b[257..262] == b"ustar" && tar_checksum_ok(b)
}

/// The first 512-byte header's checksum (bytes 148..156, octal) matches.
fn tar_checksum_ok(b: &[u8]) -> bool {
    if b.len() < 512 {
        return false;
    }
    let field = &b[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|c| *c == b' ')
        .take_while(|c| (b'0'..=b'7').contains(c))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Ok(want) = u32::from_str_radix(std::str::from_utf8(&digits).unwrap_or("x"), 8) else {
        return false;
    };
    let sum: u32 = b[..512]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(c)
            }
        })
        .sum();
    sum == want
}

/// A zip end-of-central-directory record in the last 64 KiB (+ its size).
fn has_zip_end(b: &[u8]) -> bool {
    let from = b.len().saturating_sub((64 << 10) + 22);
    memchr::memmem::rfind(&b[from..], b"PK\x05\x06").is_some()
}

fn has_suffix(name: &[u8], suffixes: &[&str]) -> bool {
    // No lower-cased copy: this runs for every file scanned.
    suffixes.iter().any(|s| {
        name.len() >= s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
    })
}

/// The name of what a single compressed stream holds: `notes.txt.gz` →
/// `notes.txt`, `pkg.tgz` → `pkg.tar`; the last path component only.
pub fn stem(name: &[u8]) -> Vec<u8> {
    let base = match memchr::memrchr2(b'/', b'\\', name) {
        Some(i) => &name[i + 1..],
        None => name,
    };
    let lower = base.to_ascii_lowercase();
    for (suffix, to) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".tbz", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
    ] {
        if lower.ends_with(suffix.as_bytes()) && base.len() > suffix.len() {
            let mut out = base[..base.len() - suffix.len()].to_vec();
            out.extend_from_slice(to.as_bytes());
            return out;
        }
    }
    base.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(detect(b"PK\x03\x04rest", b"x.bin"), Some(Kind::Zip));
        assert_eq!(detect(&[0x1f, 0x8b, 0x08, 0], b"x"), Some(Kind::Gzip));
        assert_eq!(detect(b"BZh91AY&SYxx", b"x"), Some(Kind::Bzip2));
        assert_eq!(detect(b"BZh is a word in text", b"x.bz2"), None);
        assert_eq!(detect(b"plain text", b"x.zip"), None);
        // A launcher script before a jar: found by name and the end record.
        let mut jar = b"#!/bin/sh\nexec java -jar \"$0\"\n".to_vec();
        jar.extend_from_slice(b"PK\x05\x06");
        jar.extend_from_slice(&[0; 18]);
        assert_eq!(detect(&jar, b"app.jar"), Some(Kind::Zip));
        assert_eq!(detect(&jar, b"app.sh"), None);
    }

    #[test]
    fn tar_headers_need_a_valid_checksum() {
        let mut h = vec![0u8; 512];
        h[..5].copy_from_slice(b"a.txt");
        h[257..263].copy_from_slice(b"ustar\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&c| u32::from(c)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        assert!(is_tar(&h));
        h[0] = b'b';
        assert!(!is_tar(&h));
    }

    #[test]
    fn stems() {
        assert_eq!(stem(b"dir/notes.txt.gz"), b"notes.txt");
        assert_eq!(stem(b"pkg-1.0.tgz"), b"pkg-1.0.tar");
        assert_eq!(stem(b"blob"), b"blob");
    }
}
