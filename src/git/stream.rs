//! A blob read as a stream, for blobs too large to hold in memory: a loose
//! object is inflated from its file as it is read, a whole (undeltified)
//! pack entry from the mapped pack, and a delta chain is applied as it is
//! read (`chain`, which also opens packed blobs for both object readers).
//! The content is exactly the size the object declares: a stream that ends
//! early, or a loose object holding more than it declares, is an error
//! naming the object.

use std::io::{self, BufRead, Read};
use std::path::PathBuf;

use super::oid::ObjectId as Oid;
use flate2::read::ZlibDecoder;

use super::odb::ReadError;

/// Blobs larger than this are read as a stream wherever the object store
/// can stream them (the scan goes window by window: `BlobStep::scan_stream`).
pub const STREAM_OVER: u64 = 64 << 20;

/// Bytes of a blob, `size` of them, read in order.
pub struct BlobStream<'a> {
    size: u64,
    left: u64,
    inner: Inner<'a>,
    what: String,
}

enum Inner<'a> {
    Loose(ZlibDecoder<Box<dyn BufRead + 'a>>),
    Packed(ZlibDecoder<&'a [u8]>),
    Delta(Box<super::chain::Apply<'a>>),
}

impl<'a> BlobStream<'a> {
    /// The content of a whole pack entry: its zlib stream starts at
    /// `stream[0]` and inflates to `size` bytes.
    pub(crate) fn packed(oid: Oid, size: u64, stream: &'a [u8]) -> BlobStream<'a> {
        BlobStream {
            size,
            left: size,
            inner: Inner::Packed(ZlibDecoder::new(stream)),
            what: format!("object {oid} (packed)"),
        }
    }

    /// A delta chain applied as it is read, giving `size` bytes.
    pub(crate) fn delta(
        oid: Oid,
        size: u64,
        apply: Box<super::chain::Apply<'a>>,
    ) -> BlobStream<'a> {
        BlobStream {
            size,
            left: size,
            inner: Inner::Delta(apply),
            what: format!("object {oid} (packed, a delta chain)"),
        }
    }

    /// A loose object's file (`src`), its header read: `None` when the
    /// object is not a blob. `bound` is the most bytes the file's size can
    /// inflate to.
    pub(crate) fn loose(
        oid: Oid,
        src: Box<dyn BufRead + 'a>,
        bound: u64,
    ) -> Result<Option<BlobStream<'a>>, ReadError> {
        let what = format!("object {oid} (loose)");
        let err = |e: &str| ReadError(format!("{what}: {e}"));
        let mut z = ZlibDecoder::new(src);
        // `TYPE SIZE\0`: at most 40 bytes, read one at a time.
        let mut header = Vec::with_capacity(40);
        let mut byte = [0u8; 1];
        loop {
            match z.read(&mut byte) {
                Ok(1) if byte[0] == 0 => break,
                Ok(1) if header.len() < 40 => header.push(byte[0]),
                Ok(1) => return Err(err("no object header")),
                Ok(_) => return Err(err("corrupt or truncated zlib stream")),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(err("corrupt or truncated zlib stream")),
            }
        }
        let header = std::str::from_utf8(&header).map_err(|_| err("bad object header"))?;
        let (kind, size) = header
            .split_once(' ')
            .ok_or_else(|| err("bad object header"))?;
        if !["commit", "tree", "blob", "tag"].contains(&kind) {
            return Err(err(&format!(
                "unknown object type `{}`",
                kind.escape_default().take(40).collect::<String>()
            )));
        }
        let size: u64 = size
            .parse()
            .ok()
            .filter(|_| !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| err("bad object size"))?;
        if size > bound {
            return Err(err("inflates to more than the file can hold"));
        }
        if kind != "blob" {
            return Ok(None);
        }
        Ok(Some(BlobStream {
            size,
            left: size,
            inner: Inner::Loose(z),
            what,
        }))
    }

    /// Blob `oid` stored loose in the first of `dirs` that holds it, as a
    /// stream when it is larger than `over`. `None`: no directory holds it
    /// loose, it is not a blob, or it is not larger than `over` (a file too
    /// small to inflate past `over` is not read).
    pub(crate) fn find_loose(
        oid: Oid,
        dirs: &[PathBuf],
        over: u64,
    ) -> Result<Option<BlobStream<'static>>, ReadError> {
        let hex = oid.to_string();
        for dir in dirs {
            match std::fs::File::open(dir.join(&hex[..2]).join(&hex[2..])) {
                Ok(f) => {
                    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                    let bound =
                        super::pack::max_inflated(usize::try_from(len).unwrap_or(usize::MAX));
                    if bound <= over {
                        return Ok(None);
                    }
                    let src = Box::new(io::BufReader::new(f));
                    let s = BlobStream::loose(oid, src, bound)?;
                    return Ok(s.filter(|s| s.size() > over));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(ReadError(format!("object {oid}: {e}"))),
            }
        }
        Ok(None)
    }

    /// The blob's size, as its object declares it.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Which of `needles` the rest of the blob holds, read a block at a
    /// time (a needle across two blocks is found: each block keeps the
    /// previous one's last bytes).
    pub fn holds(&mut self, needles: &[&[u8]]) -> io::Result<Vec<bool>> {
        const BLOCK: usize = 1 << 20;
        let keep = needles
            .iter()
            .map(|n| n.len())
            .max()
            .unwrap_or(0)
            .saturating_sub(1);
        let mut found = vec![false; needles.len()];
        let mut buf = Vec::with_capacity(BLOCK + keep);
        loop {
            let at = buf.len();
            buf.resize(at + BLOCK, 0);
            let n = self.read(&mut buf[at..])?;
            buf.truncate(at + n);
            for (f, n) in found.iter_mut().zip(needles) {
                *f = *f || memchr::memmem::find(&buf, n).is_some();
            }
            if n == 0 || found.iter().all(|&f| f) {
                return Ok(found);
            }
            let cut = buf.len().saturating_sub(keep);
            buf.drain(..cut);
        }
    }

    fn short(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: corrupt or truncated zlib stream ({} of {} bytes inflated)",
                self.what,
                self.size - self.left,
                self.size
            ),
        )
    }
}

