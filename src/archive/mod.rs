//! Archives, packages and container images opened in memory, so that what
//! ships is scanned like what is committed: the zip family (jars, wheels,
//! Office files), the tar family, single compressed streams (gzip, bzip2,
//! xz, zstd) and image layouts (OCI, `docker save`), nested to a bounded
//! depth. Nothing is written to disk; every read is bounded by `Limits`.
//! No matcher: `pipeline::BlobStep` matches each file this hands it.

mod detect;
mod image;
mod stream;
mod tar;
mod walk;
mod zip;

pub use detect::{detect, Kind};

use crate::paths::PathBytes;

/// How far an archive is opened. The defaults are far above what real
/// packages need (see README: a jar in a war in a zip is depth 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Containers inside containers, the outermost being 1.
    pub max_depth: u32,
    /// Entries (files, directories, links) in one archive, nested ones included.
    pub max_entries: u64,
    /// Bytes decompressed from one archive, nested ones included.
    pub max_bytes: u64,
    /// Decompressed bytes per byte of the archive, once past `RATIO_FLOOR`.
    pub max_ratio: u64,
    /// The largest file inside an archive that is read (and scanned); larger
    /// ones are counted as too large, like walked files over the limit.
    pub max_entry_size: u64,
}

/// An archive may always expand to this many bytes, whatever its ratio:
/// small archives of repetitive text are not bombs.
pub const RATIO_FLOOR: u64 = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_entries: 1_000_000,
            max_bytes: 8 << 30,
            max_ratio: 200,
            max_entry_size: 10 << 20,
        }
    }
}

/// A file inside an archive, handed to the caller to scan.
pub struct Entry<'a> {
    /// Names from the outermost archive inwards (the archive's own path not
    /// included): `["app/settings.py"]`, `["WEB-INF/lib/a.jar", "a.env"]`.
    pub chain: &'a [PathBytes],
    /// The image layer holding it (`sha256:…`), inside a container image.
    pub layer: Option<&'a str>,
    pub data: &'a [u8],
}

/// Part of an archive that could not be read: where (`chain` as in
/// `Entry`, empty for the archive itself) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub chain: Vec<PathBytes>,
    pub reason: String,
}

/// What opening one archive gave besides its entries.
#[derive(Debug, Default)]
pub struct Report {
    /// Files inside handed to the caller.
    pub files: u64,
    /// Files over `max_entry_size`, not read: (count, their declared bytes).
    pub too_large: (u64, u64),
    /// Symbolic links (not followed; a hard link's content is its
    /// target's, read where that is, and not counted).
    pub links: u64,
    /// Encrypted, corrupt, or over a limit: each makes the run exit 2.
    pub failures: Vec<Failure>,
    /// The outermost container could not even be opened (its raw bytes
    /// should be scanned as they are).
    pub unopened: bool,
}

/// Opens `bytes` (an archive of `kind`, named `name`) and calls `visit` for
/// every file inside, nested archives opened in turn.
pub fn open(
    bytes: &[u8],
    kind: Kind,
    name: &[u8],
    limits: &Limits,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Report {
    walk::Walk::run(bytes, kind, name, limits, visit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn small_zip() -> Vec<u8> {
        let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = ::zip::write::SimpleFileOptions::default()
            .compression_method(::zip::CompressionMethod::Deflated);
        w.start_file("a/b.txt", opts).unwrap();
        w.write_all(b"hello hello hello hello\n").unwrap();
        w.start_file("c.txt", opts).unwrap();
        w.write_all(b"world\n").unwrap();
        w.finish().unwrap().into_inner()
    }

    fn small_tgz() -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        let data = b"hello tar\n";
        let mut h = ::tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append_data(&mut h, "p/x.txt", &data[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn files(bytes: &[u8]) -> (Vec<String>, Report) {
        let mut seen = Vec::new();
        let Some(kind) = detect(bytes, b"x") else {
            return (seen, Report::default());
        };
        let report = open(bytes, kind, b"x", &Limits::default(), &mut |e| {
            let names: Vec<String> = e.chain.iter().map(|p| p.as_str_lossy().into()).collect();
            seen.push(names.join("!"));
        });
        (seen, report)
    }

    #[test]
    fn opens_zip_and_tgz() {
        assert_eq!(files(&small_zip()).0, ["a/b.txt", "c.txt"]);
        assert_eq!(files(&small_tgz()).0, ["p/x.txt"]);
    }

    /// Damaged archives (every byte flipped in turn, every truncation) never
    /// panic, and when fewer files come out, a failure says why (or they
    /// are counted: too large, links).
    #[test]
    fn damage_never_panics() {
        for good in [small_zip(), small_tgz()] {
            let whole = files(&good).0.len();
            for i in 0..good.len() {
                let mut bad = good.clone();
                bad[i] ^= 0xA5;
                let (seen, report) = files(&bad);
                let counted = seen.len() as u64 + report.too_large.0 + report.links;
                if detect(&bad, b"x").is_some() && counted < whole as u64 {
                    assert!(!report.failures.is_empty(), "byte {i}: files lost silently");
                }
                let _ = files(&good[..i]);
            }
        }
    }
}