impl Read for BlobStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        // A delta's error says what is wrong; an inflater's is damage.
        let got = match &mut self.inner {
            Inner::Loose(z) => z.read(&mut buf[..want]).map_err(|_| None),
            Inner::Packed(z) => z.read(&mut buf[..want]).map_err(|_| None),
            Inner::Delta(a) => a.read_top(&mut buf[..want]).map_err(Some),
        }
        .map_err(|e| match e {
            Some(e) => io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", self.what)),
            None => self.short(),
        })?;
        if got == 0 {
            return Err(self.short());
        }
        self.left -= got as u64;
        if self.left == 0 {
            // A loose object must end where it says it does.
            if let Inner::Loose(z) = &mut self.inner {
                let mut extra = [0u8; 1];
                if !matches!(z.read(&mut extra), Ok(0)) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{}: holds more than the {} bytes it declares",
                            self.what, self.size
                        ),
                    ));
                }
            }
        }
        Ok(got)
    }
}

/// The fuzzing check of a loose object file (zlib stream of `TYPE
/// SIZE\0content`), read whole and as a stream: a blob the whole read
/// accepts streams to the same bytes, and a stream never gives more or
/// fewer bytes than it declares. Panics on a disagreement (that is the
/// finding a fuzzer reports).
pub fn fuzz_whole_and_streamed(data: &[u8]) {
    let whole = super::guard::parse_loose(data);
    let bound = super::pack::max_inflated(data.len());
    let streamed = BlobStream::loose(Oid::zero(), Box::new(data), bound)
        .ok()
        .flatten()
        .map(|mut s| {
            let size = s.size();
            let mut out = Vec::new();
            let r = s.read_to_end(&mut out);
            if r.is_ok() {
                assert_eq!(out.len() as u64, size, "streamed the declared size");
            }
            r.map(|_| out)
        });
    if let Ok((git2::ObjectType::Blob, content)) = whole {
        match streamed {
            Some(Ok(out)) => assert_eq!(out, content, "stream and whole read agree"),
            other => panic!(
                "a blob read whole does not stream: {:?}",
                other.map(|r| r.map(|v| v.len()))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut out = vec![0; c.zlib_compress_bound(data.len())];
        let n = c.zlib_compress(data, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn loose(raw: &[u8]) -> Result<Option<BlobStream<'_>>, ReadError> {
        let bound = super::super::pack::max_inflated(raw.len());
        BlobStream::loose(Oid::zero(), Box::new(raw), bound)
    }

    #[test]
    fn loose_blobs_stream_their_declared_bytes() {
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut obj = format!("blob {}\0", body.len()).into_bytes();
        obj.extend_from_slice(&body);
        let z = zlib(&obj);
        let mut s = loose(&z).unwrap().unwrap();
        assert_eq!(s.size(), body.len() as u64);
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
        // Not a blob: read whole by the caller.
        assert!(loose(&zlib(b"tree 0\0")).unwrap().is_none());
        // Damage: each an error, never more or fewer bytes than declared.
        for (raw, want) in [
            (zlib(b"blob 5\0abc"), "truncated"),
            (zlib(b"blob 2\0abc"), "more than"),
            (zlib(b"blub 3\0abc"), "unknown object type"),
            (zlib(b"blob x\0abc"), "bad object size"),
            (z[..z.len() / 2].to_vec(), "truncated"),
        ] {
            let e = match loose(&raw) {
                Err(e) => e.0,
                Ok(s) => {
                    let mut out = Vec::new();
                    s.unwrap().read_to_end(&mut out).unwrap_err().to_string()
                }
            };
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn holds_finds_needles_across_blocks() {
        let mut body = vec![b'.'; 3 << 20];
        let at = (1 << 20) - 3;
        body[at..at + 6].copy_from_slice(b"SECRET");
        let mut obj = format!("blob {}\0", body.len()).into_bytes();
        obj.extend_from_slice(&body);
        let z = zlib(&obj);
        let found = loose(&z)
            .unwrap()
            .unwrap()
            .holds(&[b"SECRET", b"OTHER"])
            .unwrap();
        assert_eq!(found, [true, false]);
    }
}
